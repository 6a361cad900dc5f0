/**
 * SQL for sessions and their shares, as a service so that the rules above
 * it (Sessions, SessionOrchestrator) can run against a stub in tests. Every
 * state transition is conditional, so replicas cannot double-apply.
 */
import { SqlClient } from "@effect/sql"
import { sqlDefects } from "../Infrastructure.ts"
import { Context, Effect, Layer } from "effect"
import { ByTime, keyOf, type PageOf, pageOf } from "../Pagination.ts"
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

export interface NewSession {
  readonly id: string
  readonly userId: string
  readonly templateId: string
  readonly runtime: string
  readonly cpu: number
  readonly memory: number
  readonly persistentHome: boolean
  readonly at: Date
}

export interface SessionListQuery {
  readonly viewer: string
  readonly all: boolean
  readonly state?: SessionState | undefined
  readonly limit: number
  readonly cursor?: string | undefined
}

/** Who and what a session's events name. */
export interface SessionSubject {
  readonly id: string
  readonly user_id: string
  readonly template_id: string
}

/** What the runtime needs from a session's template to start it. */
export interface LaunchTemplate {
  readonly image: string
  readonly ports: ReadonlyArray<number>
  readonly env: Record<string, string>
  readonly vnc_port: number
  readonly name: string
}

/** A VNC ticket as stored: only its SHA-256 (`ticket_hash`). */
export interface NewVncTicket {
  readonly ticketHash: string
  readonly sessionId: string
  readonly userId: string
  readonly apiKeyId: string | null
  readonly at: Date
  readonly expiresAt: Date
}

/** A ticket taken from the table, with the current state of the API key it was made with (if any). */
export interface TakenVncTicket {
  readonly session_id: string
  readonly user_id: string
  readonly api_key_id: string | null
  readonly expires_at: Date
  /** Null when no key made the ticket, or the key is gone. */
  readonly key_scopes: ReadonlyArray<string> | null
  readonly key_revoked_at: Date | null
  readonly key_expires_at: Date | null
}

export class SessionRepo extends Context.Tag("@streamspace/core/SessionRepo")<
  SessionRepo,
  {
    readonly insert: (row: NewSession) => Effect.Effect<void>
    /** The session as `viewer` sees it (`share_access` is the viewer's share, if any). */
    readonly find: (id: string, viewer: string) => Effect.Effect<SessionRow | undefined>
    readonly list: (q: SessionListQuery) => Effect.Effect<PageOf<SessionRow>>
    /** Users' intent: what the orchestrator should reach. Returns false when the session is not in `from`. */
    readonly setDesired: (
      id: string,
      desired: DesiredState,
      from: ReadonlyArray<SessionState>,
      at: Date
    ) => Effect.Effect<boolean>
    readonly touch: (id: string, at: Date) => Effect.Effect<void>
    /** Applies a state change if the session is still where the caller saw it; returns the previous state. */
    readonly transition: (t: Transition) => Effect.Effect<SessionState | undefined>
    /** Claims sessions whose desired state needs a runtime command (a lease keeps other replicas off). */
    readonly claim: (at: Date, leaseUntil: Date, limit: number) => Effect.Effect<ReadonlyArray<SessionRow>>
    readonly submitted: (id: string, desired: DesiredState) => Effect.Effect<void>
    readonly retryLater: (id: string, attempts: number, next: Date) => Effect.Effect<void>
    readonly idle: (before: Date) => Effect.Effect<ReadonlyArray<{ readonly id: string }>>
    readonly stuckPending: (before: Date) => Effect.Effect<ReadonlyArray<{ readonly id: string }>>
    readonly shares: (id: string) => Effect.Effect<ReadonlyArray<SessionShare>>
    readonly share: (id: string, userId: string, access: "view" | "control", at: Date) => Effect.Effect<void>
    /** Returns false when there was no such share. */
    readonly unshare: (id: string, userId: string) => Effect.Effect<boolean>
    readonly subject: (id: string) => Effect.Effect<SessionSubject | undefined>
    readonly launchTemplate: (templateId: string) => Effect.Effect<LaunchTemplate | undefined>
    readonly username: (userId: string) => Effect.Effect<string | undefined>
    /** Stores a VNC ticket, and drops tickets that expired before it was made. */
    readonly insertVncTicket: (ticket: NewVncTicket) => Effect.Effect<void>
    /** Deletes the ticket with this hash and returns it: a ticket is taken once, whoever asks second finds nothing. */
    readonly takeVncTicket: (ticketHash: string) => Effect.Effect<TakenVncTicket | undefined>
    /** Runs `effect` in one transaction of the sessions' database (a state change and its event commit together). */
    readonly withTransaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  }
>() {}

export const SessionRepoLive = Layer.effect(
  SessionRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const select = (viewer: string) =>
      sql`SELECT s.*, t.name AS template_name,
        (SELECT access FROM session_shares sh WHERE sh.session_id = s.id AND sh.user_id = ${viewer}) AS share_access
        FROM sessions s JOIN templates t ON t.id = s.template_id`
    return sqlDefects<SessionRepo["Type"]>({
      insert: (row) =>
        sql`INSERT INTO sessions ${sql.insert({
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
        })}`.pipe(Effect.asVoid),
      find: (id, viewer) => Effect.map(sql<SessionRow>`${select(viewer)} WHERE s.id = ${id}`, (rows) => rows[0]),
      list: (q) => {
        const cursor = keyOf(ByTime, q.cursor)
        const conditions = [
          q.all
            ? undefined
            : sql`(s.user_id = ${q.viewer} OR EXISTS (SELECT 1 FROM session_shares sh WHERE sh.session_id = s.id AND sh.user_id = ${q.viewer}))`,
          q.state ? sql`s.state = ${q.state}` : undefined,
          cursor ? sql`(s.created_at, s.id) < (${new Date(Number(cursor[0]))}, ${String(cursor[1])})` : undefined
        ].filter((c) => c !== undefined)
        return sql<SessionRow>`${select(q.viewer)} ${conditions.length ? sql`WHERE ${sql.and(conditions)}` : sql``}
          ORDER BY s.created_at DESC, s.id DESC LIMIT ${q.limit + 1}`.pipe(
          Effect.map((rows) => pageOf(rows, q.limit, (r) => [r.created_at.getTime(), r.id]))
        )
      },
      setDesired: (id, desired, from, at) =>
        Effect.map(
          sql<{
            id: string
          }>`UPDATE sessions SET desired = ${desired}, submitted = false, attempts = 0, next_attempt_at = NULL, updated_at = ${at}
            WHERE id = ${id} AND state IN ${sql.in(from)} AND desired <> 'terminated' RETURNING id`,
          (rows) => rows.length > 0
        ),
      touch: (id, at) => sql`UPDATE sessions SET last_activity_at = ${at} WHERE id = ${id}`.pipe(Effect.asVoid),
      transition: (t) =>
        Effect.map(
          sql<{ prev: SessionState }>`
            UPDATE sessions s SET state = ${t.to}, submitted = false, attempts = 0, next_attempt_at = NULL, lease_until = NULL, updated_at = ${t.at},
              reason = ${t.reason ?? null}, endpoint = ${t.endpoint === undefined ? sql`s.endpoint` : t.endpoint}
            FROM (SELECT id, state AS prev FROM sessions WHERE id = ${t.id} FOR UPDATE) p
            WHERE s.id = p.id AND p.prev IN ${sql.in(t.from)} ${t.desired ? sql`AND s.desired IN ${sql.in(t.desired)}` : sql``}
            RETURNING p.prev`,
          (rows) => rows[0]?.prev
        ),
      claim: (at, leaseUntil, limit) =>
        sql<SessionRow>`
          UPDATE sessions s SET lease_until = ${leaseUntil}
          FROM (SELECT id FROM sessions
                WHERE state NOT IN ('terminated', 'failed') AND desired <> state AND NOT submitted
                  AND (next_attempt_at IS NULL OR next_attempt_at <= ${at})
                  AND (lease_until IS NULL OR lease_until < ${at})
                ORDER BY updated_at LIMIT ${limit} FOR UPDATE SKIP LOCKED) c, templates t
          WHERE s.id = c.id AND t.id = s.template_id
          RETURNING s.*, t.name AS template_name, NULL AS share_access`,
      submitted: (id, desired) =>
        sql`UPDATE sessions SET submitted = true, attempts = 0, lease_until = NULL WHERE id = ${id} AND desired = ${desired}`.pipe(
          Effect.asVoid
        ),
      retryLater: (id, attempts, next) =>
        sql`UPDATE sessions SET attempts = ${attempts}, next_attempt_at = ${next}, lease_until = NULL WHERE id = ${id}`.pipe(
          Effect.asVoid
        ),
      idle: (before) =>
        sql<{
          id: string
        }>`SELECT id FROM sessions WHERE state = 'running' AND desired = 'running' AND last_activity_at < ${before}`,
      stuckPending: (before) =>
        sql<{ id: string }>`SELECT id FROM sessions WHERE state = 'pending' AND submitted AND updated_at < ${before}`,
      shares: (id) =>
        Effect.map(
          sql<{ user_id: string; username: string; access: "view" | "control"; created_at: Date }>`
            SELECT sh.user_id, u.username, sh.access, sh.created_at FROM session_shares sh JOIN users u ON u.id = sh.user_id
            WHERE sh.session_id = ${id} ORDER BY lower(u.username)`,
          (rows) =>
            rows.map(
              (r) =>
                new SessionShare({ userId: r.user_id, username: r.username, access: r.access, createdAt: r.created_at })
            )
        ),
      share: (id, userId, access, at) =>
        sql`INSERT INTO session_shares ${sql.insert({ session_id: id, user_id: userId, access, created_at: at })}
          ON CONFLICT (session_id, user_id) DO UPDATE SET access = EXCLUDED.access`.pipe(Effect.asVoid),
      unshare: (id, userId) =>
        Effect.map(
          sql<{
            user_id: string
          }>`DELETE FROM session_shares WHERE session_id = ${id} AND user_id = ${userId} RETURNING user_id`,
          (rows) => rows.length > 0
        ),
      subject: (id) =>
        Effect.map(
          sql<SessionSubject>`SELECT id, user_id, template_id FROM sessions WHERE id = ${id}`,
          (rows) => rows[0]
        ),
      launchTemplate: (templateId) =>
        Effect.map(
          sql<LaunchTemplate>`
            SELECT image, ports, env, vnc_port, name FROM templates WHERE id = ${templateId}`,
          (rows) => rows[0]
        ),
      username: (userId) =>
        Effect.map(
          sql<{ username: string }>`SELECT username FROM users WHERE id = ${userId}`,
          (rows) => rows[0]?.username
        ),
      insertVncTicket: (ticket) =>
        Effect.zipRight(
          sql`DELETE FROM vnc_tickets WHERE expires_at < ${ticket.at}`,
          sql`INSERT INTO vnc_tickets ${sql.insert({
            ticket_hash: ticket.ticketHash,
            session_id: ticket.sessionId,
            user_id: ticket.userId,
            api_key_id: ticket.apiKeyId,
            created_at: ticket.at,
            expires_at: ticket.expiresAt
          })}`
        ).pipe(Effect.asVoid),
      takeVncTicket: (ticketHash) =>
        Effect.map(
          sql<TakenVncTicket>`
            WITH taken AS (DELETE FROM vnc_tickets WHERE ticket_hash = ${ticketHash} RETURNING *)
            SELECT t.session_id, t.user_id, t.api_key_id, t.expires_at,
              k.scopes AS key_scopes, k.revoked_at AS key_revoked_at, k.expires_at AS key_expires_at
            FROM taken t LEFT JOIN api_keys k ON k.id = t.api_key_id`,
          (rows) => rows[0]
        ),
      withTransaction: sql.withTransaction
    })
  })
)
