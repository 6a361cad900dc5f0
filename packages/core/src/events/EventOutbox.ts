/**
 * Writes events to the outbox table. `publish` joins the caller's open
 * transaction, so an event exists exactly when the change it describes
 * committed. After commit, consumers registered with `whenWritten` are woken
 * (the kernel's delivery loop); delivery never depends on the wake-up.
 */
import { SqlClient } from "@effect/sql"
import { isSqlError } from "../Infrastructure.ts"
import { Context, Effect, Layer, PubSub, Queue, Schema, type Scope } from "effect"
import { actorId, afterCommit, CurrentActor } from "../Actor.ts"
import { catalog, type CoreEventPayload, type CoreEventType } from "./CoreEvents.ts"

export interface PublishInput {
  readonly type: string
  readonly source: string
  readonly payload: unknown
  readonly actorId: string | null
}

/** An event as its `events` row, built by `EventOutbox.row` for callers that write it in a statement of their own. */
export interface EventRow {
  readonly id: string
  readonly type: string
  readonly source: string
  /** The payload as JSON text. */
  readonly payload: string
  readonly actor_id: string | null
}

const eventRow = (input: PublishInput): EventRow => ({
  id: crypto.randomUUID(),
  type: input.type,
  source: input.source,
  payload: JSON.stringify(input.payload),
  actor_id: input.actorId
})

/** `INSERT INTO events` of `rows`: alone, or as one part (a CTE) of the statement that writes the change they describe. */
export const insertEvents = (sql: SqlClient.SqlClient, rows: ReadonlyArray<EventRow>) =>
  sql`INSERT INTO events ${sql.insert(rows.map((r) => ({ ...r })))}`

export class EventOutbox extends Context.Tag("@streamspace/core/EventOutbox")<
  EventOutbox,
  {
    /** Publishes a core event (payload checked against the catalog), acting user from `CurrentActor`. */
    readonly publish: <T extends CoreEventType>(
      type: T,
      payload: CoreEventPayload<T>
    ) => Effect.Effect<string, never, CurrentActor>
    /**
     * A core event as its row (payload checked against the catalog, acting user from `CurrentActor`), for a
     * caller that writes it with `insertEvents` in the same statement as its change; the listeners are woken
     * after that commits, as for `publish`.
     */
    readonly row: <T extends CoreEventType>(
      type: T,
      payload: CoreEventPayload<T>
    ) => Effect.Effect<EventRow, never, CurrentActor>
    /** Publishes any event (plugin events); the caller has validated the payload. */
    readonly publishRaw: (input: PublishInput) => Effect.Effect<string>
    /** Wakes the listeners once the current request has committed: for events written by other means (plugins' own transactions). */
    readonly written: Effect.Effect<void>
    /**
     * Runs `onWake` after events were written (best effort; a burst may wake it
     * once), in a fiber of the caller's scope, so it has the caller's logger,
     * clock and lifetime.
     */
    readonly whenWritten: (onWake: Effect.Effect<void>) => Effect.Effect<void, never, Scope.Scope>
  }
>() {}

export const EventOutboxLive = Layer.effect(
  EventOutbox,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const wakeups = yield* PubSub.sliding<void>(1)
    // Listeners must see the event's row: inside a request they are woken after its commit.
    // Elsewhere the caller's transaction may still be open; readers also poll, so an early wake-up only costs a pass.
    const wake = afterCommit(PubSub.publish(wakeups, undefined).pipe(Effect.asVoid))
    const publishRaw = (input: PublishInput) =>
      Effect.gen(function* () {
        const row = eventRow(input)
        yield* insertEvents(sql, [row])
        yield* wake
        return row.id
        // A failing insert is the infrastructure's failure, not the publisher's: a defect.
      }).pipe(Effect.catchIf(isSqlError, Effect.die))
    const coreEvent = <T extends CoreEventType>(type: T, payload: CoreEventPayload<T>) =>
      Effect.gen(function* () {
        const actor = yield* CurrentActor
        const encoded = yield* Schema.encode(catalog[type] as Schema.Schema<unknown, unknown>)(payload).pipe(
          Effect.orDie
        )
        return { type, source: "core", payload: encoded, actorId: actorId(actor) }
      })
    return {
      publish: (type, payload) => Effect.flatMap(coreEvent(type, payload), publishRaw),
      row: (type, payload) => Effect.map(coreEvent(type, payload), eventRow).pipe(Effect.tap(() => wake)),
      publishRaw,
      written: wake,
      whenWritten: (onWake) =>
        Effect.flatMap(PubSub.subscribe(wakeups), (woken) =>
          Effect.forkScoped(Effect.forever(Effect.zipRight(Queue.take(woken), onWake)))
        ).pipe(Effect.asVoid)
    }
  })
)
