/**
 * Other plugins, seen from one plugin: is it there, is it enabled, and typed
 * calls to the methods it exports (input and output checked by its Schemas).
 */
import { Context, Data, type Effect } from "effect"

export class PluginUnavailable extends Data.TaggedError("PluginUnavailable")<{
  readonly plugin: string
  readonly reason: "unknown" | "not_installed" | "disabled"
}> {
  readonly status = 404
  readonly code = "plugin_unavailable"
  override get message() {
    return `plugin ${this.plugin} is ${this.reason.replace("_", " ")}`
  }
}

export class PluginCallError extends Data.TaggedError("PluginCallError")<{
  readonly plugin: string
  readonly method: string
  readonly message: string
}> {}

export interface PluginSummary {
  readonly id: string
  readonly version: string
  readonly enabled: boolean
}

export class Plugins extends Context.Tag("@streamspace/kernel/Plugins")<Plugins, {
  readonly get: (id: string) => Effect.Effect<PluginSummary, PluginUnavailable>
  readonly isEnabled: (id: string) => Effect.Effect<boolean>
  readonly call: (id: string, method: string, input: unknown) => Effect.Effect<unknown, PluginUnavailable | PluginCallError>
}>() {}
