/**
 * Plugin-scoped access to the core's integrations store for a plugin that
 * serves a provider (Slack, PagerDuty, SMTP…). The provider is named after
 * the plugin: a plugin sees and sends only its own integrations.
 *
 * `serve` makes the core validate that provider's integration configs with
 * the plugin's Schema (400 naming `body.config.<field>`; fields marked
 * `PluginConfig.secret` are sealed and masked) and hands the plugin every due
 * delivery of the queue, with retries, backoff and dead letters done by the
 * core's dispatcher. Fields marked `PluginConfig.secret` are secret at any
 * depth; `HttpUrl` and `OutgoingHost` fields are checked against the egress
 * policy when an integration is configured. Both stop when the plugin's scope closes; deliveries
 * queued meanwhile wait for it.
 */
import type { EgressPolicy, IntegrationDeliveries, IntegrationDispatcher, NotFound } from "@streamspace/core"
import { Context, type Effect, type Schema, type Scope } from "effect"

export class IntegrationProvider extends Context.Tag("@streamspace/kernel/IntegrationProvider")<
  IntegrationProvider,
  {
    /** The provider name: the plugin's id. */
    readonly provider: string
    readonly serve: <C, CI>(spec: IntegrationProvider.ServeSpec<C, CI>) => Effect.Effect<void, never, Scope.Scope>
    /** Enabled integrations of this provider with decoded configs (one that no longer decodes is skipped with a warning). */
    readonly integrations: <C, CI>(
      schema: Schema.Schema<C, CI>
    ) => Effect.Effect<ReadonlyArray<IntegrationProvider.ProviderIntegration<C>>>
    readonly enqueue: (
      input: IntegrationProvider.Enqueue
    ) => Effect.Effect<{ readonly id: string; readonly created: boolean }, NotFound>
    /**
     * Where to connect for a destination that is not an HTTP URL (an SMTP
     * relay): `host` resolved, every address checked against the egress
     * policy, and the address to connect to (keep `host` as the TLS server
     * name). HTTP needs none of this: the plugin's HttpClient does it.
     */
    readonly destination: (
      host: string
    ) => Effect.Effect<EgressPolicy.Target, EgressPolicy.EgressRefused | EgressPolicy.EgressUnresolved>
    /** Sends one message now, outside the queue's schedule, and returns its delivery record (test notifications). */
    readonly sendNow: (
      input: Omit<IntegrationProvider.Enqueue, "dedupeKey">
    ) => Effect.Effect<IntegrationDeliveries.IntegrationDelivery, NotFound>
  }
>() {}

export declare namespace IntegrationProvider {
  export interface ProviderIntegration<C> {
    readonly id: string
    readonly name: string
    readonly config: C
  }

  export interface ServeSpec<C, CI> {
    /** Schema of one integration's config (defaults allowed); secret fields marked with `PluginConfig.secret`. */
    readonly config: Schema.Schema<C, CI>
    /** Sends one queued delivery; failures are outcomes (`ok: false`), not errors. */
    readonly send: (
      delivery: IntegrationDispatcher.Delivery,
      config: C
    ) => Effect.Effect<IntegrationDispatcher.SendOutcome>
  }

  export interface Enqueue {
    readonly integrationId: string
    /** Unique per integration (e.g. `event:<id>`): enqueuing twice keeps one delivery. */
    readonly dedupeKey: string
    readonly subject: string
    /** The rendered message; never secrets (the sender gets those from the config). */
    readonly payload: unknown
    /** Messages with the same key go out in the order they were queued (a trigger before its resolve). */
    readonly orderKey?: string | undefined
  }
}
