/** The plugins enabled in this process: each with its Scope (closing it disables it) and its services. */
import type { Context, Scope } from "effect"
import type { PluginDefinition, PluginServices } from "../Plugin.ts"

export interface RunningPlugin {
  readonly def: PluginDefinition
  readonly scope: Scope.CloseableScope
  readonly context: Context.Context<PluginServices>
}

export type RunningPlugins = Map<string, RunningPlugin>
