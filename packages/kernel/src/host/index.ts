/**
 * `@streamspace/kernel/host` — the host side of the kernel, for the server,
 * the test kit, editions, scripts and tests; never for plugins (they import
 * `@streamspace/kernel`). It installs, enables, configures, disables and
 * uninstalls plugins at runtime and builds the plugin-scoped services:
 *
 * - `KernelLive`: the kernel as Layers (`Registries` under the core, `host(catalog)` over it);
 * - `PluginHost`: the lifecycle; `PluginLoader`: external plugins from a directory;
 * - `Manifest`: validation of a definition, schema and role names;
 * - `EventDelivery`, `JobScheduler`, `HookRegistry`, `RouteRegistry`, `UiRegistry`:
 *   what plugins register, run by the host;
 * - `PluginAdminHttp`, `EventCatalogueHttp`: the admin API and the event catalogue;
 * - `PluginEvents`, `TypedStorage`, `ConfigSchema`: how the host builds a plugin's
 *   `Events`, its typed storage and its config form;
 * - `ClusterConnect`: which other databases plugin roles can reach (the startup report warns).
 */
export * as ClusterConnect from "./ClusterConnect.ts"
export * as ConfigSchema from "./ConfigSchema.ts"
export * as EventCatalogueHttp from "./EventCatalogueHttp.ts"
export * as EventDelivery from "./EventDelivery.ts"
export * as HookRegistry from "./HookRegistry.ts"
export * as IntegrationTestHttp from "./IntegrationTestHttp.ts"
export * as JobScheduler from "./JobScheduler.ts"
export * as KernelLive from "./KernelLive.ts"
export * as Manifest from "./Manifest.ts"
export * as PluginAdminHttp from "./PluginAdminHttp.ts"
export * as PluginEvents from "./PluginEvents.ts"
export * as PluginHost from "./PluginHost.ts"
export * as PluginLoader from "./PluginLoader.ts"
export * as RouteRegistry from "./RouteRegistry.ts"
export * as TypedStorage from "./TypedStorage.ts"
export * as UiRegistry from "./UiRegistry.ts"
export { PluginFailed } from "./PluginErrors.ts"
export { isPluginDefinition, type PluginDefinition } from "../Plugin.ts"
