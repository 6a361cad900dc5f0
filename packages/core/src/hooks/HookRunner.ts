/**
 * Synchronous extension points the core calls before it acts. A hook may
 * amend the input or veto (a `Forbidden` naming the plugin and its reason,
 * which reaches the caller as 403). The core alone runs `HookRunnerNone`;
 * the plugin kernel provides the real runner (ordering, timeouts, policies).
 */
import { Context, Effect, Layer } from "effect"
import type { Forbidden } from "../Errors.ts"

export interface HookInputs {
  readonly "session.beforeCreate": {
    readonly userId: string
    readonly templateId: string
    readonly templateName: string
    readonly cpu: number
    readonly memory: number
    readonly persistentHome: boolean
    /** The reason the user gave for the session (`reason` of the launch request), null when none. */
    readonly reason: string | null
  }
  readonly "user.beforeLogin": {
    readonly userId: string
    readonly username: string
    readonly ip: string
    /** Whether the user signed in with a second factor (TOTP or a recovery code). */
    readonly mfa: boolean
  }
  readonly "file.beforeUpload": {
    readonly userId: string
    readonly sessionId: string | null
    readonly name: string
    readonly size: number | null
    readonly contentType: string
  }
  /**
   * Node selection for a session's workload: plugins add selectors/tolerations. Runs when the session is
   * created and again each time it wakes (same input, `nodeSelector` empty): the answer replaces the
   * workload's selector, so a node cordoned or full meanwhile is not kept.
   */
  readonly "session.placement": {
    readonly sessionId: string
    readonly userId: string
    /** The session's size (millicores, MiB), for placement by resources. */
    readonly cpu: number
    readonly memory: number
    readonly nodeSelector: Readonly<Record<string, string>>
  }
  /**
   * An upload's bytes are stored but not yet committed: plugins may inspect
   * the contents (`head(n)`: at most the first n bytes) and veto. A veto
   * deletes the stored bytes; nothing is recorded.
   */
  readonly "file.inspectUpload": FileContent
  /** A download is about to be answered: plugins may inspect the contents (`head(n)`) and veto. */
  readonly "file.beforeDownload": FileContent
}

/** A stored file offered to content hooks; `userId` is the acting user, `ownerId` the file's owner. */
export interface FileContent {
  readonly userId: string
  readonly ownerId: string
  readonly sessionId: string | null
  readonly fileId: string
  readonly name: string
  readonly size: number
  readonly contentType: string
  readonly sha256: string
  /** Reads at most the first `maxBytes` bytes of the contents. */
  readonly head: (maxBytes: number) => Effect.Effect<Uint8Array>
}

export type HookPoint = keyof HookInputs

export const hookPoints: ReadonlyArray<HookPoint> = [
  "session.beforeCreate",
  "user.beforeLogin",
  "file.beforeUpload",
  "session.placement",
  "file.inspectUpload",
  "file.beforeDownload"
]

export class HookRunner extends Context.Tag("@streamspace/core/HookRunner")<
  HookRunner,
  {
    /** Runs every enabled interceptor of `point` in order; returns the (possibly amended) input. */
    readonly run: <P extends HookPoint>(point: P, input: HookInputs[P]) => Effect.Effect<HookInputs[P], Forbidden>
    /** Whether an enabled interceptor of `point` exists now (without one, `run` returns its input). */
    readonly intercepted: (point: HookPoint) => boolean
  }
>() {}

/** No plugins: every hook passes its input through unchanged. */
export const HookRunnerNone = Layer.succeed(HookRunner, {
  run: (_point, input) => Effect.succeed(input),
  intercepted: () => false
})
