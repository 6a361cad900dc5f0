/**
 * Plugin-scoped interceptors of core actions. A handler returns the (possibly
 * amended) input or fails with `Veto` to refuse. Each registration has an
 * order and a timeout; what a failing or hanging handler means is the hook
 * point's declared policy (fail-open or fail-closed).
 *
 * `Hooks.afterOutcome(effect)` is for what a handler must have done whatever
 * the action's fate, such as recording why it refused: the action's own
 * transaction may roll back, so the handler cannot write it there.
 */
import { Actor, type HookRunner } from "@streamspace/core"
import { Context, Data, type Effect, type Scope } from "effect"

export class Veto extends Data.TaggedError("Veto")<{ readonly reason: string }> {}

/**
 * Runs `effect` once the intercepted core action has ended, committed or
 * rolled back, and before its caller is answered: a vetoed request's 403
 * waits for it, and its writes (on the plugin's client) do not roll back
 * with the action. It runs once, to its end even if the client goes away;
 * its failure is logged and never changes the answer. `false` when there is
 * no request to wait for (a job, an event handler, a VNC filter): nothing is
 * registered and the caller decides what to do instead.
 */
const afterOutcome: (effect: Effect.Effect<void, unknown>) => Effect.Effect<boolean> = Actor.afterOutcome

export class Hooks extends Context.Tag("@streamspace/kernel/Hooks")<
  Hooks,
  {
    readonly intercept: <P extends Hooks.Point>(
      point: P,
      handler: (input: Hooks.Input<P>) => Effect.Effect<Hooks.Input<P>, Veto>,
      options?: Hooks.InterceptOptions
    ) => Effect.Effect<void, never, Scope.Scope>
  }
>() {
  static readonly afterOutcome = afterOutcome
}

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
