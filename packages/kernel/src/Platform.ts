/**
 * Platform access a plugin must be granted in its manifest (`grants`):
 *
 * - `kubernetes`: the Kubernetes API the `kubernetes` session runtime talks
 *   to, with the same credentials (kubeconfig, `apiServer` or the in-cluster
 *   service account). Requests go to that API server only: a path is an
 *   absolute API path (`/api/v1/nodes`), never a URL.
 * - `sessions`: hibernating a session through the platform (the same
 *   intent as `POST /api/sessions/:id/hibernate`), as the acting user of
 *   the request, or as the platform in jobs and handlers.
 *
 * - `vnc`: the stream tap over the VNC proxy (`VncTap`, see VncTap.ts): the
 *   parsed RFB messages of a session's connections, clipboard filters, and
 *   FramebufferUpdateRequests sent to its desktop.
 * - `blobs`: blob storage under the plugin's own prefix in the core
 *   BlobStore (local or S3) and sealing with the platform secret
 *   (`PluginBlobs`, see PluginBlobs.ts).
 *
 * - `desktops`: changing a running session's display — `applyMonitors`
 *   resizes its framebuffer to a monitor layout's bounding box and defines
 *   RandR monitors (`xrandr` on the session's DISPLAY, local runtime only),
 *   as the acting user (who must be able to see the session) or the platform.
 *
 * - `posture`: the platform's security posture, read-only (`PlatformPosture`,
 *   see PlatformPosture.ts): MFA enrolment, password and retention settings,
 *   idle timeout, unsealed secret count, last sign-ins, API keys without
 *   expiry, plugin roles' rights on core tables — ids, counts, settings and
 *   times, never credentials.
 *
 * Without its grant every call fails with `PlatformAccessDenied`; apart from
 * `posture`'s fixed read-only statements, nothing here reaches core tables.
 */
import { Context, Data, type Effect } from "effect"

export type PlatformGrant = "kubernetes" | "sessions" | "vnc" | "blobs" | "desktops" | "posture"
export const platformGrants: ReadonlyArray<PlatformGrant> = [
  "kubernetes",
  "sessions",
  "vnc",
  "blobs",
  "desktops",
  "posture"
]

export class PlatformAccessDenied extends Data.TaggedError("PlatformAccessDenied")<{
  readonly plugin: string
  readonly grant: PlatformGrant
  readonly message: string
}> {
  static readonly status = 403
  readonly status = 403
  readonly code = "platform_access_denied"

  /** The refusal of every call a plugin makes to a service of a grant its manifest does not name. */
  static notGranted(plugin: string, grant: PlatformGrant): PlatformAccessDenied {
    return new PlatformAccessDenied({
      plugin,
      grant,
      message: `plugin ${plugin} was not granted "${grant}" in its manifest`
    })
  }
}

/** A failed Kubernetes request: `status` null when no answer came (unreachable, timeout, not configured). */
export class KubernetesError extends Data.TaggedError("KubernetesError")<{
  readonly status: number | null
  readonly reason: string
  readonly message: string
  /** The API server's `Status` document, when it sent one. */
  readonly details?: unknown
}> {}

export class Kubernetes extends Context.Tag("@streamspace/kernel/Kubernetes")<
  Kubernetes,
  {
    /** One JSON request to the API server (`contentType` defaults to `application/json`). */
    readonly request: <A = unknown>(
      method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
      path: string,
      options?: { readonly body?: unknown; readonly contentType?: string }
    ) => Effect.Effect<A, KubernetesError | PlatformAccessDenied>
    /** The namespace of session workloads (`sessions.kubernetes.namespace`). */
    readonly sessionNamespace: string
  }
>() {}

/** Why a session could not be hibernated (`status` is the core's answer: 404, 403, 409). */
export class SessionControlError extends Data.TaggedError("SessionControlError")<{
  readonly sessionId: string
  readonly status: number
  readonly message: string
}> {}

/** A session as `SessionControl` answers it: its id, state and desired state after the request. */
export interface ControlledSession {
  readonly id: string
  readonly state: string
  readonly desired: string
}

export interface LaunchInput {
  readonly templateId: string
  readonly cpu?: number
  readonly memory?: number
  readonly persistentHome?: boolean
}

/**
 * Session actions through the core's own sessions service — the same intents as the HTTP routes, with their
 * checks (access, quotas, `session.beforeCreate` hooks) — each with an audit row naming the plugin. An action
 * runs as the request's user when there is one (their permissions apply), else as the platform
 * (`plugin:<id>`), which may act on any session; `create` always runs as the user it launches for.
 */
export class SessionControl extends Context.Tag("@streamspace/kernel/SessionControl")<
  SessionControl,
  {
    /** Launches a session from a template for `userId`, as that user. A request's user may launch only for themselves unless they hold `sessions:admin`. */
    readonly create: (
      userId: string,
      input: LaunchInput
    ) => Effect.Effect<ControlledSession, SessionControlError | PlatformAccessDenied>
    readonly hibernate: (
      sessionId: string
    ) => Effect.Effect<ControlledSession, SessionControlError | PlatformAccessDenied>
    readonly wake: (sessionId: string) => Effect.Effect<ControlledSession, SessionControlError | PlatformAccessDenied>
    /** The same intent as `DELETE /api/sessions/:id`. */
    readonly delete: (sessionId: string) => Effect.Effect<ControlledSession, SessionControlError | PlatformAccessDenied>
  }
>() {}

/** One monitor of a layout, in desktop pixels. */
export interface DesktopMonitor {
  readonly name: string
  readonly width: number
  readonly height: number
  readonly x: number
  readonly y: number
  readonly primary: boolean
}

/**
 * Why a layout was not applied: 404 / 403 (the session, as the core answers), 409 (not running),
 * 501 (the runtime cannot change displays: simulated, kubernetes), 500 (xrandr failed; `message` says how).
 */
export class DesktopControlError extends Data.TaggedError("DesktopControlError")<{
  readonly sessionId: string
  readonly status: number
  readonly message: string
}> {}

export class DesktopControl extends Context.Tag("@streamspace/kernel/DesktopControl")<
  DesktopControl,
  {
    /** Applies `monitors` to the running session's display; answers the monitors the display reports afterwards. */
    readonly applyMonitors: (
      sessionId: string,
      monitors: ReadonlyArray<DesktopMonitor>
    ) => Effect.Effect<ReadonlyArray<DesktopMonitor>, DesktopControlError | PlatformAccessDenied>
  }
>() {}
