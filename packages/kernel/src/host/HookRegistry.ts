/**
 * Plugin interceptors of core actions and the `HookRunner` the core calls.
 * Handlers run in order; each has a timeout. A veto becomes a 403 naming the
 * plugin and its reason. What a failing or hanging handler means depends on
 * the hook point: `session.beforeCreate`, `file.beforeUpload`,
 * `file.inspectUpload` and `file.beforeDownload` fail closed (a compliance
 * plugin that cannot answer must not let things through);
 * `user.beforeLogin` and `session.placement` fail open (a broken plugin
 * must not lock everyone out or stop sessions). Failures are logged and
 * counted per plugin for its health.
 */
import { Forbidden, HookRunner } from "@streamspace/core"
import { Context, Duration, Effect, Layer, type Scope } from "effect"
import type { Veto } from "../Hooks.ts"
import { addScoped } from "./ScopedLists.ts"

export type Policy = "fail-open" | "fail-closed"

export const policies: Record<HookRunner.HookPoint, Policy> = {
  "session.beforeCreate": "fail-closed",
  "file.beforeUpload": "fail-closed",
  "user.beforeLogin": "fail-open",
  "session.placement": "fail-open",
  "file.inspectUpload": "fail-closed",
  "file.beforeDownload": "fail-closed"
}

export interface HookEntry {
  readonly plugin: string
  readonly order: number
  readonly timeoutMs: number
  readonly handler: (input: never) => Effect.Effect<unknown, Veto>
}

export class HookRegistry extends Context.Tag("@streamspace/kernel/HookRegistry")<
  HookRegistry,
  {
    readonly add: <P extends HookRunner.HookPoint>(
      plugin: string,
      point: P,
      handler: (input: HookRunner.HookInputs[P]) => Effect.Effect<HookRunner.HookInputs[P], Veto>,
      options: { readonly order: number; readonly timeoutMs: number }
    ) => Effect.Effect<void, never, Scope.Scope>
    readonly entries: (point: HookRunner.HookPoint) => ReadonlyArray<HookEntry>
    readonly recordFailure: (plugin: string) => void
    readonly failures: (plugin: string) => number
  }
>() {}

export const HookRegistryLive = Layer.sync(HookRegistry, () => {
  const entries = new Map<HookRunner.HookPoint, Array<HookEntry>>()
  const failures = new Map<string, number>()
  return {
    failures: (plugin) => failures.get(plugin) ?? 0,
    recordFailure: (plugin) => void failures.set(plugin, (failures.get(plugin) ?? 0) + 1),
    entries: (point) => entries.get(point) ?? [],
    add: (plugin, point, handler, options) =>
      addScoped(
        entries,
        point,
        { plugin, ...options, handler: handler as HookEntry["handler"] },
        (a, b) => a.order - b.order
      )
  }
})

export const HookRunnerLive = Layer.effect(
  HookRunner.HookRunner,
  Effect.gen(function* () {
    const registry = yield* HookRegistry
    return {
      run: (point, input) =>
        Effect.gen(function* () {
          let current = input
          for (const entry of registry.entries(point)) {
            const result = yield* (entry.handler as (i: typeof current) => Effect.Effect<typeof current, Veto>)(
              current
            ).pipe(
              Effect.timeoutFail({
                duration: Duration.millis(entry.timeoutMs),
                onTimeout: () => ({ _tag: "HookTimeout" as const })
              }),
              Effect.either,
              Effect.sandbox,
              Effect.catchAll((cause) =>
                Effect.succeed({ _tag: "Left" as const, left: { _tag: "HookDefect" as const, cause } })
              )
            )
            if (result._tag === "Right") {
              current = result.right
              continue
            }
            const failure = result.left
            if (failure._tag === "Veto") {
              return yield* new Forbidden({ message: `${entry.plugin}: ${failure.reason}`, plugin: entry.plugin })
            }
            registry.recordFailure(entry.plugin)
            const what = failure._tag === "HookTimeout" ? `timed out after ${entry.timeoutMs} ms` : "failed"
            yield* Effect.logWarning(`hook ${point} of plugin ${entry.plugin} ${what} (${policies[point]})`)
            if (policies[point] === "fail-closed") {
              return yield* new Forbidden({
                message: `${entry.plugin} could not check this action (${what}); refused`,
                plugin: entry.plugin
              })
            }
          }
          return current
        }),
      intercepted: (point) => registry.entries(point).length > 0
    }
  })
)
