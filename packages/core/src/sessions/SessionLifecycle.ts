/**
 * What the orchestrator does with a session, as pure rules: which runtime
 * command a claimed session needs, what a runtime error leads to (retry
 * with backoff, fail, or end a session being deleted), which transition an
 * observed runtime state applies and which event it emits, and when idle or
 * stuck sessions are due. SessionOrchestrator does the I/O.
 */
import type { CoreEventType } from "../events/CoreEvents.ts"
import type { SessionsConfig } from "../ServerConfig.ts"
import type { DesiredState, SessionState } from "./SessionModel.ts"
import type { Transition, TransitionEvents } from "./SessionRepo.ts"
import type { ObservedStatus } from "./SessionRuntime.ts"

/** How long a replica holds a session it acts on: other replicas claim it once the lease ran out. */
export const LEASE_MS = 60_000

/** The lease of a session taken at `at`. */
export const leaseFrom = (at: Date): Date => new Date(at.getTime() + LEASE_MS)

/**
 * How long a command that went through waits for the runtime's report before it is marked submitted in
 * the database. Most reports come sooner, and their transition clears the lease and the mark at once, so
 * a session's row is written once per real transition; well inside the lease, so no other replica claims
 * a session whose command is on its way.
 */
export const SUBMIT_GRACE_MS = LEASE_MS / 4

/** Runtime attempts before a session fails (or, being deleted, ends anyway). */
export const MAX_ATTEMPTS = 5

/** Delay before the next attempt: one second, doubling, at most 30 s. */
export const backoffMs = (attempt: number): number => Math.min(30_000, 1000 * 2 ** (attempt - 1))

const live: ReadonlyArray<SessionState> = ["pending", "running", "hibernated"]

const eventOf: Partial<Record<`${SessionState}>${SessionState}`, CoreEventType>> = {
  "pending>running": "session.started",
  "hibernated>running": "session.woken",
  "running>hibernated": "session.hibernated"
}

/** The event a transition emits, unless the transition names its own. */
export const transitionEvent = (prev: SessionState, to: SessionState): CoreEventType | undefined =>
  eventOf[`${prev}>${to}`]

export type Command = "remove" | "create" | "hibernate" | "wake" | "none"

/** The runtime command that moves a claimed session towards what its user asked for. */
export const commandFor = (row: { readonly state: SessionState; readonly desired: DesiredState }): Command =>
  row.desired === "terminated"
    ? "remove"
    : row.state === "pending"
      ? "create"
      : row.desired === "hibernated"
        ? "hibernate"
        : row.desired === "running"
          ? "wake"
          : "none"

/** A state change the orchestrator applies, with the event it emits when it lands (default: `transitionEvent`). */
export interface Move {
  readonly transition: Omit<Transition, "id" | "at">
  readonly event?: CoreEventType
}

/** The event `m` writes, by each state it may leave. */
export const eventsOf = (m: Move): TransitionEvents =>
  m.transition.from.flatMap((prev) => {
    const type = m.event ?? transitionEvent(prev, m.transition.to)
    return type ? [{ prev, type }] : []
  })

/** Moving a session being deleted to `terminated` (after its workload went, or could not be removed). */
export const ended = (reason?: string): Move => ({
  transition: {
    from: live,
    to: "terminated",
    desired: ["terminated"],
    ...(reason === undefined ? { endpoint: null } : { reason })
  },
  event: "session.deleted"
})

export const failed = (reason: string): Move => ({
  transition: { from: live, to: "failed", reason },
  event: "session.failed"
})

export type ErrorOutcome =
  | { readonly _tag: "Retry"; readonly attempts: number; readonly delayMs: number }
  | { readonly _tag: "Fail"; readonly reason: string }
  | { readonly _tag: "End"; readonly reason: string }

/** After a runtime command failed on its `attempts - 1`-th previous attempts. */
export const afterRuntimeError = (
  row: { readonly desired: DesiredState; readonly attempts: number },
  error: { readonly operation: string; readonly message: string; readonly retryable: boolean }
): ErrorOutcome => {
  const attempts = row.attempts + 1
  if (error.retryable && attempts < MAX_ATTEMPTS) return { _tag: "Retry", attempts, delayMs: backoffMs(attempts) }
  // The workload may be gone already; the user asked for it to end, so end the record.
  if (row.desired === "terminated") return { _tag: "End", reason: `runtime: ${error.message}` }
  return { _tag: "Fail", reason: `${error.operation} failed after ${attempts} attempt(s): ${error.message}` }
}

/** What a state the runtime observed does to the session: a move, a failure, or nothing. */
export const observed = (status: ObservedStatus): Move | undefined => {
  const endpoint = status.endpoint ? `${status.endpoint.host}:${status.endpoint.port}` : undefined
  switch (status.state) {
    case "running":
      return {
        transition: {
          from: ["pending", "hibernated"],
          to: "running",
          desired: ["running"],
          ...(endpoint ? { endpoint } : {})
        }
      }
    case "hibernated":
      return { transition: { from: ["running"], to: "hibernated", desired: ["hibernated"], endpoint: null } }
    case "failed":
      return failed(status.reason ?? "the runtime reported a failure")
    case "terminated":
      return {
        transition: {
          from: live,
          to: "terminated",
          desired: ["running", "hibernated"],
          reason: status.reason ?? "stopped by the runtime",
          endpoint: null
        },
        event: "session.stopped"
      }
    case "pending":
      return undefined
  }
}

/** Sessions running without activity since `idleBefore` hibernate; those pending since `stuckBefore` fail. */
export const sweepCutoffs = (
  at: Date,
  config: Pick<typeof SessionsConfig.Type, "idleTimeoutSeconds" | "startTimeoutSeconds">
) => ({
  idleBefore: new Date(at.getTime() - config.idleTimeoutSeconds * 1000),
  stuckBefore: new Date(at.getTime() - config.startTimeoutSeconds * 1000)
})
