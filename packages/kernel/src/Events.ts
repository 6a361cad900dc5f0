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

export class Events extends Context.Tag("@streamspace/kernel/Events")<Events, {
  readonly subscribe: <E>(options: SubscribeOptions, handler: EventHandler<E>) => Effect.Effect<void, never, Scope.Scope>
  /** Publishes this plugin's own event (type should be namespaced `<pluginId>.…`), validated by `schema`. */
  readonly publish: <A, I>(type: string, schema: Schema.Schema<A, I>, payload: A) => Effect.Effect<string>
}>() {}
