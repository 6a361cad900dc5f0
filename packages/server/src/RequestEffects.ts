/**
 * The work a request queues for after its outcome (`Actor.CommitEffects`,
 * `Actor.FailureEffects`, `Actor.OutcomeEffects`). The edge runs the commit
 * or the failure list once the outcome is known and closes the other, then
 * the outcome list; each effect runs at most once, and its failure is
 * logged, never turned into the request's answer. A fiber the request forked
 * may outlive it: what it adds after the lists have ended is `late` — run at
 * once (commit effects: the change has landed) or dropped (failure effects:
 * the request they were for did not fail).
 */
import { Effect } from "effect"

export interface RequestEffects {
  readonly add: (effect: Effect.Effect<void, unknown>) => Effect.Effect<void>
  /** Runs what was added, in order, and ends the list. */
  readonly run: Effect.Effect<void>
  /** Ends the list without running what was added. */
  readonly close: Effect.Effect<void>
}

const logged = (effect: Effect.Effect<void, unknown>, what: string) =>
  Effect.catchAllCause(effect, (cause) => Effect.logError(`${what} failed`, cause))

export const make = (what: string, late: "run" | "drop"): RequestEffects => {
  let pending: Array<Effect.Effect<void, unknown>> | undefined = []
  const end = () => {
    const due = pending ?? []
    pending = undefined
    return due
  }
  return {
    add: (effect) =>
      Effect.suspend(() => {
        if (pending) {
          pending.push(effect)
          return Effect.void
        }
        return late === "run" ? logged(effect, what) : Effect.void
      }),
    run: Effect.suspend(() => Effect.forEach(end(), (effect) => logged(effect, what), { discard: true })),
    close: Effect.sync(() => void end())
  }
}
