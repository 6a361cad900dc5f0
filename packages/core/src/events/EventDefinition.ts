/**
 * A defined event: its type, the Schema of its payload and one line saying
 * when it happens. Defined once, it serves everywhere an event is named —
 * the core catalogue, a plugin's manifest, `publish`, and `subscribe`, which
 * hands handlers the payload decoded and typed. Reading an envelope with a
 * definition fails with `EventPayloadInvalid` naming each bad field.
 */
import { Data, Effect, ParseResult, Schema } from "effect"

export interface EventDefinition<T extends string = string, A = unknown, I = unknown> {
  readonly _tag: "EventDefinition"
  readonly type: T
  /** The payload Schema (annotated with `description`, so JSON Schema and the catalogue carry it). */
  readonly schema: Schema.Schema<A, I>
  readonly description: string
}

/** Any definition, whatever its payload (Schemas are invariant, so this is not `EventDefinition<string>`). */
export interface AnyEventDefinition {
  readonly _tag: "EventDefinition"
  readonly type: string
  readonly schema: Schema.Schema.AnyNoContext
  readonly description: string
}

/** An event as subscribers receive it: the envelope (id, position, time, actor) with a typed payload. */
export interface Event<T extends string = string, A = unknown> {
  readonly id: string
  readonly position: string
  readonly type: T
  readonly source: string
  readonly payload: A
  readonly actorId: string | null
  readonly occurredAt: Date
}

/** The payload type of a definition. */
export type PayloadOf<D> = D extends EventDefinition<string, infer A, infer _I> ? A : never

/** The typed event of a definition; a union of definitions gives a union discriminated by `type`. */
export type EventOf<D> = D extends EventDefinition<infer T, infer A, infer _I> ? Event<T, A> : never

/**
 * Defines an event. `type` is namespaced (`session.created`, `<pluginId>.…`);
 * the payload's encoded form must be JSON (it is stored as `jsonb`).
 */
export const define = <const T extends string, A, I>(
  type: T,
  schema: Schema.Schema<A, I>,
  description = ""
): EventDefinition<T, A, I> => ({
  _tag: "EventDefinition",
  type,
  schema: description ? schema.annotations({ description }) : schema,
  description
})

export const isEventDefinition = (u: unknown): u is AnyEventDefinition =>
  typeof u === "object" && u !== null && "_tag" in u && u._tag === "EventDefinition"

export interface PayloadIssue {
  /** Where in the payload, e.g. `payload.username`. */
  readonly path: string
  readonly message: string
}

/** A stored payload that does not match the Schema it is read with. */
export class EventPayloadInvalid extends Data.TaggedError("EventPayloadInvalid")<{
  readonly eventId: string
  readonly type: string
  readonly issues: ReadonlyArray<PayloadIssue>
  readonly message: string
}> {}

/** Each bad field of a parse error, as `payload.<path>: <message>`. */
export const payloadIssues = (error: ParseResult.ParseError): ReadonlyArray<PayloadIssue> =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((i) => ({
    path: ["payload", ...i.path.map(String)].join("."),
    message: i.message
  }))

/** Decodes an envelope's payload with `schema`; the failure names the event and every bad field. */
export const decodePayload = <A, I>(schema: Schema.Schema<A, I>, event: Event) =>
  Schema.decodeUnknown(schema, { errors: "all" })(event.payload).pipe(
    Effect.mapError((error) => {
      const issues = payloadIssues(error)
      return new EventPayloadInvalid({
        eventId: event.id,
        type: event.type,
        issues,
        message: `event ${event.type} ${event.id}: the payload does not match its Schema: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`
      })
    })
  )

/** Reads an envelope as the definition's event (the caller has checked `event.type`). */
export const decode = <T extends string, A, I>(
  definition: EventDefinition<T, A, I>,
  event: Event
): Effect.Effect<Event<T, A>, EventPayloadInvalid> =>
  Effect.map(decodePayload(definition.schema, event), (payload) => ({ ...event, type: definition.type, payload }))
