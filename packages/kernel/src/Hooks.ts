/**
 * Plugin-scoped interceptors of core actions. A handler returns the (possibly
 * amended) input or fails with `Veto` to refuse. Each registration has an
 * order and a timeout; what a failing or hanging handler means is the hook
 * point's declared policy (fail-open or fail-closed).
 */
import type { HookRunner } from "@streamspace/core"
import { Context, Data, type Effect, type Scope } from "effect"

export class Veto extends Data.TaggedError("Veto")<{ readonly reason: string }> {}

export class Hooks extends Context.Tag("@streamspace/kernel/Hooks")<
  Hooks,
  {
    readonly intercept: <P extends Hooks.Point>(
      point: P,
      handler: (input: Hooks.Input<P>) => Effect.Effect<Hooks.Input<P>, Veto>,
      options?: Hooks.InterceptOptions
    ) => Effect.Effect<void, never, Scope.Scope>
  }
>() {}

export declare namespace Hooks {
  /** `session.beforeCreate`, `file.beforeUpload`, `file.inspectUpload`, `file.beforeDownload`, `user.beforeLogin`, `session.placement`. */
  export type Point = HookRunner.HookPoint
  /** What a handler of `P` receives and returns. */
  export type Input<P extends Point> = HookRunner.HookInputs[P]
  export interface InterceptOptions {
    /** Lower runs first (default 100). */
    readonly order?: number
    /** Per-call timeout (default 2000 ms). */
    readonly timeoutMs?: number
  }
}
