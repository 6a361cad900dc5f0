/**
 * Which other databases of the PostgreSQL cluster the plugins' login roles
 * can connect to. Their rights end at their own schema in StreamSpace's
 * database, but CONNECT is a database privilege that PostgreSQL grants to
 * PUBLIC on every database by default: a plugin role can then log in to
 * `postgres`, `template1` and other applications' databases (and read
 * whatever PUBLIC may read there). The startup report warns about it, with
 * the statements that close it (docs/security.md); PGlite has one database
 * and no logins, so nothing to report there.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Database } from "@streamspace/db"
import { Effect } from "effect"
import * as Manifest from "./Manifest.ts"

/** A database other than StreamSpace's that plugin roles can connect to, and through whom. */
export interface OpenDatabase {
  readonly database: string
  /** PUBLIC has CONNECT: every role, plugin roles made later included. */
  readonly public: boolean
  /** Plugin login roles of this StreamSpace database that have CONNECT (through PUBLIC or a grant of their own). */
  readonly roles: ReadonlyArray<string>
}

/** Every other connectable database of the cluster that PUBLIC or a plugin role of this database can connect to. */
export const openDatabases: Effect.Effect<ReadonlyArray<OpenDatabase>, SqlError, SqlClient.SqlClient> = Effect.gen(
  function* () {
    const sql = yield* SqlClient.SqlClient
    const database = (yield* sql<{ db: string }>`SELECT current_database() AS db`)[0]!.db
    const rows = yield* sql<{ database: string; public: boolean; roles: ReadonlyArray<string> }>`
      SELECT d.datname AS database,
             has_database_privilege('public', d.oid, 'CONNECT') AS public,
             coalesce(array_agg(r.rolname::text ORDER BY r.rolname)
                        FILTER (WHERE has_database_privilege(r.oid, d.oid, 'CONNECT')), '{}') AS roles
      FROM pg_database d
      LEFT JOIN pg_roles r ON r.rolcanlogin AND starts_with(r.rolname, ${Manifest.roleOf("", database)})
      WHERE d.datallowconn AND d.datname <> current_database()
      GROUP BY d.datname, d.oid
      ORDER BY d.datname`
    return rows.filter((r) => r.public || r.roles.length > 0)
  }
)

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`

/** The statements that take CONNECT away from PUBLIC and from the plugin roles on `open`. */
export const closingStatements = (open: ReadonlyArray<OpenDatabase>): ReadonlyArray<string> =>
  open.flatMap((d) => [
    ...(d.public ? [`REVOKE CONNECT ON DATABASE ${ident(d.database)} FROM PUBLIC;`] : []),
    ...(d.roles.length > 0
      ? [`REVOKE CONNECT ON DATABASE ${ident(d.database)} FROM ${d.roles.map(ident).join(", ")};`]
      : [])
  ])

/** The startup report's line about it: a warning on PostgreSQL when a plugin role can reach another database. */
export const report: Effect.Effect<void, never, SqlClient.SqlClient | Database.DatabaseInfo> = Effect.gen(function* () {
  if ((yield* Database.DatabaseInfo).dialect !== "postgres") return
  const open = yield* openDatabases
  if (open.length === 0) return
  const names = open.map((d) => `${d.database} (${d.public ? "PUBLIC" : d.roles.join(", ")})`).join(", ")
  yield* Effect.logWarning(
    `plugin database roles can CONNECT to other databases of this PostgreSQL cluster: ${names}. ` +
      `Revoke it (and grant CONNECT back only to the roles that use those databases), see docs/security.md: ` +
      closingStatements(open).join(" ")
  )
}).pipe(
  Effect.catchAll((e) => Effect.logWarning(`could not check which databases plugin roles can reach: ${e.message}`))
)
