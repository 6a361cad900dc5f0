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
  }
  readonly "user.beforeLogin": { readonly userId: string; readonly username: string; readonly ip: string }
  readonly "file.beforeUpload": {
    readonly userId: string
    readonly sessionId: string | null
    readonly name: string
    readonly size: number | null
    readonly contentType: string
  }
  /** Node selection for a session's workload: plugins add selectors/tolerations. */
  readonly "session.placement": {
    readonly sessionId: string
    readonly userId: string
    readonly nodeSelector: Readonly<Record<string, string>>
  }
}

export type HookPoint = keyof HookInputs

export const hookPoints: ReadonlyArray<HookPoint> = [
  "session.beforeCreate",
  "user.beforeLogin",
  "file.beforeUpload",
  "session.placement"
]

export class HookRunner extends Context.Tag("@streamspace/core/HookRunner")<
  HookRunner,
  {
    /** Runs every enabled interceptor of `point` in order; returns the (possibly amended) input. */
    readonly run: <P extends HookPoint>(point: P, input: HookInputs[P]) => Effect.Effect<HookInputs[P], Forbidden>
  }
>() {}

/** No plugins: every hook passes its input through unchanged. */
export const HookRunnerNone = Layer.succeed(HookRunner, { run: (_point, input) => Effect.succeed(input) })
