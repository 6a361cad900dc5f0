/**
 * Writes events to the outbox table. `publish` joins the caller's open
 * transaction, so an event exists exactly when the change it describes
 * committed. After commit, listeners registered with `onCommitted` are woken
 * (the kernel's delivery loop); delivery never depends on the wake-up.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Schema, type Scope } from "effect"
import { actorId, afterCommit, CurrentActor } from "../Actor.ts"
import { catalog, type CoreEventPayload, type CoreEventType } from "./CoreEvents.ts"

export interface PublishInput {
  readonly type: string
  readonly source: string
  readonly payload: unknown
  readonly actorId: string | null
}

export class EventOutbox extends Context.Tag("@streamspace/core/EventOutbox")<EventOutbox, {
  /** Publishes a core event (payload checked against the catalog), acting user from `CurrentActor`. */
  readonly publish: <T extends CoreEventType>(
    type: T,
    payload: CoreEventPayload<T>
  ) => Effect.Effect<string, SqlError, CurrentActor>
  /** Publishes any event (plugin events); the caller has validated the payload. */
  readonly publishRaw: (input: PublishInput) => Effect.Effect<string, SqlError>
  /** Wakes the listeners once the current request has committed: for events written by other means (plugins' own transactions). */
  readonly written: Effect.Effect<void>
  /** Registers a wake-up called after events were written (best effort, may coalesce). */
  readonly onWritten: (listener: () => void) => Effect.Effect<void, never, Scope.Scope>
}>() {}

export const EventOutboxLive = Layer.effect(
  EventOutbox,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const listeners = new Set<() => void>()
    // Listeners must see the event's row: inside a request they are woken after its commit.
    // Elsewhere the caller's transaction may still be open; readers also poll, so a early wake-up only costs a pass.
    const wake = afterCommit(Effect.sync(() => {
      for (const l of listeners) l()
    }))
    const publishRaw = (input: PublishInput) =>
      Effect.gen(function*() {
        const id = crypto.randomUUID()
        yield* sql`INSERT INTO events ${
          sql.insert({ id, type: input.type, source: input.source, payload: JSON.stringify(input.payload), actor_id: input.actorId })
        }`
        yield* wake
        return id
      })
    return {
      publish: (type, payload) =>
        Effect.gen(function*() {
          const actor = yield* CurrentActor
          const encoded = yield* Schema.encode(catalog[type] as Schema.Schema<unknown, unknown>)(payload).pipe(Effect.orDie)
          return yield* publishRaw({ type, source: "core", payload: encoded, actorId: actorId(actor) })
        }),
      publishRaw,
      written: wake,
      onWritten: (listener) =>
        Effect.acquireRelease(
          Effect.sync(() => listeners.add(listener)),
          () => Effect.sync(() => listeners.delete(listener))
        ).pipe(Effect.asVoid)
    }
  })
)
