/**
 * `@streamspace/kernel` — the plugin entry: everything a plugin may use, and
 * nothing else. The host that installs, enables, configures, disables and
 * uninstalls plugins is `@streamspace/kernel/host` (server, test kit,
 * editions and tests only; plugins never import it).
 *
 * The shape, chosen so a plugin reads without `X.X`:
 *
 * - `definePlugin(manifest)` and `method(name, { input, output, handler })`,
 *   with the manifest's types (`PluginManifest`, `PluginServices`, …).
 * - One name per plugin-scoped service, and that name is the service's Tag:
 *   `const sql = yield* PluginSql`. The same name carries the service's
 *   helpers as statics (`Events.define`, `Events.declare`,
 *   `PluginConfig.get(Schema)`, `PluginConfig.secret(Schema)`) and its types
 *   as a namespace (`Events.Event`, `Events.SubscribeOptions`,
 *   `Hooks.InterceptOptions`, `Scheduler.Schedule`, `PluginStorage.Entry`,
 *   `Plugins.Summary`, `IntegrationProvider.ProviderIntegration`).
 * - The errors a plugin sees or raises, as plain named exports: `Veto`,
 *   `PluginUnavailable`, `PluginCallError`, `StorageValueInvalid`,
 *   `EventPayloadInvalid`.
 *
 * What the host needs to build these services (`Events` from its
 * primitives, typed storage over its JSON store, …) lives in `src/host/`
 * and is not reachable from here.
 */
export { definePlugin, method } from "./Plugin.ts"
export type {
  Dependency,
  MethodSignature,
  MethodSpec,
  Methods,
  PermissionDeclaration,
  PluginCategory,
  PluginDefinition,
  PluginManifest,
  PluginMethod,
  PluginServices,
  PluginType
} from "./Plugin.ts"
export type { UiExtension, UiPage, UiWidget } from "./Ui.ts"

export { Events } from "./Events.ts"
export { Hooks } from "./Hooks.ts"
export { IntegrationProvider } from "./IntegrationProvider.ts"
export { PluginConfig, PluginInfo } from "./PluginContext.ts"
export { Plugins } from "./Plugins.ts"
export { PluginSql } from "./PluginSql.ts"
export { PluginStorage } from "./PluginStorage.ts"
export { DesktopControl, Kubernetes, SessionControl } from "./Platform.ts"
export type { DesktopMonitor, PlatformGrant } from "./Platform.ts"
export { PlatformPosture } from "./PlatformPosture.ts"
export type { PostureSnapshot } from "./PlatformPosture.ts"
export { Routes } from "./Routes.ts"
export { Scheduler } from "./Scheduler.ts"
export { Ui } from "./Ui.ts"
export { PluginBlobs, SealedValueInvalid } from "./PluginBlobs.ts"
export { VncTap } from "./VncTap.ts"

export { EventPayloadInvalid } from "./Events.ts"
export { Veto } from "./Hooks.ts"
export { PluginCallError, PluginUnavailable } from "./Plugins.ts"
export { StorageValueInvalid } from "./PluginStorage.ts"
export { DesktopControlError, KubernetesError, PlatformAccessDenied, SessionControlError } from "./Platform.ts"
