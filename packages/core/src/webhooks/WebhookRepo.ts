/** SQL for webhooks and their deliveries, as a service so that Webhooks' rules can run against a stub in tests. */
import { SqlClient } from "@effect/sql"
import { sqlDefects } from "../Infrastructure.ts"
import { Context, Duration, Effect, Layer } from "effect"
import { afterCommit } from "../Actor.ts"
import { ByTime, keyOf, type PageOf, pageOf } from "../Pagination.ts"
import { Webhook, WebhookDelivery } from "./WebhookModel.ts"

export interface WebhookRow {
  readonly id: string
  readonly name: string
  readonly url: string
  readonly event_types: ReadonlyArray<string>
  readonly secret_encrypted: string
  readonly enabled: boolean
  readonly created_at: Date
  readonly updated_at: Date
}

export interface DeliveryRow {
  readonly id: string
  readonly webhook_id: string
  readonly event_id: string
  readonly event_type: string
  readonly payload: unknown
  readonly status: "pending" | "delivered" | "failed" | "dead"
  readonly attempts: number
  readonly response_code: number | null
  readonly last_error: string | null
  readonly duration_ms: number | null
  readonly next_attempt_at: Date
  readonly created_at: Date
  readonly updated_at: Date
}

export const toWebhook = (r: WebhookRow) =>
  new Webhook({
    id: r.id,
    name: r.name,
    url: r.url,
    eventTypes: r.event_types,
    enabled: r.enabled,
    createdAt: r.created_at,
    updatedAt: r.updated_at
  })

export const toDelivery = (r: DeliveryRow) =>
  new WebhookDelivery({
    id: r.id,
    webhookId: r.webhook_id,
    eventId: r.event_id,
    eventType: r.event_type,
    status: r.status,
    attempts: r.attempts,
    responseCode: r.response_code,
    lastError: r.last_error,
    durationMs: r.duration_ms,
    nextAttemptAt: r.next_attempt_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at
  })

/** The row of `event_cursors` up to which outbox events have been fanned out to webhooks. */
export const FAN_OUT_CURSOR = "webhooks"

/** Whether any webhook exists (deliveries may be due) and whether any is enabled (events fan out). */
export interface WebhookPresence {
  readonly any: boolean
  readonly enabled: boolean
}

/** How long another replica's webhook changes may go unseen by this one's `presence`. */
const PRESENCE_TTL = Duration.seconds(1)

export interface NewWebhook {
  readonly id: string
  readonly name: string
  readonly url: string
  readonly eventTypes: ReadonlyArray<string>
  readonly secretEncrypted: string
  readonly enabled: boolean
  readonly at: Date
}

export class WebhookRepo extends Context.Tag("@streamspace/core/WebhookRepo")<
  WebhookRepo,
  {
    readonly insert: (w: NewWebhook) => Effect.Effect<void>
    readonly find: (id: string) => Effect.Effect<WebhookRow | undefined>
    readonly list: Effect.Effect<ReadonlyArray<Webhook>>
    readonly update: (id: string, columns: Record<string, unknown>, at: Date) => Effect.Effect<void>
    /** Returns false when there was no such webhook. */
    readonly delete: (id: string) => Effect.Effect<boolean>
    /** A webhook's deliveries, newest first. */
    readonly deliveries: (webhookId: string, limit: number, cursor?: string) => Effect.Effect<PageOf<WebhookDelivery>>
    readonly findDelivery: (webhookId: string, id: string) => Effect.Effect<DeliveryRow | undefined>
    /** Back to pending with a fresh attempt budget. */
    readonly replay: (id: string, at: Date) => Effect.Effect<void>
    /**
     * Cached for a second; this replica's own inserts, updates and deletes
     * refresh it once they commit.
     */
    readonly presence: Effect.Effect<WebhookPresence>
    /**
     * Moves the fan-out cursor past every finished event, unless a webhook
     * other than `except` is enabled (its events must still fan out). While
     * no webhook is enabled the fan-out does not run, so a webhook being
     * enabled calls this: it then receives no event older than itself.
     */
    readonly skipPastEvents: (at: Date, except?: string) => Effect.Effect<void>
  }
>() {}

export const WebhookRepoLive = Layer.effect(
  WebhookRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [presence, invalidate] = yield* Effect.cachedInvalidateWithTTL(
      Effect.map(
        sql<{ any: boolean; enabled: boolean }>`
          SELECT count(*) > 0 AS any, count(*) FILTER (WHERE enabled) > 0 AS enabled FROM webhooks`,
        (rows) => ({ any: rows[0]?.any === true, enabled: rows[0]?.enabled === true })
      ).pipe(Effect.orDie),
      PRESENCE_TTL
    )
    const changed = afterCommit(invalidate)
    const skipPastEvents = (at: Date, except?: string) =>
      Effect.gen(function* () {
        // Locked first, so that the check below reads after any fan-out or enabling that held the row has committed.
        yield* sql`INSERT INTO event_cursors (name, updated_at) VALUES (${FAN_OUT_CURSOR}, ${at})
          ON CONFLICT (name) DO UPDATE SET updated_at = EXCLUDED.updated_at`
        yield* sql`
          UPDATE event_cursors c SET tx_id = newest.tx_id, position = newest.position, updated_at = ${at}
          FROM (SELECT tx_id, position FROM events WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
                ORDER BY tx_id DESC, position DESC LIMIT 1) newest
          WHERE c.name = ${FAN_OUT_CURSOR} AND (newest.tx_id, newest.position) > (c.tx_id, c.position)
            AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.enabled AND w.id IS DISTINCT FROM ${except ?? null})`
      })
    return sqlDefects<WebhookRepo["Type"]>({
      presence,
      skipPastEvents,
      insert: (w) =>
        sql`INSERT INTO webhooks ${sql.insert({
          id: w.id,
          name: w.name,
          url: w.url,
          event_types: [...w.eventTypes],
          secret_encrypted: w.secretEncrypted,
          enabled: w.enabled,
          created_at: w.at,
          updated_at: w.at
        })}`.pipe(Effect.zipRight(w.enabled ? skipPastEvents(w.at, w.id) : Effect.void), Effect.zipRight(changed)),
      find: (id) => Effect.map(sql<WebhookRow>`SELECT * FROM webhooks WHERE id = ${id}`, (rows) => rows[0]),
      list: Effect.map(sql<WebhookRow>`SELECT * FROM webhooks ORDER BY created_at`, (rows) => rows.map(toWebhook)),
      update: (id, columns, at) =>
        Effect.gen(function* () {
          // Re-enabling a webhook: like a new one, it receives no event from the time it was off.
          const enabling =
            columns["enabled"] === true
              ? (yield* sql<{ enabled: boolean }>`SELECT enabled FROM webhooks WHERE id = ${id}`)[0]?.enabled === false
              : false
          yield* sql`UPDATE webhooks SET ${sql.update({ ...columns, updated_at: at })} WHERE id = ${id}`
          if (enabling) yield* skipPastEvents(at, id)
          yield* changed
        }),
      delete: (id) =>
        Effect.map(
          Effect.zipLeft(sql<{ id: string }>`DELETE FROM webhooks WHERE id = ${id} RETURNING id`, changed),
          (rows) => rows.length > 0
        ),
      deliveries: (webhookId, limit, cursor) => {
        const c = keyOf(ByTime, cursor)
        return sql<DeliveryRow>`SELECT * FROM webhook_deliveries WHERE webhook_id = ${webhookId}
          ${c ? sql`AND (created_at, id) < (${new Date(Number(c[0]))}, ${String(c[1])})` : sql``}
          ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`.pipe(
          Effect.map((rows) => pageOf(rows.map(toDelivery), limit, (d) => [d.createdAt.getTime(), d.id]))
        )
      },
      findDelivery: (webhookId, id) =>
        Effect.map(
          sql<DeliveryRow>`SELECT * FROM webhook_deliveries WHERE webhook_id = ${webhookId} AND id = ${id}`,
          (rows) => rows[0]
        ),
      replay: (id, at) =>
        sql`UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ${at}, last_error = NULL, updated_at = ${at} WHERE id = ${id}`.pipe(
          Effect.asVoid
        )
    })
  })
)
