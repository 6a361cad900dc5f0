/**
 * Where sessions actually run. Three drivers implement it: `simulated`
 * (state changes after short delays, clearly labelled), `local` (a TigerVNC
 * Xvnc display per session on this machine; `auto`, the default, picks it
 * when Xvnc is on the PATH) and `kubernetes` (one Deployment, Service and
 * home PVC per session).
 * The sessions service calls the commands and consumes `changes`, the stream
 * of states the driver observed, to move sessions between states.
 *
 * Endpoint policy: the endpoint of a running session is the only place the
 * VNC proxy connects to, so a driver reports only endpoints it controls —
 * the simulated driver its own stand-in VNC server, the local driver the
 * loopback port of the Xvnc it started, the Kubernetes driver the session's Service — never an address taken from user input.
 */
import type { StandInVncServer } from "@streamspace/rfb"
import { Context, Data, type Effect, type Stream } from "effect"

export type RuntimeKind = "simulated" | "local" | "kubernetes"

/** A running desktop of the `local` driver (tests look behind the API with it). */
export interface LocalDesktop {
  readonly display: number
  /** The RFB port on 127.0.0.1 (the session's endpoint). */
  readonly port: number
  /** Xvnc, the window manager, the program: each leads a process group of its own. */
  readonly pids: ReadonlyArray<number>
  readonly home: string
}

export interface SessionWorkload {
  readonly sessionId: string
  readonly userId: string
  readonly username: string
  readonly templateName: string
  readonly image: string
  /** millicores */
  readonly cpu: number
  /** MiB */
  readonly memory: number
  readonly vncPort: number
  readonly ports: ReadonlyArray<number>
  readonly env: Readonly<Record<string, string>>
  readonly persistentHome: boolean
  /** Node labels the workload must run on (from `session.placement` hooks). */
  readonly nodeSelector: Readonly<Record<string, string>>
}

/** How a hibernated session comes back: placement runs again at each wake. */
export interface WakeOptions {
  /**
   * Node labels the workload must run on from now on (from `session.placement` hooks): it replaces the
   * selector chosen before, whose node may have been cordoned, drained or filled meanwhile.
   */
  readonly nodeSelector: Readonly<Record<string, string>>
}

export type ObservedState = "pending" | "running" | "hibernated" | "terminated" | "failed"

export interface ObservedStatus {
  readonly sessionId: string
  readonly state: ObservedState
  readonly reason?: string
  /** host:port the VNC proxy connects to, when running (see the endpoint policy above). */
  readonly endpoint?: { readonly host: string; readonly port: number }
}

export class RuntimeError extends Data.TaggedError("RuntimeError")<{
  readonly operation: string
  readonly sessionId: string
  readonly message: string
  /** true when retrying later may succeed (API server down, conflict). */
  readonly retryable: boolean
}> {}

/** What every driver does. */
export interface RuntimeCommands {
  readonly create: (workload: SessionWorkload) => Effect.Effect<void, RuntimeError>
  /** Scale to zero, keeping the home volume. */
  readonly hibernate: (sessionId: string) => Effect.Effect<void, RuntimeError>
  readonly wake: (sessionId: string, options: WakeOptions) => Effect.Effect<void, RuntimeError>
  /** Removes the workload (the user's home volume stays). */
  readonly remove: (sessionId: string) => Effect.Effect<void, RuntimeError>
  readonly status: (sessionId: string) => Effect.Effect<ObservedStatus, RuntimeError>
  /** Every state change the driver observes (watch events, timers, resyncs). */
  readonly changes: Stream.Stream<ObservedStatus>
}

export class SessionRuntime extends Context.Tag("@streamspace/core/SessionRuntime")<
  SessionRuntime,
  | (RuntimeCommands & {
      readonly kind: "simulated"
      /** The stand-in VNC server of a running session: what its desktop received (tests read it). */
      readonly desktop: (sessionId: string) => StandInVncServer.StandInVncServer | undefined
    })
  | (RuntimeCommands & {
      readonly kind: "local"
      /** The desktop of a running session: its display, port, processes and home. */
      readonly desktop: (sessionId: string) => LocalDesktop | undefined
    })
  | (RuntimeCommands & { readonly kind: "kubernetes" })
>() {}

/**
 * Which driver runs and why (`sessions.runtime: auto` resolves once at start): what the console shows
 * next to sessions, with the packages that would give real desktops when they are simulated for want of Xvnc.
 */
export class RuntimeSelection extends Context.Tag("@streamspace/core/RuntimeSelection")<
  RuntimeSelection,
  {
    readonly configured: RuntimeKind | "auto"
    readonly kind: RuntimeKind
    readonly why: string
    /** The command that installs real desktops, when installing them would change the runtime. */
    readonly installHint: string | undefined
  }
>() {}
