/**
 * The audit trail. `record` joins whatever transaction is open, so the row
 * commits or rolls back with the change it describes; the HTTP edge records
 * failed and denied requests after their transaction rolled back.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import { Context, Effect, Layer, Schema } from "effect"
import type { Actor } from "../Actor.ts"
import { actorId, actorLabel } from "../Actor.ts"
import { BySerial, keyOf, pageOf, type PageOf } from "../Pagination.ts"

export const AuditResult = Schema.Literal("success", "failure", "denied")
export type AuditResult = typeof AuditResult.Type

export interface AuditEntryInput {
  readonly actor: Actor
  readonly action: string
  readonly target?: string | null
  readonly ip?: string
  readonly userAgent?: string
  readonly result: AuditResult
  readonly detail?: string | null
  readonly requestId?: string | null
  /** The plugin whose route or job acted (null: the core). */
  readonly plugin?: string | null
}

export class AuditEntry extends Schema.Class<AuditEntry>("AuditEntry")({
  id: Schema.String,
  at: Schema.DateFromSelf,
  actorId: Schema.NullOr(Schema.String),
  actor: Schema.String,
  action: Schema.String,
  target: Schema.NullOr(Schema.String),
  ip: Schema.String,
  userAgent: Schema.String,
  result: AuditResult,
  detail: Schema.NullOr(Schema.String),
  requestId: Schema.NullOr(Schema.String),
  plugin: Schema.NullOr(Schema.String)
}) {}

export const AuditEntryJson = Schema.Struct({
  ...AuditEntry.fields,
  at: Schema.Date
})

export interface AuditQuery {
  readonly actorId?: string
  readonly action?: string
  readonly target?: string
  readonly since?: Date
  readonly until?: Date
  readonly limit: number
  readonly cursor?: string
}

interface AuditRow {
  readonly id: string
  readonly at: Date
  readonly actor_id: string | null
  readonly actor: string
  readonly action: string
  readonly target: string | null
  readonly ip: string
  readonly user_agent: string
  readonly result: AuditResult
  readonly detail: string | null
  readonly request_id: string | null
  readonly plugin: string | null
}

const toEntry = (r: AuditRow) =>
  new AuditEntry({
    id: String(r.id),
    at: r.at,
    actorId: r.actor_id,
    actor: r.actor,
    action: r.action,
    target: r.target,
    ip: r.ip,
    userAgent: r.user_agent,
    result: r.result,
    detail: r.detail,
    requestId: r.request_id,
    plugin: r.plugin
  })

/** An audit row's columns, as `record` writes them. */
export const auditColumns = (e: AuditEntryInput) => ({
  actor_id: actorId(e.actor),
  actor: actorLabel(e.actor),
  action: e.action,
  target: e.target ?? null,
  ip: e.ip ?? "",
  user_agent: e.userAgent ?? "",
  result: e.result,
  detail: e.detail ?? null,
  request_id: e.requestId ?? null,
  plugin: e.plugin ?? null
})
export type AuditColumns = ReturnType<typeof auditColumns>

/**
 * An INSERT of `audit` that writes the row only when `condition` holds: for a statement whose change may not
 * land (a conditional UPDATE in a CTE), so that a refused change leaves no success row even without a transaction.
 * Every audit column is text, so the untyped parameters need no casts.
 */
export const insertAuditWhen = (sql: SqlClient.SqlClient, audit: AuditColumns, condition: Statement.Fragment) => {
  const columns = Object.entries(audit)
  // The column names are auditColumns' own keys, never input.
  return sql`INSERT INTO audit_log (${sql.literal(columns.map(([column]) => column).join(", "))})
    SELECT ${sql.csv(columns.map(([, value]) => sql`${value}`))} WHERE ${condition}`
}

/**
 * The success row of the current request's audit, for the request's own write to carry (one statement
 * fewer): the HTTP edge provides it on audited core routes, and writes no row of its own once a statement
 * took it. Take it only for the request's last write, one whose failure (or whose change not landing) fails
 * the request and writes no row: the edge records the failure instead. A route whose only write carries it
 * needs no transaction (`transactional: false`): the statement is atomic on its own.
 */
export class RequestAudit extends Context.Tag("@streamspace/core/RequestAudit")<
  RequestAudit,
  {
    /** The row's columns with `target`, once; undefined when there is none to carry (taken already, not audited). */
    readonly take: (target: string | null) => Effect.Effect<AuditColumns | undefined>
  }
>() {}

/** The current request's success audit row for a statement to write, if there is one to carry. */
export const takeRequestAudit = (target: string | null): Effect.Effect<AuditColumns | undefined> =>
  Effect.flatMap(Effect.serviceOption(RequestAudit), (audit) =>
    audit._tag === "Some" ? audit.value.take(target) : Effect.succeed(undefined)
  )

export class AuditLog extends Context.Tag("@streamspace/core/AuditLog")<
  AuditLog,
  {
    readonly record: (entry: AuditEntryInput) => Effect.Effect<void, SqlError>
    readonly query: (q: AuditQuery) => Effect.Effect<PageOf<AuditEntry>, SqlError>
  }
>() {}

export const AuditLogLive = Layer.effect(
  AuditLog,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return {
      record: (e) => sql`INSERT INTO audit_log ${sql.insert(auditColumns(e))}`.pipe(Effect.asVoid),
      query: (q) => {
        const cursor = keyOf(BySerial, q.cursor)
        const conditions = [
          q.actorId !== undefined ? sql`actor_id = ${q.actorId}` : undefined,
          q.action !== undefined ? sql`action = ${q.action}` : undefined,
          q.target !== undefined ? sql`target = ${q.target}` : undefined,
          q.since !== undefined ? sql`at >= ${q.since}` : undefined,
          q.until !== undefined ? sql`at < ${q.until}` : undefined,
          cursor !== null ? sql`id < ${Number(cursor[0])}` : undefined
        ].filter((c) => c !== undefined)
        return sql<AuditRow>`
          SELECT * FROM audit_log
          ${conditions.length > 0 ? sql`WHERE ${sql.and(conditions)}` : sql``}
          ORDER BY id DESC LIMIT ${q.limit + 1}`.pipe(
          Effect.map((rows) => pageOf(rows.map(toEntry), q.limit, (e) => [Number(e.id)]))
        )
      }
    }
  })
)
