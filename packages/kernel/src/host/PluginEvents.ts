/**
 * The host's side of a plugin's `Events`: the service built from the host's
 * primitives (publishing checked against the manifest's declarations), and
 * how delivery reads a subscription's options (types to select, decoding of
 * each envelope).
 */
import { CoreEvents } from "@streamspace/core"
import { Effect, Schema } from "effect"
import type { Events, EventsService } from "../Events.ts"

/** What the host builds per plugin; `make` turns it into the service plugins see. */
export interface HostEvents {
  readonly subscribe: Events.Subscribe
  readonly subscribeBatch: Events.SubscribeBatch
  readonly publish: <A, I>(type: string, schema: Schema.Schema<A, I>, payload: A) => Effect.Effect<string>
}

/**
 * The plugin's events. With `declared` (the manifest's `events`), a published
 * event of a declared type must also match the declared Schema, so that
 * subscribers decoding with the declaration never see a payload it refuses.
 */
export const make = (
  host: HostEvents,
  declared?: Readonly<Record<string, Schema.Schema.AnyNoContext>>
): EventsService => {
  const checked = <A, I>(type: string, schema: Schema.Schema<A, I>, payload: A): Effect.Effect<string> =>
    Effect.gen(function* () {
      const declaration = declared?.[type]
      if (declaration !== undefined && declaration !== schema) {
        const encoded = yield* Schema.encode(schema)(payload).pipe(Effect.orDie)
        yield* Schema.decodeUnknown(declaration, { errors: "all" })(encoded).pipe(
          Effect.catchAll((e) =>
            Effect.dieMessage(
              `event ${type}: the payload does not match the Schema declared in the manifest: ${CoreEvents.payloadIssues(
                e
              )
                .map((i) => `${i.path}: ${i.message}`)
                .join("; ")}`
            )
          )
        )
      }
      return yield* host.publish(type, schema, payload)
    })
  function publish<T extends string, A, I>(event: Events.EventDefinition<T, A, I>, payload: A): Effect.Effect<string>
  function publish<A, I>(type: string, schema: Schema.Schema<A, I>, payload: A): Effect.Effect<string>
  function publish<A, I>(
    first: string | Events.EventDefinition<string, A, I>,
    second: Schema.Schema<A, I> | A,
    third?: A
  ): Effect.Effect<string> {
    if (typeof first !== "string") return checked(first.type, first.schema, second as A)
    // The overloads above guarantee the (type, schema, payload) form here.
    return checked(first, second as Schema.Schema<A, I>, third as A)
  }
  return { subscribe: host.subscribe, subscribeBatch: host.subscribeBatch, publish }
}

/**
 * How EventDelivery reads a subscription: the event types to select, and the
 * decoding of each envelope into what the handler expects (identity for
 * untyped subscriptions; `EventPayloadInvalid` naming the fields otherwise).
 */
export const reading = <O extends Events.SubscribeOptions>(
  options: O
): {
  readonly types: ReadonlyArray<string>
  readonly decode: (event: Events.Event) => Effect.Effect<Events.EventFor<O>, CoreEvents.EventPayloadInvalid>
} => {
  const definitions: ReadonlyArray<Events.AnyEventDefinition> = options.event ? [options.event] : (options.events ?? [])
  const bySchema = new Map<string, Schema.Schema.AnyNoContext>(definitions.map((d) => [d.type, d.schema]))
  const schema = options.schema
  const types = definitions.length > 0 ? [...bySchema.keys()] : (options.types ?? [])
  const decode = (event: Events.Event): Effect.Effect<Events.Event, CoreEvents.EventPayloadInvalid> => {
    const s = schema ?? bySchema.get(event.type)
    return s === undefined
      ? Effect.succeed(event)
      : Effect.map(CoreEvents.decodePayload(s, event), (payload) => ({ ...event, payload }))
  }
  // `EventFor<O>` is exactly what `decode` produces for these options (the payload decoded with the
  // Schema of the event's type); TypeScript cannot follow a conditional type through the branches.
  return {
    types,
    decode: decode as (event: Events.Event) => Effect.Effect<Events.EventFor<O>, CoreEvents.EventPayloadInvalid>
  }
}
