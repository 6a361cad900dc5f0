/**
 * The durable queue of integration deliveries (a Slack message, a PagerDuty
 * event, an email), with the record of each: status, attempts, response code,
 * error, latency. Notification plugins enqueue; the IntegrationDispatcher
 * sends; admins see one history for all providers and replay dead letters.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Schema } from "effect"
import { Conflict, NotFound } from "../Errors.ts"
import { ByTime, keyOf, pageOf, type PageOf } from "../Pagination.ts"
import { now } from "../Timestamps.ts"

export const DeliveryStatus = Schema.Literal("pending", "delivered", "failed", "dead")
export type DeliveryStatus = typeof DeliveryStatus.Type

export class IntegrationDelivery extends Schema.Class<IntegrationDelivery>("IntegrationDelivery")({
  id: Schema.String,
  integrationId: Schema.String,
  /** What the delivery is about: the event type, or `test`. */
  subject: Schema.String,
  status: DeliveryStatus,
  attempts: Schema.Number,
  responseCode: Schema.NullOr(Schema.Number),
  lastError: Schema.NullOr(Schema.String),
  latencyMs: Schema.NullOr(Schema.Number),
  nextAttemptAt: Schema.NullOr(Schema.Date),
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}) {}

export interface Row {
  readonly id: string
  readonly integration_id: string
  readonly dedupe_key: string
  readonly subject: string
  readonly status: DeliveryStatus
  readonly attempts: number
  readonly response_code: number | null
  readonly last_error: string | null
  readonly latency_ms: number | null
  readonly payload: unknown
  readonly next_attempt_at: Date | null
  readonly created_at: Date
  readonly updated_at: Date
}

export const toDelivery = (r: Row) =>
  new IntegrationDelivery({
    id: r.id,
    integrationId: r.integration_id,
    subject: r.subject,
    status: r.status,
    attempts: r.attempts,
    responseCode: r.response_code,
    lastError: r.last_error,
    latencyMs: r.latency_ms,
    nextAttemptAt: r.next_attempt_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at
  })

export interface EnqueueInput {
  readonly integrationId: string
  /** Unique per integration: enqueuing the same key twice keeps the first (event delivery is at least once). */
  readonly dedupeKey: string
  readonly subject: string
  /** What the provider's sender needs, already rendered; never secrets (those come from the integration at send time). */
  readonly payload: unknown
  /** Deliveries with the same key are sent in the order they were queued (e.g. a trigger before its resolve). */
  readonly orderKey?: string | undefined
  /** Not picked up by the background dispatcher: the caller sends it with `IntegrationDispatcher.sendNow`. */
  readonly hold?: boolean
}

export interface ListOptions {
  readonly limit: number
  readonly cursor?: string | undefined
  readonly status?: DeliveryStatus | undefined
}

export class IntegrationDeliveries extends Context.Tag("@streamspace/core/IntegrationDeliveries")<
  IntegrationDeliveries,
  {
    readonly enqueue: (
      input: EnqueueInput
    ) => Effect.Effect<{ readonly id: string; readonly created: boolean }, SqlError>
    readonly get: (id: string) => Effect.Effect<IntegrationDelivery, NotFound | SqlError>
    readonly list: (integrationId: string, options: ListOptions) => Effect.Effect<PageOf<IntegrationDelivery>, SqlError>
    /** Queues a dead (or failed) delivery for one more attempt now. */
    readonly replay: (
      integrationId: string,
      id: string
    ) => Effect.Effect<IntegrationDelivery, NotFound | Conflict | SqlError>
  }
>() {}

export const IntegrationDeliveriesLive = Layer.effect(
  IntegrationDeliveries,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const find = (id: string) =>
      Effect.flatMap(sql<Row>`SELECT * FROM integration_deliveries WHERE id = ${id}`, (rows) =>
        rows[0] ? Effect.succeed(rows[0]) : Effect.fail(new NotFound({ resource: "delivery", id }))
      )
    return {
      enqueue: (input) =>
        Effect.gen(function* () {
          const at = yield* now
          const rows = yield* sql<{ id: string }>`INSERT INTO integration_deliveries ${sql.insert({
            id: crypto.randomUUID(),
            integration_id: input.integrationId,
            dedupe_key: input.dedupeKey,
            order_key: input.orderKey ?? null,
            subject: input.subject,
            status: "pending",
            payload: JSON.stringify(input.payload),
            next_attempt_at: input.hold === true ? null : at,
            created_at: at,
            updated_at: at
          })} ON CONFLICT (integration_id, dedupe_key) DO NOTHING RETURNING id`
          if (rows[0]) return { id: rows[0].id, created: true }
          const existing = yield* sql<{ id: string }>`SELECT id FROM integration_deliveries
            WHERE integration_id = ${input.integrationId} AND dedupe_key = ${input.dedupeKey}`
          return { id: existing[0]!.id, created: false }
        }),
      get: (id) => Effect.map(find(id), toDelivery),
      list: (integrationId, { limit, cursor, status }) => {
        const c = keyOf(ByTime, cursor)
        return sql<Row>`SELECT * FROM integration_deliveries WHERE integration_id = ${integrationId}
          ${status ? sql`AND status = ${status}` : sql``}
          ${c ? sql`AND (created_at, id) < (${new Date(Number(c[0]))}, ${String(c[1])})` : sql``}
          ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`.pipe(
          Effect.map((rows) => pageOf(rows.map(toDelivery), limit, (d) => [d.createdAt.getTime(), d.id]))
        )
      },
      replay: (integrationId, id) =>
        Effect.gen(function* () {
          const row = yield* find(id)
          if (row.integration_id !== integrationId) return yield* new NotFound({ resource: "delivery", id })
          if (row.status !== "dead" && row.status !== "failed") {
            return yield* new Conflict({
              message: `delivery ${id} is ${row.status}; only dead or failed deliveries are replayed`,
              code: "delivery_not_replayable"
            })
          }
          const at = yield* now
          yield* sql`UPDATE integration_deliveries SET status = 'pending', next_attempt_at = ${at}, updated_at = ${at} WHERE id = ${id}`
          return toDelivery(yield* find(id))
        })
    }
  })
)
