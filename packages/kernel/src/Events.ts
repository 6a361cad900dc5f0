/**
 * Plugin-scoped events. `subscribe` registers a durable subscription (named,
 * persisted with its cursor): every matching event reaches the handler at
 * least once, in order, with retries and a dead-letter state — including
 * events published while the plugin was disabled. The handler runs in the
 * plugin's scope and stops when the plugin is disabled.
 */
import type { CoreEvents } from "@streamspace/core"
import { Context, type Effect, type Schema, type Scope } from "effect"

export interface SubscribeOptions {
  /** Stable name of the subscription within the plugin (its cursor is keyed by it). */
  readonly name: string
  /** Event types, e.g. `["session.created"]`; `*` for all. */
  readonly types: ReadonlyArray<string>
  /** Attempts before an event is dead-lettered for this subscription (default 5). */
  readonly maxAttempts?: number
}

export type EventHandler<E = unknown> = (event: CoreEvents.EventEnvelope) => Effect.Effect<void, E>

/**
 * Handles consecutive events at once (one multi-row statement instead of one
 * per event). If it fails, the same events are handed over again one at a
 * time, so a single bad event is retried and dead-lettered on its own.
 */
export type BatchHandler<E = unknown> = (events: ReadonlyArray<CoreEvents.EventEnvelope>) => Effect.Effect<void, E>

export interface SubscribeBatchOptions extends SubscribeOptions {
  /** Most events per call (default 200). */
  readonly maxBatch?: number
}

export class Events extends Context.Tag("@streamspace/kernel/Events")<Events, {
  readonly subscribe: <E>(options: SubscribeOptions, handler: EventHandler<E>) => Effect.Effect<void, never, Scope.Scope>
  /** Like `subscribe`, for high-volume consumers: the same guarantees, events handed over in batches. */
  readonly subscribeBatch: <E>(options: SubscribeBatchOptions, handler: BatchHandler<E>) => Effect.Effect<void, never, Scope.Scope>
  /** Publishes this plugin's own event (type should be namespaced `<pluginId>.…`), validated by `schema`. */
  readonly publish: <A, I>(type: string, schema: Schema.Schema<A, I>, payload: A) => Effect.Effect<string>
}>() {}
