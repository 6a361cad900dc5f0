/**
 * @streamspace/kernel — the plugin contract (`definePlugin` and the
 * plugin-scoped services) and the host that installs, enables, configures,
 * disables and uninstalls plugins at runtime.
 */
export * as Events from "./Events.ts"
export * as Hooks from "./Hooks.ts"
export * from "./Plugin.ts"
export * as PluginContext from "./PluginContext.ts"
export * as Plugins from "./Plugins.ts"
export * as PluginSql from "./PluginSql.ts"
export * as PluginStorage from "./PluginStorage.ts"
export * as Routes from "./Routes.ts"
export * as Scheduler from "./Scheduler.ts"
export * as Ui from "./Ui.ts"
