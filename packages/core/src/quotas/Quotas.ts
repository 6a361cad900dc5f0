/**
 * Limits per user and per group. A group's limits bind each of its members
 * (like the user's own); a request must fit all of them. Going over is a 403
 * naming the limit, plus a `quota.exceeded` event that survives the refused
 * request. `null` means no limit.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Schema } from "effect"
import { CurrentActor, onRequestFailure } from "../Actor.ts"
import { QuotaExceeded } from "../Errors.ts"
import { EventOutbox } from "../events/EventOutbox.ts"
import { now } from "../Timestamps.ts"

const Limit = Schema.NullOr(Schema.Int.pipe(Schema.nonNegative()))

export class Quota extends Schema.Class<Quota>("Quota")({
  maxSessions: Limit,
  maxCpu: Limit,
  maxMemory: Limit,
  maxStorage: Limit
}) {}

export const QuotaInput = Schema.Struct({
  maxSessions: Schema.optionalWith(Limit, { default: () => null }),
  maxCpu: Schema.optionalWith(Limit, { default: () => null }),
  maxMemory: Schema.optionalWith(Limit, { default: () => null }),
  maxStorage: Schema.optionalWith(Limit, { default: () => null })
})

export type Scope = "user" | "group"

export interface Usage {
  readonly sessions: number
  readonly cpu: number
  readonly memory: number
  readonly storage: number
}

export interface Request {
  readonly sessions: number
  readonly cpu: number
  readonly memory: number
  readonly storage: number
}

const unlimited = new Quota({ maxSessions: null, maxCpu: null, maxMemory: null, maxStorage: null })

export class Quotas extends Context.Tag("@streamspace/core/Quotas")<Quotas, {
  readonly get: (scope: Scope, id: string) => Effect.Effect<Quota, SqlError>
  readonly set: (scope: Scope, id: string, quota: Quota) => Effect.Effect<Quota, SqlError>
  readonly usage: (userId: string) => Effect.Effect<Usage, SqlError>
  /** Fails with QuotaExceeded when `request` on top of current usage breaks any limit of the user or their groups. */
  readonly check: (userId: string, request: Request) => Effect.Effect<void, QuotaExceeded | SqlError, CurrentActor>
}>() {}

interface QuotaRow {
  readonly scope: Scope
  readonly scope_id: string
  readonly max_sessions: number | null
  readonly max_cpu: number | null
  readonly max_memory: number | null
  readonly max_storage: string | number | null
}

const toQuota = (r: QuotaRow | undefined) =>
  r
    ? new Quota({ maxSessions: r.max_sessions, maxCpu: r.max_cpu, maxMemory: r.max_memory, maxStorage: r.max_storage === null ? null : Number(r.max_storage) })
    : unlimited

const limits = [
  { limit: "sessions", max: (q: Quota) => q.maxSessions },
  { limit: "cpu", max: (q: Quota) => q.maxCpu },
  { limit: "memory", max: (q: Quota) => q.maxMemory },
  { limit: "storage", max: (q: Quota) => q.maxStorage }
] as const

export const QuotasLive = Layer.effect(
  Quotas,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const outbox = yield* EventOutbox
    const storageUsage = (userId: string) =>
      Effect.map(
        sql<{ n: string | null }>`SELECT COALESCE(sum(size), 0) AS n FROM files WHERE user_id = ${userId}`,
        (rows) => Number(rows[0]?.n ?? 0)
      )
    const usage = (userId: string) =>
      Effect.gen(function*() {
        const rows = yield* sql<{ sessions: string; cpu: string | null; memory: string | null }>`
          SELECT count(*) AS sessions,
            sum(cpu) FILTER (WHERE state <> 'hibernated' OR desired = 'running') AS cpu,
            sum(memory) FILTER (WHERE state <> 'hibernated' OR desired = 'running') AS memory
          FROM sessions WHERE user_id = ${userId} AND state NOT IN ('terminated', 'failed') AND desired <> 'terminated'`
        const r = rows[0]
        return { sessions: Number(r?.sessions ?? 0), cpu: Number(r?.cpu ?? 0), memory: Number(r?.memory ?? 0), storage: yield* storageUsage(userId) }
      })
    return {
      get: (scope, id) => Effect.map(sql<QuotaRow>`SELECT * FROM quotas WHERE scope = ${scope} AND scope_id = ${id}`, (rows) => toQuota(rows[0])),
      set: (scope, id, quota) =>
        Effect.gen(function*() {
          const at = yield* now
          const values = { max_sessions: quota.maxSessions, max_cpu: quota.maxCpu, max_memory: quota.maxMemory, max_storage: quota.maxStorage }
          yield* sql`INSERT INTO quotas ${sql.insert({ scope, scope_id: id, ...values, updated_at: at })}
            ON CONFLICT (scope, scope_id) DO UPDATE SET ${sql.update({ ...values, updated_at: at })}`
          return quota
        }),
      usage,
      check: (userId, request) =>
        Effect.gen(function*() {
          const rows = yield* sql<QuotaRow>`
            SELECT * FROM quotas WHERE (scope = 'user' AND scope_id = ${userId})
               OR (scope = 'group' AND scope_id IN (SELECT group_id FROM group_members WHERE user_id = ${userId}))
            ORDER BY scope DESC`
          if (rows.length === 0) return
          const used = yield* usage(userId)
          for (const row of rows) {
            const quota = toQuota(row)
            for (const { limit, max } of limits) {
              const cap = max(quota)
              const wanted = used[limit] + request[limit]
              if (cap === null || request[limit] === 0 || wanted <= cap) continue
              const scope = row.scope
              const actor = yield* CurrentActor
              // The refused request rolls back; the event must not.
              yield* onRequestFailure(
                outbox.publish("quota.exceeded", { userId, scope, scopeId: row.scope_id, limit, max: cap, requested: wanted }).pipe(
                  Effect.provideService(CurrentActor, actor)
                )
              )
              return yield* new QuotaExceeded({
                message: `${scope} quota exceeded: ${limit} would be ${wanted}, the limit is ${cap}`,
                limit,
                max: cap,
                requested: wanted,
                scope
              })
            }
          }
        })
    }
  })
)
