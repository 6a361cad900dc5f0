/**
 * Plugin-scoped events. `subscribe` registers a durable subscription (named,
 * persisted with its cursor): every matching event reaches the handler at
 * least once, in order, with retries and a dead-letter state — including
 * events published while the plugin was disabled. The handler runs in the
 * plugin's scope and stops when the plugin is disabled.
 *
 * Events are typed by their definitions (`Events.define(type, Schema)`; the
 * core's are `CoreEvents.SessionCreated`, …): subscribing with
 * `event`/`events` hands the handler the payload decoded and typed — a
 * payload that does not decode fails the handler (retried, then
 * dead-lettered naming the field) — while `types` (`*`, `session.*`, exact
 * types) hands over `unknown` payloads. A plugin declares its own events in
 * its manifest (`events: Events.declare(Greeted)`) and publishes them with
 * `publish(Greeted, …)`; `GET /api/events/catalogue` lists every declared
 * event with its JSON Schema.
 *
 * `Events` is the service's Tag (`yield* Events`), carries the helpers
 * (`Events.define`, `Events.declare`) and names the types (`Events.Event`,
 * `Events.SubscribeOptions`, …).
 */
import { CoreEvents } from "@streamspace/core"
import { Context, type Effect, type Schema, type Scope } from "effect"

/** A payload that does not decode with the subscription's Schema (the handler is not run; the event is retried). */
export const EventPayloadInvalid = CoreEvents.EventPayloadInvalid
export type EventPayloadInvalid = CoreEvents.EventPayloadInvalid

/** The manifest's `events` from definitions: `events: Events.declare(Greeted, Waved)`. */
const declare = (
  ...definitions: ReadonlyArray<CoreEvents.AnyEventDefinition>
): Readonly<Record<string, Schema.Schema.AnyNoContext>> =>
  Object.fromEntries(definitions.map((d) => [d.type, d.schema]))

/** The service a plugin gets with `yield* Events`. */
export interface EventsService {
  readonly subscribe: Events.Subscribe
  /** Like `subscribe`, for high-volume consumers: the same guarantees, events handed over in batches. */
  readonly subscribeBatch: Events.SubscribeBatch
  readonly publish: Events.Publish
}

export class Events extends Context.Tag("@streamspace/kernel/Events")<Events, EventsService>() {
  /** Defines an event once (type, payload Schema, description) for the manifest, `publish` and `subscribe`. */
  static readonly define = CoreEvents.define
  /** The manifest's `events` from definitions: `events: Events.declare(Greeted, Waved)`. */
  static readonly declare = declare
}

export declare namespace Events {
  export type EventDefinition<T extends string = string, A = unknown, I = unknown> = CoreEvents.EventDefinition<T, A, I>
  export type AnyEventDefinition = CoreEvents.AnyEventDefinition
  /** What a handler receives: the envelope with its payload. */
  export type Event<T extends string = string, A = unknown> = CoreEvents.Event<T, A>
  export type PayloadOf<D> = CoreEvents.PayloadOf<D>

  export interface SubscriptionBase {
    /** Stable name of the subscription within the plugin (its cursor is keyed by it). */
    readonly name: string
    /** Attempts before an event is dead-lettered for this subscription (default 5). */
    readonly maxAttempts?: number
  }

  /** Untyped: `["session.created"]`, a prefix `["session.*"]` or `["*"]` for all; payloads are `unknown`. */
  export interface SubscribeToTypes extends SubscriptionBase {
    readonly types: ReadonlyArray<string>
    readonly schema?: undefined
    readonly event?: undefined
    readonly events?: undefined
  }

  /** The given types (or prefixes), each payload decoded with one Schema. */
  export interface SubscribeWithSchema<S extends Schema.Schema.AnyNoContext = Schema.Schema.AnyNoContext>
    extends SubscriptionBase {
    readonly types: ReadonlyArray<string>
    readonly schema: S
    readonly event?: undefined
    readonly events?: undefined
  }

  /** One defined event, its payload decoded and typed. */
  export interface SubscribeToEvent<D extends AnyEventDefinition = AnyEventDefinition> extends SubscriptionBase {
    readonly event: D
    readonly types?: undefined
    readonly schema?: undefined
    readonly events?: undefined
  }

  /** Several defined events; the handler gets their union, narrowed by `event.type`. */
  export interface SubscribeToEvents<D extends AnyEventDefinition = AnyEventDefinition> extends SubscriptionBase {
    readonly events: ReadonlyArray<D>
    readonly types?: undefined
    readonly schema?: undefined
    readonly event?: undefined
  }

  export type SubscribeOptions = SubscribeToTypes | SubscribeWithSchema | SubscribeToEvent | SubscribeToEvents

  export type SubscribeBatchOptions = SubscribeOptions & {
    /** Most events per call (default 200). */
    readonly maxBatch?: number
  }

  /** What a subscription with options `O` hands its handler. */
  export type EventFor<O> = O extends { readonly event: infer D extends AnyEventDefinition }
    ? CoreEvents.EventOf<D>
    : O extends { readonly events: ReadonlyArray<infer D extends AnyEventDefinition> }
      ? CoreEvents.EventOf<D>
      : O extends { readonly schema: infer S extends Schema.Schema.AnyNoContext }
        ? Event<string, Schema.Schema.Type<S>>
        : Event

  export type EventHandler<E = unknown, Ev = Event> = (event: Ev) => Effect.Effect<void, E>

  /**
   * Handles consecutive events at once (one multi-row statement instead of one
   * per event). If it fails, the same events are handed over again one at a
   * time, so a single bad event is retried and dead-lettered on its own.
   */
  export type BatchHandler<E = unknown, Ev = Event> = (events: ReadonlyArray<Ev>) => Effect.Effect<void, E>

  export type Subscribe = <O extends SubscribeOptions, E>(
    options: O,
    handler: EventHandler<E, EventFor<O>>
  ) => Effect.Effect<void, never, Scope.Scope>
  export type SubscribeBatch = <O extends SubscribeBatchOptions, E>(
    options: O,
    handler: BatchHandler<E, EventFor<O>>
  ) => Effect.Effect<void, never, Scope.Scope>

  /** Publishes this plugin's own event (type namespaced `<pluginId>.…`), encoded with its Schema. */
  export interface Publish {
    <T extends string, A, I>(event: EventDefinition<T, A, I>, payload: A): Effect.Effect<string>
    <A, I>(type: string, schema: Schema.Schema<A, I>, payload: A): Effect.Effect<string>
  }
}
