/**
 * Spend limits: a limit per user or group (a user's limit is their own, else
 * the lowest of their groups') for each billing period. After each roll-up
 * the `check-quotas` job compares every limited user's spend so far with
 * the limit: at `quotas.alertThreshold` % it publishes
 * `billing.quota.warning`, at 100 % `billing.quota.exceeded` (each once per
 * period). With `quotas.autoSuspendOnOverage`, the `session.beforeCreate`
 * hook refuses new sessions of a user whose limit was exceeded at least
 * `quotas.gracePeriodDays` ago (this period). Spend is what was rolled up,
 * so it lags by up to an hour.
 */
import type { SqlClient } from "@effect/sql"
import { Directory, Timestamps } from "@streamspace/core"
import { Events, Veto } from "@streamspace/kernel"
import { Effect, Option, Schema } from "effect"
import type { BillingConfig } from "./Config.ts"
import { priced, sum } from "./Ledger.ts"
import { formatMinor, type Resource } from "./Money.ts"
import { periodOf } from "./Periods.ts"

const QuotaPayload = Schema.Struct({
  userId: Schema.String,
  periodStart: Schema.String,
  spent: Schema.String,
  limit: Schema.String,
  currency: Schema.String
})
export const QuotaWarning = Events.define(
  "billing.quota.warning",
  QuotaPayload,
  "a user's spend passed the alert threshold of their limit"
)
export const QuotaExceeded = Events.define("billing.quota.exceeded", QuotaPayload, "a user's spend reached their limit")

export const makeQuotas = (
  sql: SqlClient.SqlClient,
  events: Events["Type"],
  directory: Directory.Directory["Type"],
  config: BillingConfig,
  fallback: Readonly<Record<Resource, bigint>>
) => {
  const limitsOf = (userIds: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      const rows = yield* sql<{ scope: "user" | "group"; scope_id: string; limit_minor: string }>`
        SELECT scope, scope_id, limit_minor::text AS limit_minor FROM spend_limits`
      if (rows.length === 0) return new Map<string, bigint>()
      const users = yield* directory.users({ ids: userIds })
      const limits = new Map<string, bigint>()
      for (const id of userIds) {
        const own = rows.find((r) => r.scope === "user" && r.scope_id === id)
        if (own) {
          limits.set(id, BigInt(own.limit_minor))
          continue
        }
        const groups = users.find((u) => u.id === id)?.groups.map((g) => g.toLowerCase()) ?? []
        for (const r of rows)
          if (r.scope === "group" && groups.includes(r.scope_id)) {
            const limit = BigInt(r.limit_minor)
            const seen = limits.get(id)
            if (seen === undefined || limit < seen) limits.set(id, limit)
          }
      }
      return limits
    })

  /** The job: spend so far against limits; announces each crossing once per period. */
  const check = Effect.gen(function* () {
    const now = yield* Timestamps.now
    const period = periodOf(config.billingCycle, now)
    const lines = yield* priced(sql, fallback, { from: period.start, to: period.end })
    const users = [...new Set(lines.map((l) => l.userId))]
    const limits = yield* limitsOf(users)
    for (const [userId, limit] of limits) {
      const spent = sum(lines.filter((l) => l.userId === userId))
      const warn = spent * 100n >= limit * BigInt(config.quotas.alertThreshold)
      const over = spent >= limit
      yield* sql.withTransaction(
        Effect.gen(function* () {
          const [state] = yield* sql<{ warned_at: Date | null; exceeded_at: Date | null }>`
            INSERT INTO spend_state (user_id, period_start, spent_minor, limit_minor)
            VALUES (${userId}, ${period.start}, ${spent.toString()}::bigint, ${limit.toString()}::bigint)
            ON CONFLICT (user_id, period_start) DO UPDATE SET spent_minor = EXCLUDED.spent_minor, limit_minor = EXCLUDED.limit_minor
            RETURNING warned_at, exceeded_at`
          const payload = {
            userId,
            periodStart: period.start.toISOString(),
            spent: formatMinor(spent),
            limit: formatMinor(limit),
            currency: config.currency
          }
          if (warn && !state!.warned_at) {
            yield* sql`UPDATE spend_state SET warned_at = ${now} WHERE user_id = ${userId} AND period_start = ${period.start}`
            yield* events.publish(QuotaWarning, payload)
          }
          if (over && !state!.exceeded_at) {
            yield* sql`UPDATE spend_state SET exceeded_at = ${now} WHERE user_id = ${userId} AND period_start = ${period.start}`
            yield* events.publish(QuotaExceeded, payload)
          }
          if (!over && state!.exceeded_at)
            // A raised limit lifts the suspension.
            yield* sql`UPDATE spend_state SET exceeded_at = NULL WHERE user_id = ${userId} AND period_start = ${period.start}`
        })
      )
    }
  })

  /** The hook: a veto once the grace period after exceeding has passed. */
  const gate = (userId: string) =>
    Effect.gen(function* () {
      if (!config.quotas.autoSuspendOnOverage) return
      const now = yield* Timestamps.now
      const period = periodOf(config.billingCycle, now)
      const [state] = yield* Effect.orDie(sql<{ exceeded_at: Date | null; spent_minor: string; limit_minor: string }>`
        SELECT exceeded_at, spent_minor::text AS spent_minor, limit_minor::text AS limit_minor FROM spend_state
        WHERE user_id = ${userId} AND period_start = ${period.start}`)
      const since = Option.fromNullable(state?.exceeded_at)
      if (Option.isNone(since)) return
      const graceEnds = new Date(since.value).getTime() + config.quotas.gracePeriodDays * 86_400_000
      if (now.getTime() < graceEnds) return
      return yield* new Veto({
        reason: `spend limit reached: ${formatMinor(BigInt(state!.spent_minor))} of ${formatMinor(BigInt(state!.limit_minor))} ${config.currency} this period`
      })
    })

  return { check, gate }
}
