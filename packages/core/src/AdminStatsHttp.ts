/**
 * `GET /api/admin/stats`: the counts the admin dashboard draws, computed in
 * SQL (one statement per table) so the dashboard stays fast however many
 * sessions and users there are. Users are counted only for callers who may
 * read users.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { hasPermission } from "./Actor.ts"
import * as HttpRoute from "./HttpRoute.ts"

const Count = Schema.Int.pipe(Schema.nonNegative())

export const SessionCounts = Schema.Struct({
  pending: Count,
  running: Count,
  hibernated: Count,
  terminated: Count,
  failed: Count,
  total: Count
})

export const AdminStats = Schema.Struct({
  sessions: SessionCounts,
  /** Null when the caller lacks `users:read`. */
  users: Schema.NullOr(Schema.Struct({ total: Count, disabled: Count }))
})

const states = ["pending", "running", "hibernated", "terminated", "failed"] as const

export const adminStatsRoutes = [
  HttpRoute.make({
    method: "GET",
    path: "/api/admin/stats",
    summary: "Sessions by state and user counts for the admin dashboard (users only with users:read)",
    tags: ["admin"],
    permission: "sessions:admin",
    response: AdminStats,
    handler: ({ actor }) =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql<{
          state: string
          n: number
        }>`SELECT state, count(*)::int AS n FROM sessions GROUP BY state`
        const byState = Object.fromEntries(states.map((s) => [s, 0])) as Record<(typeof states)[number], number>
        let total = 0
        for (const row of rows) {
          const n = Number(row.n)
          total += n
          if ((states as ReadonlyArray<string>).includes(row.state)) byState[row.state as (typeof states)[number]] = n
        }
        const users = hasPermission(actor, "users:read")
          ? (yield* sql<{ total: number; disabled: number }>`SELECT count(*)::int AS total,
              count(*) FILTER (WHERE disabled)::int AS disabled FROM users`)[0]
          : undefined
        return {
          sessions: { ...byState, total },
          users: users ? { total: Number(users.total), disabled: Number(users.disabled) } : null
        }
      })
  })
]
