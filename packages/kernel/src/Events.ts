/**
 * Plugin-scoped events. `subscribe` registers a durable subscription (named,
 * persisted with its cursor): every matching event reaches the handler at
 * least once, in order, with retries and a dead-letter state — including
 * events published while the plugin was disabled. The handler runs in the
 * plugin's scope and stops when the plugin is disabled.
 *
 * Events are typed by their definitions (`define(type, Schema)`; the core's
 * are `CoreEvents.SessionCreated`, …): subscribing with `event`/`events`
 * hands the handler the payload decoded and typed — a payload that does not
 * decode fails the handler (retried, then dead-lettered naming the field) —
 * while `types` (`*`, `session.*`, exact types) hands over `unknown`
 * payloads. A plugin declares its own events in its manifest
 * (`events: declare(Greeted)`), publishes them with `publish(Greeted, …)`,
 * and `catalogue` lists every declared event with its JSON Schema.
 */
import { CoreEvents } from "@streamspace/core"
import { Context, Effect, JSONSchema, Option, Schema, SchemaAST, type Scope } from "effect"
import type { PluginDefinition } from "./Plugin.ts"

export type EventDefinition<T extends string = string, A = unknown, I = unknown> = CoreEvents.EventDefinition<T, A, I>
export type AnyEventDefinition = CoreEvents.AnyEventDefinition
export type Event<T extends string = string, A = unknown> = CoreEvents.Event<T, A>
export type PayloadOf<D> = CoreEvents.PayloadOf<D>
/** A payload that does not decode with the subscription's Schema (the handler is not run; the event is retried). */
export const EventPayloadInvalid = CoreEvents.EventPayloadInvalid
export type EventPayloadInvalid = CoreEvents.EventPayloadInvalid

/** Defines an event once (type, payload Schema, description) for the manifest, `publish` and `subscribe`. */
export const define = CoreEvents.define

/** The manifest's `events` from definitions: `events: Events.declare(Greeted, Waved)`. */
export const declare = (...definitions: ReadonlyArray<AnyEventDefinition>): Readonly<Record<string, Schema.Schema.AnyNoContext>> =>
  Object.fromEntries(definitions.map((d) => [d.type, d.schema]))

interface SubscriptionBase {
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
export interface SubscribeWithSchema<S extends Schema.Schema.AnyNoContext = Schema.Schema.AnyNoContext> extends SubscriptionBase {
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
export type EventFor<O> = O extends { readonly event: infer D extends AnyEventDefinition } ? CoreEvents.EventOf<D>
  : O extends { readonly events: ReadonlyArray<infer D extends AnyEventDefinition> } ? CoreEvents.EventOf<D>
  : O extends { readonly schema: infer S extends Schema.Schema.AnyNoContext } ? Event<string, Schema.Schema.Type<S>>
  : Event

export type EventHandler<E = unknown, Ev = Event> = (event: Ev) => Effect.Effect<void, E>

/**
 * Handles consecutive events at once (one multi-row statement instead of one
 * per event). If it fails, the same events are handed over again one at a
 * time, so a single bad event is retried and dead-lettered on its own.
 */
export type BatchHandler<E = unknown, Ev = Event> = (events: ReadonlyArray<Ev>) => Effect.Effect<void, E>

export type Subscribe = <O extends SubscribeOptions, E>(options: O, handler: EventHandler<E, EventFor<O>>) => Effect.Effect<void, never, Scope.Scope>
export type SubscribeBatch = <O extends SubscribeBatchOptions, E>(options: O, handler: BatchHandler<E, EventFor<O>>) => Effect.Effect<void, never, Scope.Scope>

/** Publishes this plugin's own event (type namespaced `<pluginId>.…`), encoded with its Schema. */
export interface Publish {
  <T extends string, A, I>(event: EventDefinition<T, A, I>, payload: A): Effect.Effect<string>
  <A, I>(type: string, schema: Schema.Schema<A, I>, payload: A): Effect.Effect<string>
}

/** What the host builds per plugin; `Events.make` turns it into the service plugins see. */
export interface HostEvents {
  readonly subscribe: Subscribe
  readonly subscribeBatch: SubscribeBatch
  readonly publish: <A, I>(type: string, schema: Schema.Schema<A, I>, payload: A) => Effect.Effect<string>
}

export interface EventsService {
  readonly subscribe: Subscribe
  /** Like `subscribe`, for high-volume consumers: the same guarantees, events handed over in batches. */
  readonly subscribeBatch: SubscribeBatch
  readonly publish: Publish
}

/**
 * The plugin's events. With `declared` (the manifest's `events`), a published
 * event of a declared type must also match the declared Schema, so that
 * subscribers decoding with the declaration never see a payload it refuses.
 */
const make = (host: HostEvents, declared?: Readonly<Record<string, Schema.Schema.AnyNoContext>>): EventsService => {
  const checked = <A, I>(type: string, schema: Schema.Schema<A, I>, payload: A): Effect.Effect<string> =>
    Effect.gen(function*() {
      const declaration = declared?.[type]
      if (declaration !== undefined && declaration !== schema) {
        const encoded = yield* Schema.encode(schema)(payload).pipe(Effect.orDie)
        yield* Schema.decodeUnknown(declaration, { errors: "all" })(encoded).pipe(
          Effect.catchAll((e) =>
            Effect.dieMessage(`event ${type}: the payload does not match the Schema declared in the manifest: ${
              CoreEvents.payloadIssues(e).map((i) => `${i.path}: ${i.message}`).join("; ")
            }`)
          )
        )
      }
      return yield* host.publish(type, schema, payload)
    })
  function publish<T extends string, A, I>(event: EventDefinition<T, A, I>, payload: A): Effect.Effect<string>
  function publish<A, I>(type: string, schema: Schema.Schema<A, I>, payload: A): Effect.Effect<string>
  function publish<A, I>(first: string | EventDefinition<string, A, I>, second: Schema.Schema<A, I> | A, third?: A): Effect.Effect<string> {
    if (typeof first !== "string") return checked(first.type, first.schema, second as A)
    // The overloads above guarantee the (type, schema, payload) form here.
    return checked(first, second as Schema.Schema<A, I>, third as A)
  }
  return { subscribe: host.subscribe, subscribeBatch: host.subscribeBatch, publish }
}

export class Events extends Context.Tag("@streamspace/kernel/Events")<Events, EventsService>() {
  /** Builds the service from the host's primitives (`Context.add(Events, Events.make({ … }, def.events))`). */
  static readonly make = make
}

/**
 * How EventDelivery reads a subscription: the event types to select, and the
 * decoding of each envelope into what the handler expects (identity for
 * untyped subscriptions; `EventPayloadInvalid` naming the fields otherwise).
 */
export const reading = <O extends SubscribeOptions>(options: O): {
  readonly types: ReadonlyArray<string>
  readonly decode: (event: Event) => Effect.Effect<EventFor<O>, CoreEvents.EventPayloadInvalid>
} => {
  const definitions: ReadonlyArray<AnyEventDefinition> = options.event ? [options.event] : options.events ?? []
  const bySchema = new Map<string, Schema.Schema.AnyNoContext>(definitions.map((d) => [d.type, d.schema]))
  const schema = options.schema
  const types = definitions.length > 0 ? [...bySchema.keys()] : options.types ?? []
  const decode = (event: Event): Effect.Effect<Event, CoreEvents.EventPayloadInvalid> => {
    const s = schema ?? bySchema.get(event.type)
    return s === undefined ? Effect.succeed(event) : Effect.map(CoreEvents.decodePayload(s, event), (payload) => ({ ...event, payload }))
  }
  // `EventFor<O>` is exactly what `decode` produces for these options (the payload decoded with the
  // Schema of the event's type); TypeScript cannot follow a conditional type through the branches.
  return { types, decode: decode as (event: Event) => Effect.Effect<EventFor<O>, CoreEvents.EventPayloadInvalid> }
}

/** One event of the catalogue, for docs and the admin API. */
export interface CatalogueEntry {
  readonly type: string
  /** `core`, or the id of the plugin that declares it. */
  readonly source: string
  readonly description: string
  /** JSON Schema of the payload as stored and delivered (the encoded form). */
  readonly schema: JSONSchema.JsonSchema7Root | Record<string, never>
}

const jsonSchema = (schema: Schema.Schema.AnyNoContext): CatalogueEntry["schema"] => {
  try {
    return JSONSchema.make(schema)
  } catch {
    return {}
  }
}

const descriptionOf = (schema: Schema.Schema.AnyNoContext) => Option.getOrElse(SchemaAST.getDescriptionAnnotation(schema.ast), () => "")

/** Every event a plugin may subscribe to: the core's, then each plugin's declared events, with their payload JSON Schemas. */
export const catalogue = (plugins: ReadonlyArray<Pick<PluginDefinition, "id" | "events">>): ReadonlyArray<CatalogueEntry> => [
  ...CoreEvents.definitions.map((d) => ({ type: d.type, source: "core", description: d.description, schema: jsonSchema(d.schema) })),
  ...plugins.flatMap((p) =>
    Object.entries(p.events ?? {}).map(([type, schema]) => ({ type, source: p.id, description: descriptionOf(schema), schema: jsonSchema(schema) }))
  )
]
