/**
 * Delivery records of integrations (a Slack message, a PagerDuty event, an
 * email): status, attempts, response code, error, latency. Notification
 * plugins record through this so admins see one history for all providers.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect, Layer, Schema } from "effect"
import { decodeCursor, pageOf, type PageOf } from "../Pagination.ts"

export const DeliveryStatus = Schema.Literal("pending", "delivered", "failed", "dead")
export type DeliveryStatus = typeof DeliveryStatus.Type

export class IntegrationDelivery extends Schema.Class<IntegrationDelivery>("IntegrationDelivery")({
  id: Schema.String,
  integrationId: Schema.String,
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

interface Row {
  readonly id: string
  readonly integration_id: string
  readonly subject: string
  readonly status: DeliveryStatus
  readonly attempts: number
  readonly response_code: number | null
  readonly last_error: string | null
  readonly latency_ms: number | null
  readonly next_attempt_at: Date | null
  readonly created_at: Date
  readonly updated_at: Date
}

const toDelivery = (r: Row) =>
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

export interface AttemptResult {
  readonly status: DeliveryStatus
  readonly responseCode: number | null
  readonly error: string | null
  readonly latencyMs: number
  readonly nextAttemptAt: Date | null
}

export class IntegrationDeliveries extends Context.Tag("@streamspace/core/IntegrationDeliveries")<IntegrationDeliveries, {
  readonly record: (integrationId: string, subject: string, payload: unknown) => Effect.Effect<string, SqlError>
  readonly attempt: (id: string, result: AttemptResult) => Effect.Effect<void, SqlError>
  readonly list: (integrationId: string, limit: number, cursor?: string) => Effect.Effect<PageOf<IntegrationDelivery>, SqlError>
}>() {}

export const IntegrationDeliveriesLive = Layer.effect(
  IntegrationDeliveries,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))
    return {
      record: (integrationId, subject, payload) =>
        Effect.gen(function*() {
          const id = crypto.randomUUID()
          const at = yield* now
          yield* sql`INSERT INTO integration_deliveries ${
            sql.insert({ id, integration_id: integrationId, subject, status: "pending", payload: JSON.stringify(payload), next_attempt_at: at, created_at: at, updated_at: at })
          }`
          return id
        }),
      attempt: (id, r) =>
        Effect.flatMap(now, (at) =>
          sql`UPDATE integration_deliveries SET status = ${r.status}, attempts = attempts + 1, response_code = ${r.responseCode},
            last_error = ${r.error}, latency_ms = ${r.latencyMs}, next_attempt_at = ${r.nextAttemptAt}, updated_at = ${at} WHERE id = ${id}`.pipe(Effect.asVoid)),
      list: (integrationId, limit, cursor) => {
        const c = decodeCursor(cursor)
        return sql<Row>`SELECT * FROM integration_deliveries WHERE integration_id = ${integrationId}
          ${c ? sql`AND (created_at, id) < (${new Date(Number(c[0]))}, ${String(c[1])})` : sql``}
          ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`.pipe(
          Effect.map((rows) => pageOf(rows.map(toDelivery), limit, (d) => [d.createdAt.getTime(), d.id]))
        )
      }
    }
  })
)
