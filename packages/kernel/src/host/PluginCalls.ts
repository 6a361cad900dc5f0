/**
 * The `Plugins` service of one plugin: what it sees of the others (installed,
 * enabled) and calls to their exported methods, run in the callee's own
 * context (its SQL client, its config) and checked by the callee's Schemas.
 */
import { Effect, Option, ParseResult } from "effect"
import { PluginCallError, type Plugins, PluginUnavailable } from "../Plugins.ts"
import type { RunningPlugin } from "./RunningPlugins.ts"

export interface PluginDirectory {
  readonly known: (id: string) => boolean
  readonly installedVersion: (id: string) => Effect.Effect<Option.Option<string>>
  readonly running: (id: string) => RunningPlugin | undefined
}

export const make = (self: string, plugins: PluginDirectory): Plugins["Type"] => ({
  get: (id) =>
    Effect.gen(function*() {
      if (!plugins.known(id)) return yield* new PluginUnavailable({ plugin: id, reason: "unknown" })
      const version = yield* plugins.installedVersion(id)
      if (Option.isNone(version)) return yield* new PluginUnavailable({ plugin: id, reason: "not_installed" })
      return { id, version: version.value, enabled: plugins.running(id) !== undefined }
    }),
  isEnabled: (id) => Effect.sync(() => plugins.running(id) !== undefined),
  call: (id, method, input) =>
    Effect.gen(function*() {
      const target = plugins.running(id)
      if (!target) return yield* new PluginUnavailable({ plugin: id, reason: plugins.known(id) ? "disabled" : "unknown" })
      const m = target.def.methods?.[method]
      if (!m) return yield* new PluginCallError({ plugin: id, method, message: `plugin ${id} has no method ${method}` })
      return yield* m.call(input).pipe(
        Effect.provide(target.context),
        Effect.mapError((e) => new PluginCallError({ plugin: id, method, message: e instanceof ParseResult.ParseError ? e.message : String(e) })),
        Effect.annotateLogs({ caller: self })
      )
    })
})
