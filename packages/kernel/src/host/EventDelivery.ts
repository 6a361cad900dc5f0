/**
 * Durable delivery of outbox events to plugin subscriptions. Each
 * subscription is a row (plugin, name, event types, cursor): it outlives the
 * plugin's enablement, so events published while a plugin is disabled are
 * delivered after it is enabled again. Subscriptions exist because plugins
 * are installed (the registry in the database), not because some process
 * happens to have loaded them.
 *
 * A loop per subscription (in the plugin's scope), woken a few ms after
 * events are written (a burst shares the wake-up), takes a lease on its row
 * when an event it selects is waiting, so one instance delivers it at a
 * time and a wake-up with nothing for it writes nothing; reads events after
 * the cursor in (tx_id, position) order below the oldest running transaction
 * (nothing can appear there later); runs the handler for each in order; and
 * moves the cursor after each success. A failure retries with backoff; after
 * `maxAttempts` the event is dead-lettered and the cursor moves on. Admins
 * list and replay dead letters.
 *
 * Types select exactly, by prefix (`session.*`) or all (`*`). Typed
 * subscriptions (`event`/`events`/`schema`, see PluginEvents.ts) decode each
 * payload before the handler runs: one that does not decode is a handler
 * failure whose error names the event and the field.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Conflict, type CoreEvents, EventOutbox, NotFound, Timestamps } from "@streamspace/core"
import { PostgresClient } from "@streamspace/db"
import {
  Clock,
  Context,
  Deferred,
  Duration,
  Effect,
  Layer,
  Option,
  PubSub,
  Queue,
  Random,
  Schedule,
  type Scope,
  Stream
} from "effect"
import type { Events } from "../Events.ts"
import { reading } from "./PluginEvents.ts"
import { PluginFailed } from "./PluginErrors.ts"

/** How a subscription's events are handled: one at a time, or in batches with per-event fallback. */
interface Handling {
  readonly one: Events.EventHandler<unknown>
  readonly many?: { readonly handler: Events.BatchHandler<unknown>; readonly maxBatch: number }
}

/** A subscription's row: its name, the types it selects, its attempts. */
interface Registration {
  readonly name: string
  readonly types: ReadonlyArray<string>
  readonly maxAttempts?: number | undefined
}

/** `LIKE` patterns of the prefix types (`session.*` → `session.%`). */
const prefixPatterns = (types: ReadonlyArray<string>) =>
  types.filter((t) => t.endsWith(".*")).map((t) => `${t.slice(0, -1).replace(/[%_\\]/g, "\\$&")}%`)

const { now } = Timestamps

export interface DeadLetter {
  readonly id: string
  readonly plugin: string
  readonly subscription: string
  readonly eventId: string
  readonly eventType: string
  readonly attempts: number
  readonly error: string
  readonly createdAt: Date
  readonly replayedAt: Date | null
}

interface EventRow {
  readonly tx_id: string
  readonly position: string
  readonly id: string
  readonly type: string
  readonly source: string
  readonly payload: unknown
  readonly actor_id: string | null
  readonly occurred_at: Date
}

const envelope = (e: EventRow): CoreEvents.EventEnvelope => ({
  id: e.id,
  position: e.position,
  type: e.type,
  source: e.source,
  payload: e.payload,
  actorId: e.actor_id,
  occurredAt: e.occurred_at
})

/** A lease outlives one handler call; a crashed instance's subscription is picked up within this. */
const HANDLER_TIMEOUT_MS = 10_000
const LEASE_MS = HANDLER_TIMEOUT_MS + 5_000
const CURSOR_EVERY = 50
const BOOT_SPREAD_MS = 500
const backoff = (attempt: number) => Math.min(60_000, 500 * 2 ** (attempt - 1))

/**
 * A wake-up waits this long (wall time: a simulated clock that tests move by
 * hand must not hold deliveries) for the rest of its burst, so that the
 * writes of a burst of requests share one pass.
 */
const restOfBurst = Effect.sleep(Duration.millis(5)).pipe(Effect.withClock(Clock.make()))

export class EventDelivery extends Context.Tag("@streamspace/kernel/EventDelivery")<
  EventDelivery,
  {
    readonly subscribe: <O extends Events.SubscribeOptions, E>(
      plugin: string,
      options: O,
      handler: Events.EventHandler<E, Events.EventFor<O>>
    ) => Effect.Effect<void, never, Scope.Scope>
    readonly subscribeBatch: <O extends Events.SubscribeBatchOptions, E>(
      plugin: string,
      options: O,
      handler: Events.BatchHandler<E, Events.EventFor<O>>
    ) => Effect.Effect<void, never, Scope.Scope>
    readonly deadLetters: (plugin: string) => Effect.Effect<ReadonlyArray<DeadLetter>, SqlError>
    /** Runs the subscription's handler on the dead-lettered event again (the plugin must be enabled). */
    readonly replay: (plugin: string, id: string) => Effect.Effect<void, NotFound | Conflict | PluginFailed | SqlError>
    /**
     * Lets subscriptions start delivering. The host opens it once boot has enabled every plugin, so that
     * catching up does not compete with start-up for the database; later subscriptions start at once.
     */
    readonly start: Effect.Effect<void>
  }
>() {}

const CHANNEL = "streamspace_events"

export const EventDeliveryLive = Layer.scoped(
  EventDelivery,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const outbox = yield* EventOutbox.EventOutbox
    const handlers = new Map<string, Handling>()
    const started = yield* Deferred.make<void>()

    // Wake-ups: in-process after each commit that wrote events, and on PostgreSQL a NOTIFY
    // (sent after commit, at most every 50 ms) that other instances LISTEN for.
    const wake = yield* PubSub.sliding<void>(1)
    const postgres = yield* Effect.serviceOption(PostgresClient.PostgresClient)
    let notifyPending = false
    const notify = Effect.suspend(() => {
      if (notifyPending) return Effect.void
      notifyPending = true
      return sql`SELECT pg_notify(${CHANNEL}, '')`.pipe(
        Effect.delay("50 millis"),
        Effect.ensuring(Effect.sync(() => void (notifyPending = false))),
        Effect.ignore,
        Effect.forkDaemon,
        Effect.asVoid
      )
    })
    yield* outbox.whenWritten(
      Effect.zipRight(PubSub.publish(wake, undefined), Option.isSome(postgres) ? notify : Effect.void)
    )
    if (Option.isSome(postgres)) {
      yield* postgres.value.listen(CHANNEL).pipe(
        Stream.runForEach(() => PubSub.publish(wake, undefined)),
        Effect.tapErrorCause((cause) =>
          Effect.logWarning("LISTEN for event wake-ups dropped; polling meanwhile", cause)
        ),
        Effect.retry(Schedule.spaced("5 seconds")),
        Effect.forkScoped
      )
    }

    /** The events of `types` (the `events` table's columns unqualified). */
    const selects = (types: ReadonlyArray<string>) =>
      sql`(type = ANY(${types}) OR '*' = ANY(${types}) OR type LIKE ANY(${prefixPatterns(types)}))`

    const deliverBatch = (plugin: string, name: string, types: ReadonlyArray<string>, handling: Handling) =>
      Effect.gen(function* () {
        const at = yield* now
        const claimed = (yield* sql<{
          tx_id: string
          position: string
          attempts: number
          max_attempts: number
          event_types: ReadonlyArray<string>
        }>`
          UPDATE plugin_subscriptions s SET lease_until = ${new Date(at.getTime() + LEASE_MS)}
          WHERE plugin_id = ${plugin} AND name = ${name}
            AND (lease_until IS NULL OR lease_until < ${at}) AND (next_attempt_at IS NULL OR next_attempt_at <= ${at})
            -- Leased only when an event waits: a wake-up with nothing for this subscription writes nothing.
            AND EXISTS (SELECT 1 FROM events e
                        WHERE (e.tx_id, e.position) > (s.tx_id, s.position)
                          AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot()) AND ${selects(types)})
          RETURNING tx_id::text AS tx_id, position, attempts, max_attempts, event_types`)[0]
        if (!claimed) return 0
        const release = sql`UPDATE plugin_subscriptions SET lease_until = NULL WHERE plugin_id = ${plugin} AND name = ${name}`
        const events = yield* sql<EventRow>`
          SELECT tx_id::text AS tx_id, position, id, type, source, payload, actor_id, occurred_at FROM events
          WHERE (tx_id, position) > (${claimed.tx_id}::xid8, ${claimed.position}::bigint)
            AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
            AND ${selects(claimed.event_types)}
          ORDER BY events.tx_id, events.position LIMIT 200`
        let attempts = claimed.attempts
        let delivered = 0
        let leaseUntil = at.getTime() + LEASE_MS
        // The cursor is written every CURSOR_EVERY successes (and before anything else touches the row):
        // a crash repeats at most that many events, which at-least-once allows.
        let pending: EventRow | undefined
        const saveCursor = Effect.suspend(() => {
          const e = pending
          pending = undefined
          return e
            ? sql`UPDATE plugin_subscriptions SET tx_id = ${e.tx_id}::xid8, position = ${e.position}, attempts = 0, last_error = NULL
                WHERE plugin_id = ${plugin} AND name = ${name}`.pipe(Effect.asVoid)
            : Effect.void
        })
        const extendLease = Effect.gen(function* () {
          const started = yield* Clock.currentTimeMillis
          if (started + HANDLER_TIMEOUT_MS + 1000 > leaseUntil) {
            leaseUntil = started + LEASE_MS
            yield* sql`UPDATE plugin_subscriptions SET lease_until = ${new Date(leaseUntil)} WHERE plugin_id = ${plugin} AND name = ${name}`
          }
        })
        const succeeded = (event: EventRow, count: number) =>
          Effect.suspend(() => {
            pending = event
            attempts = 0
            const before = delivered
            delivered += count
            return Math.floor(delivered / CURSOR_EVERY) > Math.floor(before / CURSOR_EVERY) ? saveCursor : Effect.void
          })
        let i = 0
        // Events of a failed batch are handed over one at a time up to this index.
        let singlyUntil = 0
        while (i < events.length) {
          yield* extendLease
          if (handling.many && i >= singlyUntil) {
            const chunk = events.slice(i, i + handling.many.maxBatch)
            const exit = yield* handling.many
              .handler(chunk.map(envelope))
              .pipe(Effect.timeout(Duration.millis(HANDLER_TIMEOUT_MS)), Effect.exit)
            if (exit._tag === "Success") {
              yield* succeeded(chunk[chunk.length - 1]!, chunk.length)
              i += chunk.length
              continue
            }
            yield* Effect.logWarning(
              `plugin ${plugin}: batch of ${chunk.length} event(s) for ${name} failed; handing them over one at a time`,
              exit.cause
            )
            singlyUntil = i + chunk.length
          }
          const event = events[i]!
          const exit = yield* handling
            .one(envelope(event))
            .pipe(Effect.timeout(Duration.millis(HANDLER_TIMEOUT_MS)), Effect.exit)
          if (exit._tag === "Success") {
            yield* succeeded(event, 1)
            i++
            continue
          }
          yield* saveCursor
          attempts++
          const error = String(exit.cause).slice(0, 2000)
          const retryAt = yield* now
          if (attempts >= claimed.max_attempts) {
            yield* sql.withTransaction(
              Effect.gen(function* () {
                yield* sql`INSERT INTO plugin_dead_letters ${sql.insert({
                  id: crypto.randomUUID(),
                  plugin_id: plugin,
                  subscription: name,
                  event_position: event.position,
                  event_id: event.id,
                  event_type: event.type,
                  attempts,
                  error,
                  created_at: retryAt
                })}`
                yield* sql`UPDATE plugin_subscriptions SET tx_id = ${event.tx_id}::xid8, position = ${event.position}, attempts = 0, last_error = ${error}
                WHERE plugin_id = ${plugin} AND name = ${name}`
              })
            )
            yield* Effect.logWarning(
              `plugin ${plugin}: event ${event.type} ${event.id} dead-lettered after ${attempts} attempts`
            )
            attempts = 0
            i++
            continue
          }
          yield* sql`UPDATE plugin_subscriptions SET attempts = ${attempts}, last_error = ${error},
            next_attempt_at = ${new Date(retryAt.getTime() + backoff(attempts))} WHERE plugin_id = ${plugin} AND name = ${name}`
          break
        }
        yield* saveCursor
        yield* release
        return delivered
      })

    const register = (plugin: string, options: Registration, handling: Handling) =>
      Effect.gen(function* () {
        // A new subscription starts at the newest event; an existing one keeps its cursor.
        yield* sql`
          INSERT INTO plugin_subscriptions (plugin_id, name, event_types, tx_id, position, max_attempts)
          SELECT ${plugin}, ${options.name}, ${[...options.types]},
            COALESCE((SELECT tx_id FROM events ORDER BY tx_id DESC, position DESC LIMIT 1), '0'::xid8),
            COALESCE((SELECT position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1), 0),
            ${options.maxAttempts ?? 5}
          ON CONFLICT (plugin_id, name) DO UPDATE SET event_types = EXCLUDED.event_types, max_attempts = EXCLUDED.max_attempts, lease_until = NULL
          -- An unchanged subscription is not rewritten (no commit to wait for at boot).
          WHERE plugin_subscriptions.event_types IS DISTINCT FROM EXCLUDED.event_types
             OR plugin_subscriptions.max_attempts IS DISTINCT FROM EXCLUDED.max_attempts
             OR plugin_subscriptions.lease_until IS NOT NULL`.pipe(Effect.orDie)
        const key = `${plugin}/${options.name}`
        yield* Effect.acquireRelease(
          Effect.sync(() => handlers.set(key, handling)),
          () => Effect.sync(() => handlers.delete(key))
        )
        const signal = yield* PubSub.subscribe(wake)
        const drain = Effect.repeat(deliverBatch(plugin, options.name, options.types, handling), {
          while: (n) => n > 0
        }).pipe(
          Effect.catchAllCause((cause) =>
            Effect.logError(`plugin ${plugin}: delivery to ${options.name} failed`, cause)
          )
        )
        // Subscriptions made during boot start when boot is over, spread over a moment, so that the
        // server's first requests are not queued behind every subscription catching up at once.
        const booting = !(yield* Deferred.isDone(started))
        yield* Deferred.await(started).pipe(
          Effect.zipRight(
            booting
              ? Effect.flatMap(Random.nextIntBetween(0, BOOT_SPREAD_MS), (ms) => Effect.sleep(Duration.millis(ms)))
              : Effect.void
          ),
          Effect.zipRight(
            drain.pipe(
              Effect.zipRight(
                Queue.take(signal).pipe(
                  Effect.timeoutOption(Duration.seconds(1)),
                  Effect.tap((woken) =>
                    Option.isSome(woken) ? Effect.zipRight(restOfBurst, Queue.takeAll(signal)) : Effect.void
                  )
                )
              ),
              Effect.forever
            )
          ),
          Effect.ensuring(
            sql`UPDATE plugin_subscriptions SET lease_until = NULL WHERE plugin_id = ${plugin} AND name = ${options.name}`.pipe(
              Effect.ignore
            )
          ),
          Effect.forkScoped
        )
      })

    return {
      start: Deferred.succeed(started, undefined).pipe(Effect.asVoid),
      subscribe: (plugin, options, handler) => {
        const { decode, types } = reading(options)
        return register(
          plugin,
          { name: options.name, types, maxAttempts: options.maxAttempts },
          { one: (event) => Effect.flatMap(decode(event), handler) }
        )
      },
      subscribeBatch: (plugin, options, handler) => {
        const { decode, types } = reading(options)
        const many: Events.BatchHandler<unknown> = (events) => Effect.flatMap(Effect.forEach(events, decode), handler)
        return register(
          plugin,
          { name: options.name, types, maxAttempts: options.maxAttempts },
          {
            one: (event) => many([event]),
            many: { handler: many, maxBatch: Math.max(1, Math.min(200, options.maxBatch ?? 200)) }
          }
        )
      },

      deadLetters: (plugin) =>
        Effect.map(
          sql<{
            id: string
            plugin_id: string
            subscription: string
            event_id: string
            event_type: string
            attempts: number
            error: string
            created_at: Date
            replayed_at: Date | null
          }>`
            SELECT * FROM plugin_dead_letters WHERE plugin_id = ${plugin} ORDER BY created_at DESC LIMIT 500`,
          (rows) =>
            rows.map((r) => ({
              id: r.id,
              plugin: r.plugin_id,
              subscription: r.subscription,
              eventId: r.event_id,
              eventType: r.event_type,
              attempts: r.attempts,
              error: r.error,
              createdAt: r.created_at,
              replayedAt: r.replayed_at
            }))
        ),
      replay: (plugin, id) =>
        Effect.gen(function* () {
          const dl = (yield* sql<{
            subscription: string
            event_id: string
          }>`SELECT subscription, event_id FROM plugin_dead_letters WHERE id = ${id} AND plugin_id = ${plugin}`)[0]
          if (!dl) return yield* new NotFound({ resource: "dead letter", id })
          const handler = handlers.get(`${plugin}/${dl.subscription}`)?.one
          if (!handler)
            return yield* new Conflict({
              message: `plugin ${plugin} is not running subscription ${dl.subscription}; enable it first`,
              code: "plugin_disabled"
            })
          const event =
            (yield* sql<EventRow>`SELECT tx_id::text AS tx_id, position, id, type, source, payload, actor_id, occurred_at FROM events WHERE id = ${dl.event_id}`)[0]
          if (!event) return yield* new NotFound({ resource: "event", id: dl.event_id })
          yield* handler(envelope(event)).pipe(
            Effect.mapError((e) => new PluginFailed({ plugin, message: `replay failed: ${String(e)}` }))
          )
          yield* sql`UPDATE plugin_dead_letters SET replayed_at = ${yield* now} WHERE id = ${id}`
        })
    }
  })
)
