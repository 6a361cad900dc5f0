/**
 * Delivers outbox events to webhooks, at least once and signed.
 *
 * Fan-out reads the outbox from a durable (tx_id, position) cursor (one row
 * in `event_cursors`, locked while advancing, so replicas take turns), in
 * that order and only below the oldest running transaction: nothing can
 * appear there later, so an event whose transaction commits late is never
 * skipped. Each batch of events becomes its deliveries in one statement.
 * While no webhook is enabled (`WebhookRepo.presence`) a pass issues no
 * statement at all; enabling one first moves the cursor past the events
 * before it (`skipPastEvents`). Sending claims due deliveries
 * with `FOR UPDATE SKIP LOCKED` and a lease, so no delivery goes out twice at
 * once; failures retry with exponential backoff (honouring Retry-After) and
 * end `dead` after the configured attempts, from where an admin replays.
 * Requests go through the egress policy's guard: a destination it refuses
 * (a name that now resolves to a private address) is dead at once, with
 * the policy's reason as the error.
 */
// Modules, not the package barrel: importing the core (fast tests, tools) need not load all of @effect/platform.
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { SqlClient } from "@effect/sql"
import { Clock, Context, Duration, Effect, Layer, Ref } from "effect"
import { createHmac } from "node:crypto"
import { EgressPolicy, refusal } from "../EgressPolicy.ts"
import { EventOutbox } from "../events/EventOutbox.ts"
import { SecretBox } from "../secrets/SecretBox.ts"
import { ServerConfig } from "../ServerConfig.ts"
import { afterFailure, retryAfterMs } from "../RetryPolicy.ts"
import * as DeliveryLoop from "../internal/DeliveryLoop.ts"
import { type DeliveryRow, FAN_OUT_CURSOR, WebhookRepo } from "./WebhookRepo.ts"
import { now } from "../Timestamps.ts"

export class WebhookDispatcher extends Context.Tag("@streamspace/core/WebhookDispatcher")<
  WebhookDispatcher,
  {
    readonly nudge: Effect.Effect<void>
    /** Fan out new events and send what is due, once (tests, shutdown). */
    readonly runOnce: Effect.Effect<void>
  }
>() {}

const BATCH = 100
/** How often the cursor moves on while no webhook is enabled (for retention only: nothing reads behind it). */
const SKIP_EVERY = Duration.minutes(1)

export const signature = (secret: string, timestamp: string, body: string) =>
  `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`

export { retryAfterMs } from "../RetryPolicy.ts"

export const WebhookDispatcherLive = Layer.scoped(
  WebhookDispatcher,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const config = yield* ServerConfig
    const box = yield* SecretBox
    const http = (yield* EgressPolicy).guard(yield* HttpClient.HttpClient)
    const outbox = yield* EventOutbox
    const repo = yield* WebhookRepo
    const { timeoutMs } = config.webhooks

    // One transaction per batch: the cursor row is locked (replicas take turns), then one statement reads the
    // batch, queues a delivery per (event, matching enabled webhook) and moves the cursor past the batch.
    const fanOutBatch = sql.withTransaction(
      Effect.gen(function* () {
        const cursor = (yield* sql<{ tx_id: string; position: string }>`
          SELECT tx_id::text AS tx_id, position FROM event_cursors WHERE name = ${FAN_OUT_CURSOR} FOR UPDATE`)[0]
        if (!cursor) {
          yield* sql`INSERT INTO event_cursors (name) VALUES (${FAN_OUT_CURSOR}) ON CONFLICT DO NOTHING`
          return BATCH
        }
        const at = yield* now
        const [read] = yield* sql<{ events: number }>`
          WITH batch AS (
            SELECT tx_id, position, id, type, payload, actor_id, occurred_at FROM events
            WHERE (tx_id, position) > (${cursor.tx_id}::xid8, ${cursor.position}::bigint)
              AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY tx_id, position LIMIT ${BATCH}
          ), queued AS (
            INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload, status, next_attempt_at, created_at, updated_at)
            SELECT gen_random_uuid()::text, w.id, e.id, e.type,
              jsonb_build_object('id', e.id, 'type', e.type,
                'occurredAt', to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                'actorId', e.actor_id, 'payload', e.payload),
              'pending', ${at}, ${at}, ${at}
            FROM batch e JOIN webhooks w ON w.enabled AND (e.type = ANY(w.event_types) OR '*' = ANY(w.event_types))
            ON CONFLICT (webhook_id, event_id) DO NOTHING
          ), moved AS (
            UPDATE event_cursors SET tx_id = last.tx_id, position = last.position, updated_at = ${at}
            FROM (SELECT tx_id, position FROM batch ORDER BY tx_id DESC, position DESC LIMIT 1) last
            WHERE name = ${FAN_OUT_CURSOR}
          )
          SELECT count(*)::int AS events FROM batch`
        return read?.events ?? 0
      })
    )

    // While no webhook is enabled nothing fans out; the cursor still moves now and then, so that retention
    // may remove the events behind it.
    const lastSkip = yield* Ref.make(yield* Clock.currentTimeMillis)
    const skipWhileNoneEnabled = Effect.gen(function* () {
      const at = yield* now
      if (at.getTime() - (yield* Ref.get(lastSkip)) < Duration.toMillis(SKIP_EVERY)) return
      yield* Ref.set(lastSkip, at.getTime())
      yield* repo.skipPastEvents(at)
    })

    const fanOut = Effect.gen(function* () {
      if (!(yield* repo.presence).enabled) return yield* skipWhileNoneEnabled
      while ((yield* fanOutBatch) === BATCH) {
        /* drain the backlog */
      }
    })

    const claim = Effect.gen(function* () {
      // Deliveries belong to webhooks (deleted with them): none exist without one.
      if (!(yield* repo.presence).any) return []
      const at = yield* now
      const lease = new Date(at.getTime() + timeoutMs + 30_000)
      return yield* sql<DeliveryRow & { url: string; secret_encrypted: string }>`
        UPDATE webhook_deliveries d SET next_attempt_at = ${lease}
        FROM (SELECT d2.id FROM webhook_deliveries d2 WHERE d2.status IN ('pending', 'failed') AND d2.next_attempt_at <= ${at}
              ORDER BY d2.next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED) c, webhooks w
        WHERE d.id = c.id AND w.id = d.webhook_id
        RETURNING d.*, w.url, w.secret_encrypted`
    })

    const send = (d: DeliveryRow & { url: string; secret_encrypted: string }) =>
      Effect.gen(function* () {
        const body = JSON.stringify(d.payload)
        const started = yield* Clock.currentTimeMillis
        const timestamp = String(Math.floor(started / 1000))
        const request = HttpClientRequest.post(d.url).pipe(
          HttpClientRequest.setHeaders({
            "content-type": "application/json",
            "user-agent": "StreamSpace-Webhooks/1",
            "x-streamspace-event": d.event_type,
            "x-streamspace-delivery": d.id,
            "x-streamspace-timestamp": timestamp,
            "x-streamspace-signature": signature(box.open(d.secret_encrypted), timestamp, body)
          }),
          HttpClientRequest.bodyText(body, "application/json")
        )
        const outcome = yield* http.execute(request).pipe(
          Effect.flatMap((res) =>
            Effect.as(res.text.pipe(Effect.ignore), { status: res.status, retryAfter: res.headers["retry-after"] })
          ),
          Effect.timeout(Duration.millis(timeoutMs)),
          Effect.either
        )
        const finished = yield* Clock.currentTimeMillis
        const duration = Math.round(finished - started)
        const attempts = d.attempts + 1
        const at = new Date(finished)
        if (outcome._tag === "Right" && outcome.right.status >= 200 && outcome.right.status < 300) {
          yield* sql`UPDATE webhook_deliveries SET status = 'delivered', attempts = ${attempts}, response_code = ${outcome.right.status},
            last_error = NULL, duration_ms = ${duration}, updated_at = ${at} WHERE id = ${d.id}`
          return
        }
        const code = outcome._tag === "Right" ? outcome.right.status : null
        const refused = outcome._tag === "Left" ? refusal(outcome.left) : undefined
        const error =
          outcome._tag === "Right"
            ? `HTTP ${outcome.right.status}`
            : refused
              ? refused.message
              : outcome.left._tag === "TimeoutException"
                ? `timed out after ${timeoutMs} ms`
                : String(outcome.left.message ?? outcome.left)
        const { dead, nextAttemptAt: next } = afterFailure(config.webhooks, {
          attempts,
          finishedAtMs: finished,
          retryAfterMs: outcome._tag === "Right" ? retryAfterMs(outcome.right.retryAfter, finished) : undefined,
          // Retrying cannot help until an admin changes the URL or the allow-list (then: replay).
          permanent: refused !== undefined
        })
        yield* sql`UPDATE webhook_deliveries SET status = ${dead ? "dead" : "failed"}, attempts = ${attempts}, response_code = ${code},
          last_error = ${error}, duration_ms = ${duration}, next_attempt_at = ${next}, updated_at = ${at} WHERE id = ${d.id}`
      })

    const loop = yield* DeliveryLoop.start({
      name: "webhook",
      prepare: fanOut,
      claim,
      attempt: send
    })
    yield* outbox.whenWritten(loop.nudge)
    return loop
  })
)
