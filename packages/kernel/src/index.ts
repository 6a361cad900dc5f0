/**
 * @streamspace/kernel — the plugin contract (`definePlugin` and the
 * plugin-scoped services) and the host that installs, enables, configures,
 * disables and uninstalls plugins at runtime.
 */
export * as EventCatalogueHttp from "./EventCatalogueHttp.ts"
export * as EventDelivery from "./EventDelivery.ts"
export * as Events from "./Events.ts"
export * as HookRegistry from "./HookRegistry.ts"
export * as Hooks from "./Hooks.ts"
export * as IntegrationProvider from "./IntegrationProvider.ts"
export * as JobScheduler from "./JobScheduler.ts"
export * as KernelLive from "./KernelLive.ts"
export * as Manifest from "./Manifest.ts"
export * from "./Plugin.ts"
export * as PluginAdminHttp from "./PluginAdminHttp.ts"
export * as PluginContext from "./PluginContext.ts"
export * as PluginHost from "./PluginHost.ts"
export * as Plugins from "./Plugins.ts"
export * as PluginSql from "./PluginSql.ts"
export * as PluginStorage from "./PluginStorage.ts"
export * as RouteRegistry from "./RouteRegistry.ts"
export * as Routes from "./Routes.ts"
export * as Scheduler from "./Scheduler.ts"
export * as Ui from "./Ui.ts"
export * as UiRegistry from "./UiRegistry.ts"
export * from "./PluginErrors.ts"
export * as PluginLoader from "./PluginLoader.ts"
