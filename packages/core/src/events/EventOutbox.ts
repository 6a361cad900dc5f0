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

export class EventOutbox extends Context.Tag("@streamspace/core/EventOutbox")<
  EventOutbox,
  {
    /** Publishes a core event (payload checked against the catalog), acting user from `CurrentActor`. */
    readonly publish: <T extends CoreEventType>(
      type: T,
      payload: CoreEventPayload<T>
    ) => Effect.Effect<string, never, CurrentActor>
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
        const id = crypto.randomUUID()
        yield* sql`INSERT INTO events ${sql.insert({
          id,
          type: input.type,
          source: input.source,
          payload: JSON.stringify(input.payload),
          actor_id: input.actorId
        })}`
        yield* wake
        return id
        // A failing insert is the infrastructure's failure, not the publisher's: a defect.
      }).pipe(Effect.catchIf(isSqlError, Effect.die))
    return {
      publish: (type, payload) =>
        Effect.gen(function* () {
          const actor = yield* CurrentActor
          const encoded = yield* Schema.encode(catalog[type] as Schema.Schema<unknown, unknown>)(payload).pipe(
            Effect.orDie
          )
          return yield* publishRaw({ type, source: "core", payload: encoded, actorId: actorId(actor) })
        }),
      publishRaw,
      written: wake,
      whenWritten: (onWake) =>
        Effect.flatMap(PubSub.subscribe(wakeups), (woken) =>
          Effect.forkScoped(Effect.forever(Effect.zipRight(Queue.take(woken), onWake)))
        ).pipe(Effect.asVoid)
    }
  })
)
