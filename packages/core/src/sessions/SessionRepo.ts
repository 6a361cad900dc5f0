/**
 * SQL for sessions and their shares, as a service so that the rules above
 * it (Sessions, SessionOrchestrator) can run against a stub in tests. Every
 * state transition is conditional, so replicas cannot double-apply.
 */
import { SqlClient } from "@effect/sql"
import { sqlDefects } from "../Infrastructure.ts"
import { Context, Effect, Layer } from "effect"
import type { CoreEventType } from "../events/CoreEvents.ts"
import { type EventRow, insertEvents } from "../events/EventOutbox.ts"
import { ByTime, keyOf, type PageOf, pageOf } from "../Pagination.ts"
import type { ScopedQuota, Usage } from "../quotas/QuotaModel.ts"
import { type QuotaRow, scopedQuotaOf } from "../quotas/QuotaRepo.ts"
import type { Template } from "../templates/TemplateModel.ts"
import { type TemplateRow, toTemplate } from "../templates/TemplateRepo.ts"
import type { Access, DesiredState, SessionState } from "./SessionModel.ts"
import { Session, SessionShare } from "./SessionModel.ts"
import type { RuntimeKind } from "./SessionRuntime.ts"
import * as Rows from "../Rows.ts"
import * as AuditLog from "../audit/AuditLog.ts"
import type { AuditColumns } from "../audit/AuditLog.ts"

export interface SessionRow {
  readonly id: string
  readonly user_id: string
  readonly template_id: string
  readonly template_name: string
  readonly state: SessionState
  readonly desired: DesiredState
  readonly reason: string | null
  readonly runtime: RuntimeKind
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
  new Session(
    {
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
    },
    Rows.trusted
  )

export interface Transition {
  readonly from: ReadonlyArray<SessionState>
  readonly to: SessionState
  readonly desired?: ReadonlyArray<DesiredState>
  readonly reason?: string | null
  readonly endpoint?: string | null
  readonly at: Date
}

/** The event a transition writes with it, by the state it left (none for a state missing here). */
export type TransitionEvents = ReadonlyArray<{ readonly prev: SessionState; readonly type: CoreEventType }>

/** A transition that landed: the session, the state it left, and whether it wrote an event. */
export interface Landed {
  readonly id: string
  readonly prev: SessionState
  readonly evented: boolean
}

export interface NewSession {
  readonly id: string
  readonly userId: string
  readonly templateId: string
  readonly templateName: string
  readonly runtime: string
  readonly cpu: number
  readonly memory: number
  readonly persistentHome: boolean
  readonly at: Date
  /** Held by this replica from the start, so that its orchestrator acts on the session without claiming it. */
  readonly leaseUntil: Date
}

/** What the runtime needs to start a session besides the session's own row: its template's workload and its user's name. */
export interface LaunchFields {
  readonly image: string
  readonly ports: ReadonlyArray<number>
  readonly env: Record<string, string>
  readonly vnc_port: number
  readonly username: string
}

/** A session this replica holds the lease of (until `lease_until`), with what a runtime command needs. */
export interface LeasedSession extends SessionRow, LaunchFields {
  readonly lease_until: Date
}

/** A launch that needs no check between reading and writing: what the request knows before any statement. */
export interface UncheckedLaunch {
  readonly id: string
  readonly userId: string
  readonly templateId: string
  /** As asked for: the template's defaults fill what is absent. */
  readonly cpu: number | undefined
  readonly memory: number | undefined
  readonly persistentHome: boolean
  readonly runtime: string
  readonly at: Date
  readonly leaseUntil: Date
  readonly eventId: string
  readonly actorId: string | null
}

/** Who may change a session's intent: its owner, an admin (`admin`), or a share with one of `shares`. */
export interface IntentGuard {
  readonly viewer: string
  readonly admin: boolean
  readonly shares: ReadonlyArray<"view" | "control">
}

/** What launching a session reads, in one statement: the template, the quotas that bind the user, their usage. */
export interface LaunchFacts {
  readonly template: Template
  readonly quotas: ReadonlyArray<ScopedQuota>
  /** Only read when a quota binds (zero otherwise). */
  readonly usage: Usage
}

/** A runtime command that went through: the session waits for the runtime to report, under the lease it was sent with. */
export interface Submitted {
  readonly id: string
  readonly desired: DesiredState
  readonly leaseUntil: Date
}

export interface SessionListQuery {
  readonly viewer: string
  readonly all: boolean
  readonly state?: SessionState | undefined
  readonly limit: number
  readonly cursor?: string | undefined
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
    /** What launching from `templateId` needs to know for `userId`; undefined when there is no such template. */
    readonly launchFacts: (templateId: string, userId: string) => Effect.Effect<LaunchFacts | undefined>
    /**
     * The common launch in one statement: the session, its `session.created` event and the audit row, written
     * only when the template is enabled, the resources (defaults filled) are within its maxima and no quota
     * binds the user. Undefined when any of that does not hold: the caller takes the checked path, which
     * says why or launches within the quota.
     */
    readonly insertUnchecked: (
      launch: UncheckedLaunch,
      audit?: AuditColumns
    ) => Effect.Effect<(SessionRow & Omit<LaunchFields, "username">) | undefined>
    /** Inserts the session with its events (and the request's audit row, when given) in one statement. */
    readonly insert: (
      row: NewSession,
      events: ReadonlyArray<EventRow>,
      audit?: AuditColumns
    ) => Effect.Effect<SessionRow>
    /** The session as `viewer` sees it (`share_access` is the viewer's share, if any). */
    readonly find: (id: string, viewer: string) => Effect.Effect<SessionRow | undefined>
    readonly list: (q: SessionListQuery) => Effect.Effect<PageOf<SessionRow>>
    /**
     * Users' intent: what the orchestrator should reach. Undefined when the session is not in `from`. The
     * caller's replica takes the lease (until `leaseUntil`) when it is free or is `releasable` (a lease of its
     * own whose command went through); `leased` says whether it did.
     */
    readonly setDesired: (
      id: string,
      desired: DesiredState,
      from: ReadonlyArray<SessionState>,
      at: Date,
      lease?: { readonly leaseUntil: Date; readonly releasable: Date | undefined },
      /** The request's audit row, written by the same statement when the session changed. */
      audit?: AuditColumns,
      /** Changes it only for these callers (`share_access` is then the viewer's share); anyone's otherwise. */
      guard?: IntentGuard
    ) => Effect.Effect<(LeasedSession & { readonly leased: boolean }) | undefined>
    readonly touch: (id: string, at: Date) => Effect.Effect<void>
    /**
     * Applies one state change to each of the sessions `ids` that is still where the caller saw it, writing
     * the event that goes with the state it left, in one statement for all; returns those where it landed.
     */
    readonly transition: (
      ids: ReadonlyArray<string>,
      t: Transition,
      events: TransitionEvents
    ) => Effect.Effect<ReadonlyArray<Landed>>
    /** Claims sessions whose desired state needs a runtime command (a lease keeps other replicas off). */
    readonly claim: (at: Date, leaseUntil: Date, limit: number) => Effect.Effect<ReadonlyArray<LeasedSession>>
    /**
     * Marks commands as gone through (the runtime has them: not to be sent again) and releases their
     * leases, for the sessions still under the lease they were sent with; one statement for all.
     */
    readonly submitted: (commands: ReadonlyArray<Submitted>) => Effect.Effect<void>
    readonly retryLater: (id: string, attempts: number, next: Date) => Effect.Effect<void>
    readonly idle: (before: Date) => Effect.Effect<ReadonlyArray<{ readonly id: string }>>
    readonly stuckPending: (before: Date) => Effect.Effect<ReadonlyArray<{ readonly id: string }>>
    readonly shares: (id: string) => Effect.Effect<ReadonlyArray<SessionShare>>
    readonly share: (id: string, userId: string, access: "view" | "control", at: Date) => Effect.Effect<void>
    /** Returns false when there was no such share. */
    readonly unshare: (id: string, userId: string) => Effect.Effect<boolean>
    /** Stores a VNC ticket, and drops tickets that expired before it was made. */
    readonly insertVncTicket: (ticket: NewVncTicket) => Effect.Effect<void>
    /** Deletes the ticket with this hash and returns it: a ticket is taken once, whoever asks second finds nothing. */
    readonly takeVncTicket: (ticketHash: string) => Effect.Effect<TakenVncTicket | undefined>
    /** Runs `effect` in one transaction of the sessions' database (a state change and its event commit together). */
    readonly withTransaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  }
>() {}

/** The columns of a launch: the template's workload and the user's name (`t` templates, `u` users). */
const launchColumns = "t.image, t.ports, t.env, t.vnc_port, u.username"

/**
 * The reads on the request path and the orchestrator's claim, as statements (not run): the repo runs
 * them, and the EXPLAIN tests plan exactly these texts against a table with history.
 */
export const readStatements = (sql: SqlClient.SqlClient) => {
  const shareOf = (viewer: string) =>
    sql`(SELECT access FROM session_shares sh WHERE sh.session_id = s.id AND sh.user_id = ${viewer})`
  return {
    find: (id: string, viewer: string) =>
      sql<SessionRow>`SELECT s.*, t.name AS template_name, ${shareOf(viewer)} AS share_access
        FROM sessions s JOIN templates t ON t.id = s.template_id WHERE s.id = ${id}`,
    list: (q: SessionListQuery) => {
      const cursor = keyOf(ByTime, q.cursor)
      const conditions = [
        q.state ? sql`s.state = ${q.state}` : undefined,
        cursor ? sql`(s.created_at, s.id) < (${new Date(Number(cursor[0]))}, ${String(cursor[1])})` : undefined
      ].filter((c) => c !== undefined)
      const and = conditions.length ? sql`AND ${sql.and(conditions)}` : sql``
      const page = sql`ORDER BY s.created_at DESC, s.id DESC LIMIT ${q.limit + 1}`
      const listed = q.all
        ? sql`SELECT s.*, ${shareOf(q.viewer)} AS share_access FROM sessions s WHERE true ${and} ${page}`
        : // Own sessions and sessions shared with the viewer: each branch one index scan in page order.
          sql`(SELECT s.*, NULL::text AS share_access FROM sessions s WHERE s.user_id = ${q.viewer} ${and} ${page})
            UNION ALL
            (SELECT s.*, sh.access AS share_access FROM session_shares sh JOIN sessions s ON s.id = sh.session_id
              WHERE sh.user_id = ${q.viewer} AND s.user_id <> ${q.viewer} ${and} ${page})`
      return sql<SessionRow>`SELECT s.*, t.name AS template_name FROM (${listed}) s JOIN templates t ON t.id = s.template_id
        ${page}`
    },
    claim: (at: Date, leaseUntil: Date, limit: number) =>
      sql<LeasedSession>`
        UPDATE sessions s SET lease_until = ${leaseUntil}
        FROM (SELECT id FROM sessions
              WHERE state NOT IN ('terminated', 'failed') AND desired <> state AND NOT submitted
                AND (next_attempt_at IS NULL OR next_attempt_at <= ${at})
                AND (lease_until IS NULL OR lease_until < ${at})
              ORDER BY updated_at LIMIT ${limit} FOR UPDATE SKIP LOCKED) c, templates t, users u
        WHERE s.id = c.id AND t.id = s.template_id AND u.id = s.user_id
        RETURNING s.*, t.name AS template_name, NULL::text AS share_access, ${sql.literal(launchColumns)}`
  }
}

export const SessionRepoLive = Layer.effect(
  SessionRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const statements = readStatements(sql)
    return sqlDefects<SessionRepo["Type"]>({
      launchFacts: (templateId, userId) =>
        Effect.map(
          // Usage is only summed when a quota binds (the one-time filter on b.quotas), as Quotas.check does.
          sql<
            TemplateRow & {
              quotas: ReadonlyArray<QuotaRow> | null
              sessions: string
              cpu: string | null
              memory: string | null
              storage: string | null
            }
          >`
            SELECT t.*, b.quotas, u.sessions, u.cpu, u.memory,
              CASE WHEN b.quotas IS NOT NULL THEN (SELECT COALESCE(sum(size), 0) FROM files WHERE user_id = ${userId}) END AS storage
            FROM templates t
            CROSS JOIN LATERAL (
              SELECT json_agg(json_build_object('scope', q.scope, 'scope_id', q.scope_id, 'max_sessions', q.max_sessions,
                'max_cpu', q.max_cpu, 'max_memory', q.max_memory, 'max_storage', q.max_storage) ORDER BY q.scope DESC) AS quotas
              FROM quotas q WHERE (q.scope = 'user' AND q.scope_id = ${userId})
                OR (q.scope = 'group' AND q.scope_id IN (SELECT group_id FROM group_members WHERE user_id = ${userId}))) b
            CROSS JOIN LATERAL (
              SELECT count(*) AS sessions,
                sum(cpu) FILTER (WHERE state <> 'hibernated' OR desired = 'running') AS cpu,
                sum(memory) FILTER (WHERE state <> 'hibernated' OR desired = 'running') AS memory
              FROM sessions WHERE b.quotas IS NOT NULL AND user_id = ${userId}
                AND state NOT IN ('terminated', 'failed') AND desired <> 'terminated') u
            WHERE t.id = ${templateId}`,
          (rows) => {
            const r = rows[0]
            if (!r) return undefined
            return {
              template: toTemplate(r),
              quotas: (r.quotas ?? []).map(scopedQuotaOf),
              usage: {
                sessions: Number(r.sessions),
                cpu: Number(r.cpu ?? 0),
                memory: Number(r.memory ?? 0),
                storage: Number(r.storage ?? 0)
              }
            }
          }
        ),
      insertUnchecked: (l, audit) =>
        Effect.map(
          sql<SessionRow & Omit<LaunchFields, "username">>`
            WITH t AS (
              SELECT t.*, COALESCE(${l.cpu ?? null}::int, t.default_cpu) AS cpu_wanted,
                COALESCE(${l.memory ?? null}::int, t.default_memory) AS memory_wanted
              FROM templates t
              WHERE t.id = ${l.templateId} AND t.enabled
                AND NOT EXISTS (SELECT 1 FROM quotas q WHERE (q.scope = 'user' AND q.scope_id = ${l.userId})
                  OR (q.scope = 'group' AND q.scope_id IN (SELECT group_id FROM group_members WHERE user_id = ${l.userId})))),
            s AS (
              INSERT INTO sessions (id, user_id, template_id, state, desired, runtime, cpu, memory, persistent_home,
                lease_until, last_activity_at, created_at, updated_at)
              SELECT ${l.id}, ${l.userId}, t.id, 'pending', 'running', ${l.runtime}, t.cpu_wanted, t.memory_wanted,
                ${l.persistentHome}::boolean, ${l.leaseUntil}::timestamptz, ${l.at}::timestamptz, ${l.at}::timestamptz,
                ${l.at}::timestamptz
              FROM t WHERE t.cpu_wanted <= t.max_cpu AND t.memory_wanted <= t.max_memory
              RETURNING *),
            e AS (
              INSERT INTO events (id, type, source, payload, actor_id)
              SELECT ${l.eventId}::uuid, 'session.created', 'core', jsonb_build_object('sessionId', s.id, 'userId', s.user_id,
                'templateId', s.template_id, 'state', 'pending', 'cpu', s.cpu, 'memory', s.memory, 'at', ${l.at.toISOString()}::text),
                ${l.actorId}
              FROM s)
            ${audit ? sql`, a AS (${AuditLog.insertAuditWhen(sql, audit, sql`EXISTS (SELECT 1 FROM s)`)})` : sql``}
            SELECT s.*, t.name AS template_name, NULL::text AS share_access, t.image, t.ports, t.env, t.vnc_port
            FROM s, t`,
          (rows) => rows[0]
        ),
      insert: (row, events, audit) =>
        Effect.map(
          sql<Omit<SessionRow, "template_name" | "share_access">>`
            WITH ${audit ? sql`a AS (INSERT INTO audit_log ${sql.insert(audit)}),` : sql``} s AS (INSERT INTO sessions ${sql.insert(
              {
                id: row.id,
                user_id: row.userId,
                template_id: row.templateId,
                state: "pending",
                desired: "running",
                runtime: row.runtime,
                cpu: row.cpu,
                memory: row.memory,
                persistent_home: row.persistentHome,
                lease_until: row.leaseUntil,
                last_activity_at: row.at,
                created_at: row.at,
                updated_at: row.at
              }
            )} RETURNING *)${events.length > 0 ? sql`, e AS (${insertEvents(sql, events)})` : sql``}
            SELECT * FROM s`,
          (rows) => ({ ...rows[0]!, template_name: row.templateName, share_access: null })
        ),
      find: (id, viewer) => Effect.map(statements.find(id, viewer), (rows) => rows[0]),
      list: (q) =>
        statements.list(q).pipe(Effect.map((rows) => pageOf(rows, q.limit, (r) => [r.created_at.getTime(), r.id]))),
      setDesired: (id, desired, from, at, lease, audit, guard) => {
        const leaseUntil = lease
          ? sql`CASE WHEN s.lease_until IS NULL OR s.lease_until < ${at}${
              lease.releasable ? sql` OR s.lease_until = ${lease.releasable}` : sql``
            } THEN ${lease.leaseUntil}::timestamptz ELSE s.lease_until END`
          : sql`s.lease_until`
        return Effect.map(
          sql<LeasedSession & { leased: boolean }>`
            WITH changed AS (
              UPDATE sessions s SET desired = ${desired}, submitted = false, attempts = 0, next_attempt_at = NULL,
                lease_until = ${leaseUntil}, updated_at = ${at}
              FROM templates t, users u
              WHERE s.id = ${id} AND t.id = s.template_id AND u.id = s.user_id
                AND s.state IN ${sql.in(from)} AND s.desired <> 'terminated'
                ${
                  guard
                    ? sql`AND (s.user_id = ${guard.viewer}${guard.admin ? sql` OR true` : sql``}${
                        guard.shares.length > 0
                          ? sql` OR EXISTS (SELECT 1 FROM session_shares sh WHERE sh.session_id = s.id
                        AND sh.user_id = ${guard.viewer} AND sh.access IN ${sql.in(guard.shares)})`
                          : sql``
                      })`
                    : sql``
                }
              RETURNING s.*, t.name AS template_name, ${
                guard
                  ? sql`(SELECT access FROM session_shares sh WHERE sh.session_id = s.id AND sh.user_id = ${guard.viewer})`
                  : sql`NULL::text`
              } AS share_access, ${sql.literal(launchColumns)},
                ${lease ? sql`s.lease_until = ${lease.leaseUntil}::timestamptz` : sql`false`} AS leased)
            ${audit ? sql`, a AS (${AuditLog.insertAuditWhen(sql, audit, sql`EXISTS (SELECT 1 FROM changed)`)})` : sql``}
            SELECT * FROM changed`,
          (rows) => rows[0]
        )
      },
      touch: (id, at) => sql`UPDATE sessions SET last_activity_at = ${at} WHERE id = ${id}`.pipe(Effect.asVoid),
      transition: (ids, t, events) => {
        if (ids.length === 0) return Effect.succeed([])
        const eventOf =
          events.length > 0
            ? sql`(VALUES ${sql.csv(events.map((e) => sql`(${e.prev}, ${e.type})`))}) AS ev(prev, type)`
            : sql`(SELECT NULL::text AS prev, NULL::text AS type WHERE false) AS ev`
        // The payload is the catalog's SessionEvent; the platform acts (no actor). Locked in id order: two
        // batches never wait on each other crosswise.
        return sql<Landed>`
            WITH p AS (SELECT id, state AS prev FROM sessions WHERE id = ANY(${[...ids]}) ORDER BY id FOR UPDATE),
            m AS (
              UPDATE sessions s SET state = ${t.to}, submitted = false, attempts = 0, next_attempt_at = NULL, lease_until = NULL,
                updated_at = ${t.at}, reason = ${t.reason ?? null}, endpoint = ${t.endpoint === undefined ? sql`s.endpoint` : t.endpoint}
              FROM p WHERE s.id = p.id AND p.prev IN ${sql.in(t.from)} ${t.desired ? sql`AND s.desired IN ${sql.in(t.desired)}` : sql``}
              RETURNING s.id, s.user_id, s.template_id, s.cpu, s.memory, p.prev),
            e AS (
              INSERT INTO events (id, type, source, payload, actor_id)
              SELECT gen_random_uuid(), ev.type, 'core',
                jsonb_build_object('sessionId', m.id, 'userId', m.user_id, 'templateId', m.template_id, 'state', ${t.to}::text,
                  'cpu', m.cpu, 'memory', m.memory, 'at', ${t.at.toISOString()}::text)
                  || CASE WHEN ${t.reason || null}::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('reason', ${t.reason || null}::text) END,
                NULL
              FROM m JOIN ${eventOf} ON ev.prev = m.prev
              RETURNING payload->>'sessionId' AS session_id)
            SELECT m.id, m.prev, EXISTS (SELECT 1 FROM e WHERE e.session_id = m.id::text) AS evented FROM m`
      },
      claim: (at, leaseUntil, limit) => statements.claim(at, leaseUntil, limit),
      submitted: (commands) =>
        commands.length === 0
          ? Effect.void
          : // A session whose desired state changed meanwhile still needs a command: only its lease goes.
            sql`UPDATE sessions s SET submitted = (s.desired = c.desired), attempts = CASE WHEN s.desired = c.desired THEN 0 ELSE s.attempts END,
                lease_until = NULL
              FROM (VALUES ${sql.csv(commands.map((c) => sql`(${c.id}, ${c.desired}, ${c.leaseUntil}::timestamptz)`))}) AS c(id, desired, lease_until)
              WHERE s.id = c.id AND s.lease_until = c.lease_until`.pipe(Effect.asVoid),
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
                new SessionShare(
                  { userId: r.user_id, username: r.username, access: r.access, createdAt: r.created_at },
                  Rows.trusted
                )
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
