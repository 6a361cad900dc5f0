/**
 * The kernel as Layers. `Registries` must sit under the core (the core's
 * `HookRunner` comes from it); `host(catalog)` sits on top of the core.
 */
import { Layer } from "effect"
import { EventDeliveryLive } from "./EventDelivery.ts"
import { HookRegistryLive, HookRunnerLive } from "./HookRegistry.ts"
import { JobSchedulerLive } from "./JobScheduler.ts"
import type { PluginDefinition } from "../Plugin.ts"
import * as PluginHost from "./PluginHost.ts"
import { RouteRegistryLive } from "./RouteRegistry.ts"
import { UiRegistryLive } from "./UiRegistry.ts"

/** Registries and the HookRunner the core calls. */
export const Registries = HookRunnerLive.pipe(
  Layer.provideMerge(Layer.mergeAll(HookRegistryLive, RouteRegistryLive, UiRegistryLive))
)

/** The host with delivery and scheduling, over the core and the registries. */
export const host = (catalog: ReadonlyArray<PluginDefinition>) =>
  PluginHost.layer(catalog).pipe(Layer.provideMerge(Layer.mergeAll(EventDeliveryLive, JobSchedulerLive)))
