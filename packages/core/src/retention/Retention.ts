/**
 * Keeps the tables that grow with traffic bounded. Every
 * `retention.intervalMinutes` it removes, older than `retention.days`:
 * delivered webhook and integration deliveries (dead ones stay until an
 * admin acts), plugin job runs, login attempts, expired refresh tokens, and
 * outbox events that every reader has passed (each plugin subscription
 * taking that type — of disabled plugins too — and the webhook fan-out) and
 * that no unreplayed dead letter needs. Audit entries go only when `retention.auditDays` is set.
 * Sweeps are idempotent, so replicas may run them side by side.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Duration, Effect, Layer, Schedule } from "effect"
import { ServerConfig } from "../ServerConfig.ts"

export interface SweepResult {
  readonly events: number
  readonly webhookDeliveries: number
  readonly integrationDeliveries: number
  readonly jobRuns: number
  readonly loginAttempts: number
  readonly refreshTokens: number
  readonly auditEntries: number
}

export class Retention extends Context.Tag("@streamspace/core/Retention")<
  Retention,
  {
    /** One sweep now; what it removed. */
    readonly sweep: Effect.Effect<SweepResult, SqlError>
  }
>() {}

const DAY = 24 * 60 * 60 * 1000

export const RetentionLive = Layer.scoped(
  Retention,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const config = (yield* ServerConfig).retention
    /** Rows a `DELETE … RETURNING 1` removed. */
    const removed = (statement: Effect.Effect<ReadonlyArray<unknown>, SqlError>) =>
      Effect.map(statement, (rows) => rows.length)

    const sweep = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const cutoff = new Date(now - config.days * DAY)
      // An event goes once every reader has passed it: each plugin subscription that takes its type,
      // and the webhook fan-out (all types).
      const events = yield* removed(sql`
          DELETE FROM events e
          WHERE e.occurred_at < ${cutoff}
            AND NOT EXISTS (SELECT 1 FROM plugin_subscriptions s
                            WHERE (e.tx_id, e.position) > (s.tx_id, s.position) AND (e.type = ANY(s.event_types) OR '*' = ANY(s.event_types)))
            AND NOT EXISTS (SELECT 1 FROM event_cursors c WHERE (e.tx_id, e.position) > (c.tx_id, c.position))
            AND NOT EXISTS (SELECT 1 FROM plugin_dead_letters d WHERE d.event_id = e.id AND d.replayed_at IS NULL)
          RETURNING 1`)
      return {
        events,
        webhookDeliveries: yield* removed(
          sql`DELETE FROM webhook_deliveries WHERE status = 'delivered' AND updated_at < ${cutoff} RETURNING 1`
        ),
        integrationDeliveries: yield* removed(
          sql`DELETE FROM integration_deliveries WHERE status = 'delivered' AND updated_at < ${cutoff} RETURNING 1`
        ),
        jobRuns: yield* removed(sql`DELETE FROM plugin_job_runs WHERE started_at < ${cutoff} RETURNING 1`),
        loginAttempts: yield* removed(sql`DELETE FROM login_attempts WHERE at < ${cutoff} RETURNING 1`),
        refreshTokens: yield* removed(sql`DELETE FROM refresh_tokens WHERE expires_at < ${cutoff} RETURNING 1`),
        auditEntries:
          config.auditDays === undefined
            ? 0
            : yield* removed(
                sql`DELETE FROM audit_log WHERE at < ${new Date(now - config.auditDays * DAY)} RETURNING 1`
              )
      } satisfies SweepResult
    })

    yield* sweep.pipe(
      Effect.tap((r) => {
        const parts = Object.entries(r)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${n} ${k}`)
        return parts.length > 0
          ? Effect.logInfo(`retention: removed ${parts.join(", ")} older than the retention period`)
          : Effect.void
      }),
      Effect.catchAllCause((cause) =>
        Effect.logWarning("retention sweep failed; next one at the next interval", cause)
      ),
      Effect.repeat(Schedule.spaced(Duration.minutes(config.intervalMinutes))),
      Effect.delay(Duration.minutes(1)),
      Effect.forkScoped
    )
    return { sweep }
  })
)
