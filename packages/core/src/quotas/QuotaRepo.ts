/** SQL for quotas and the usage they are checked against, as a service so that Quotas' rules can run against a stub in tests. */
import { SqlClient } from "@effect/sql"
import { sqlDefects } from "../Infrastructure.ts"
import { Context, Effect, Layer } from "effect"
import { Quota, type Scope, type ScopedQuota, type Usage } from "./QuotaModel.ts"
import * as Rows from "../Rows.ts"

/** A `quotas` row as selected (also as JSON, where `max_storage` arrives as a number). */
export interface QuotaRow {
  readonly scope: Scope
  readonly scope_id: string
  readonly max_sessions: number | null
  readonly max_cpu: number | null
  readonly max_memory: number | null
  readonly max_storage: string | number | null
}

const toQuota = (r: QuotaRow) =>
  new Quota(
    {
      maxSessions: r.max_sessions,
      maxCpu: r.max_cpu,
      maxMemory: r.max_memory,
      maxStorage: r.max_storage === null ? null : Number(r.max_storage)
    },
    Rows.trusted
  )

/** A quota row with whom it binds. */
export const scopedQuotaOf = (r: QuotaRow): ScopedQuota => ({ scope: r.scope, scopeId: r.scope_id, quota: toQuota(r) })

export class QuotaRepo extends Context.Tag("@streamspace/core/QuotaRepo")<
  QuotaRepo,
  {
    /** The quota set for a user or a group, if any. */
    readonly find: (scope: Scope, id: string) => Effect.Effect<Quota | undefined>
    readonly upsert: (scope: Scope, id: string, quota: Quota, at: Date) => Effect.Effect<void>
    /** Every quota that binds the user: their own first, then their groups'. */
    readonly binding: (userId: string) => Effect.Effect<ReadonlyArray<ScopedQuota>>
    readonly usage: (userId: string) => Effect.Effect<Usage>
  }
>() {}

export const QuotaRepoLive = Layer.effect(
  QuotaRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const storageUsage = (userId: string) =>
      Effect.map(
        sql<{ n: string | null }>`SELECT COALESCE(sum(size), 0) AS n FROM files WHERE user_id = ${userId}`,
        (rows) => Number(rows[0]?.n ?? 0)
      )
    return sqlDefects<QuotaRepo["Type"]>({
      find: (scope, id) =>
        Effect.map(sql<QuotaRow>`SELECT * FROM quotas WHERE scope = ${scope} AND scope_id = ${id}`, (rows) =>
          rows[0] ? toQuota(rows[0]) : undefined
        ),
      upsert: (scope, id, quota, at) => {
        const values = {
          max_sessions: quota.maxSessions,
          max_cpu: quota.maxCpu,
          max_memory: quota.maxMemory,
          max_storage: quota.maxStorage
        }
        return sql`INSERT INTO quotas ${sql.insert({ scope, scope_id: id, ...values, updated_at: at })}
          ON CONFLICT (scope, scope_id) DO UPDATE SET ${sql.update({ ...values, updated_at: at })}`.pipe(Effect.asVoid)
      },
      binding: (userId) =>
        Effect.map(
          sql<QuotaRow>`
            SELECT * FROM quotas WHERE (scope = 'user' AND scope_id = ${userId})
               OR (scope = 'group' AND scope_id IN (SELECT group_id FROM group_members WHERE user_id = ${userId}))
            ORDER BY scope DESC`,
          (rows) => rows.map(scopedQuotaOf)
        ),
      usage: (userId) =>
        Effect.gen(function* () {
          const rows = yield* sql<{ sessions: string; cpu: string | null; memory: string | null }>`
            SELECT count(*) AS sessions,
              sum(cpu) FILTER (WHERE state <> 'hibernated' OR desired = 'running') AS cpu,
              sum(memory) FILTER (WHERE state <> 'hibernated' OR desired = 'running') AS memory
            FROM sessions WHERE user_id = ${userId} AND state NOT IN ('terminated', 'failed') AND desired <> 'terminated'`
          const r = rows[0]
          return {
            sessions: Number(r?.sessions ?? 0),
            cpu: Number(r?.cpu ?? 0),
            memory: Number(r?.memory ?? 0),
            storage: yield* storageUsage(userId)
          }
        })
    })
  })
)
