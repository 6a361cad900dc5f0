/** SQL for sessions and their shares. Every state transition is conditional, so replicas cannot double-apply. */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { decodeCursor, pageOf } from "../Pagination.ts"
import type { Access, DesiredState, SessionState } from "./SessionModel.ts"
import { Session, SessionShare } from "./SessionModel.ts"

export interface SessionRow {
  readonly id: string
  readonly user_id: string
  readonly template_id: string
  readonly template_name: string
  readonly state: SessionState
  readonly desired: DesiredState
  readonly reason: string | null
  readonly runtime: "simulated" | "kubernetes"
  readonly cpu: number
  readonly memory: number
  readonly persistent_home: boolean
  readonly endpoint: string | null
  readonly submitted: boolean
  readonly attempts: number
  readonly last_activity_at: Date
  readonly created_at: Date
  readonly updated_at: Date
  readonly share_access: "view" | "control" | null
}

export const toSession = (r: SessionRow, access: Access) =>
  new Session({
    id: r.id,
    userId: r.user_id,
    templateId: r.template_id,
    templateName: r.template_name,
    state: r.state,
    desired: r.desired,
    reason: r.reason,
    runtime: r.runtime,
    cpu: r.cpu,
    memory: r.memory,
    persistentHome: r.persistent_home,
    lastActivityAt: r.last_activity_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    access
  })

export interface Transition {
  readonly id: string
  readonly from: ReadonlyArray<SessionState>
  readonly to: SessionState
  readonly desired?: ReadonlyArray<DesiredState>
  readonly reason?: string | null
  readonly endpoint?: string | null
  readonly at: Date
}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const select = (viewer: string) =>
    sql`SELECT s.*, t.name AS template_name,
      (SELECT access FROM session_shares sh WHERE sh.session_id = s.id AND sh.user_id = ${viewer}) AS share_access
      FROM sessions s JOIN templates t ON t.id = s.template_id`
  return {
    insert: (row: { id: string; userId: string; templateId: string; runtime: string; cpu: number; memory: number; persistentHome: boolean; at: Date }) =>
      sql`INSERT INTO sessions ${
        sql.insert({
          id: row.id,
          user_id: row.userId,
          template_id: row.templateId,
          state: "pending",
          desired: "running",
          runtime: row.runtime,
          cpu: row.cpu,
          memory: row.memory,
          persistent_home: row.persistentHome,
          last_activity_at: row.at,
          created_at: row.at,
          updated_at: row.at
        })
      }`.pipe(Effect.asVoid),
    find: (id: string, viewer: string) => Effect.map(sql<SessionRow>`${select(viewer)} WHERE s.id = ${id}`, (rows) => rows[0]),
    list: (q: { viewer: string; all: boolean; state?: SessionState | undefined; limit: number; cursor?: string | undefined }) => {
      const cursor = decodeCursor(q.cursor)
      const conditions = [
        q.all ? undefined : sql`(s.user_id = ${q.viewer} OR EXISTS (SELECT 1 FROM session_shares sh WHERE sh.session_id = s.id AND sh.user_id = ${q.viewer}))`,
        q.state ? sql`s.state = ${q.state}` : undefined,
        cursor ? sql`(s.created_at, s.id) < (${new Date(Number(cursor[0]))}, ${String(cursor[1])})` : undefined
      ].filter((c) => c !== undefined)
      return sql<SessionRow>`${select(q.viewer)} ${conditions.length ? sql`WHERE ${sql.and(conditions)}` : sql``}
        ORDER BY s.created_at DESC, s.id DESC LIMIT ${q.limit + 1}`.pipe(
        Effect.map((rows) => pageOf(rows, q.limit, (r) => [r.created_at.getTime(), r.id]))
      )
    },
    /** Users' intent: what the orchestrator should reach. Returns false when the session is not in `from`. */
    setDesired: (id: string, desired: DesiredState, from: ReadonlyArray<SessionState>, at: Date) =>
      Effect.map(
        sql<{ id: string }>`UPDATE sessions SET desired = ${desired}, submitted = false, attempts = 0, next_attempt_at = NULL, updated_at = ${at}
          WHERE id = ${id} AND state IN ${sql.in(from)} AND desired <> 'terminated' RETURNING id`,
        (rows) => rows.length > 0
      ),
    touch: (id: string, at: Date) => sql`UPDATE sessions SET last_activity_at = ${at} WHERE id = ${id}`.pipe(Effect.asVoid),
    /** Applies a state change if the session is still where the caller saw it; returns the previous state. */
    transition: (t: Transition) =>
      Effect.map(
        sql<{ prev: SessionState }>`
          UPDATE sessions s SET state = ${t.to}, submitted = false, attempts = 0, next_attempt_at = NULL, lease_until = NULL, updated_at = ${t.at},
            reason = ${t.reason ?? null}, endpoint = ${t.endpoint === undefined ? sql`s.endpoint` : t.endpoint}
          FROM (SELECT id, state AS prev FROM sessions WHERE id = ${t.id} FOR UPDATE) p
          WHERE s.id = p.id AND p.prev IN ${sql.in(t.from)} ${t.desired ? sql`AND s.desired IN ${sql.in(t.desired)}` : sql``}
          RETURNING p.prev`,
        (rows) => rows[0]?.prev
      ),
    /** Claims sessions whose desired state needs a runtime command (a lease keeps other replicas off). */
    claim: (at: Date, leaseUntil: Date, limit: number) =>
      sql<SessionRow>`
        UPDATE sessions s SET lease_until = ${leaseUntil}
        FROM (SELECT id FROM sessions
              WHERE state NOT IN ('terminated', 'failed') AND desired <> state AND NOT submitted
                AND (next_attempt_at IS NULL OR next_attempt_at <= ${at})
                AND (lease_until IS NULL OR lease_until < ${at})
              ORDER BY updated_at LIMIT ${limit} FOR UPDATE SKIP LOCKED) c, templates t
        WHERE s.id = c.id AND t.id = s.template_id
        RETURNING s.*, t.name AS template_name, NULL AS share_access`,
    submitted: (id: string, desired: DesiredState) =>
      sql`UPDATE sessions SET submitted = true, attempts = 0, lease_until = NULL WHERE id = ${id} AND desired = ${desired}`.pipe(Effect.asVoid),
    retryLater: (id: string, attempts: number, next: Date) =>
      sql`UPDATE sessions SET attempts = ${attempts}, next_attempt_at = ${next}, lease_until = NULL WHERE id = ${id}`.pipe(Effect.asVoid),
    idle: (before: Date) =>
      sql<{ id: string }>`SELECT id FROM sessions WHERE state = 'running' AND desired = 'running' AND last_activity_at < ${before}`,
    stuckPending: (before: Date) =>
      sql<{ id: string }>`SELECT id FROM sessions WHERE state = 'pending' AND submitted AND updated_at < ${before}`,
    shares: (id: string) =>
      Effect.map(
        sql<{ user_id: string; username: string; access: "view" | "control"; created_at: Date }>`
          SELECT sh.user_id, u.username, sh.access, sh.created_at FROM session_shares sh JOIN users u ON u.id = sh.user_id
          WHERE sh.session_id = ${id} ORDER BY lower(u.username)`,
        (rows) => rows.map((r) => new SessionShare({ userId: r.user_id, username: r.username, access: r.access, createdAt: r.created_at }))
      ),
    share: (id: string, userId: string, access: "view" | "control", at: Date) =>
      sql`INSERT INTO session_shares ${sql.insert({ session_id: id, user_id: userId, access, created_at: at })}
        ON CONFLICT (session_id, user_id) DO UPDATE SET access = EXCLUDED.access`.pipe(Effect.asVoid),
    unshare: (id: string, userId: string) =>
      Effect.map(sql<{ user_id: string }>`DELETE FROM session_shares WHERE session_id = ${id} AND user_id = ${userId} RETURNING user_id`, (rows) => rows.length > 0)
  }
})

export type SessionRepo = Effect.Effect.Success<typeof make>
