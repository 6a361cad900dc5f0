/**
 * Which database the platform runs on: PostgreSQL when a URL is configured,
 * otherwise embedded PGlite under `<dataDir>/pglite` (or in memory for
 * `memory://`). Both are the same `SqlClient` to the rest of the code.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option, Redacted, type Scope } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as PgliteClient from "./PgliteClient.ts"
import * as PostgresClient from "./PostgresClient.ts"

export interface DatabaseConfig {
  readonly url: Option.Option<Redacted.Redacted<string>>
  readonly dataDir: string
}

export type Dialect = "postgres" | "pglite"

export class DatabaseInfo extends Context.Tag("@streamspace/db/DatabaseInfo")<
  DatabaseInfo,
  {
    readonly dialect: Dialect
    /** The PostgreSQL URL (absent on PGlite). */
    readonly url: Option.Option<Redacted.Redacted<string>>
  }
>() {}

export const pgliteDataDir = (dataDir: string) => (dataDir === "memory://" ? dataDir : Path.join(dataDir, "pglite"))

export const postgres = (
  url: Redacted.Redacted<string>
): Layer.Layer<SqlClient.SqlClient | PostgresClient.PostgresClient | DatabaseInfo, unknown> =>
  Layer.merge(
    PostgresClient.layer({ url, maxConnections: 10 }),
    Layer.succeed(DatabaseInfo, { dialect: "postgres", url: Option.some(url) })
  )

export const pglite = (
  config: PgliteClient.PgliteClientConfig
): Layer.Layer<SqlClient.SqlClient | PgliteClient.PgliteClient | DatabaseInfo, SqlError> =>
  Layer.merge(PgliteClient.layer(config), Layer.succeed(DatabaseInfo, { dialect: "pglite", url: Option.none() }))

export const layer = (config: DatabaseConfig): Layer.Layer<SqlClient.SqlClient | DatabaseInfo, unknown> =>
  Option.match(config.url, {
    onSome: postgres,
    onNone: () => {
      const dir = pgliteDataDir(config.dataDir)
      if (dir === "memory://") return pglite({ dataDir: dir })
      Fs.mkdirSync(dir, { recursive: true })
      if (Fs.existsSync(Path.join(dir, "PG_VERSION"))) return pglite({ dataDir: dir })
      // Creating the cluster is the one slow step of a first start: say so before it.
      return Layer.unwrapEffect(
        Effect.as(
          Effect.logInfo(`creating the embedded database in ${dir} (first start only, a few seconds)`),
          pglite({ dataDir: dir })
        )
      )
    }
  })

export interface RoleSession {
  readonly role: string
  readonly password: string
  readonly searchPath: string
}

/** The same server and database as `url`, logging in as another role with a fixed search_path. */
export const roleUrl = (url: string, session: RoleSession): string => {
  const u = new URL(url)
  u.username = encodeURIComponent(session.role)
  u.password = encodeURIComponent(session.password)
  u.searchParams.set("options", `-c search_path=${session.searchPath}`)
  return u.toString()
}

/**
 * Creates `session.role` (or gives an existing one the new password) and its
 * schema `session.searchPath`, owned by it. On PostgreSQL the role logs in
 * with the password; on PGlite statements switch to it (`SET LOCAL ROLE`),
 * so it needs no login.
 */
export const createRole = (session: RoleSession, dialect: Dialect) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const exists =
      (yield* sql<{ n: string }>`SELECT count(*) AS n FROM pg_roles WHERE rolname = ${session.role}`)[0]!.n !== "0"
    const login = dialect === "postgres" ? `LOGIN PASSWORD '${session.password.replaceAll("'", "''")}'` : "NOLOGIN"
    yield* sql.unsafe(exists ? `ALTER ROLE ${session.role} WITH ${login}` : `CREATE ROLE ${session.role} ${login}`)
    yield* sql.unsafe(`CREATE SCHEMA IF NOT EXISTS ${session.searchPath} AUTHORIZATION ${session.role}`)
  })

/** Drops the role's schema with everything in it, whatever else the role owns, and the role. */
export const dropRole = (session: Pick<RoleSession, "role" | "searchPath">) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`DROP SCHEMA IF EXISTS ${session.searchPath} CASCADE`)
    yield* sql.unsafe(`DROP OWNED BY ${session.role}`).pipe(Effect.ignore)
    yield* sql.unsafe(`DROP ROLE IF EXISTS ${session.role}`)
  })

/**
 * A separate SqlClient whose statements run as `role` with `searchPath`.
 * PostgreSQL: a small pool that logs in as the role (SQL cannot switch back
 * to a stronger role). PGlite: role and search_path set per transaction.
 */
export const roleClient = (
  session: RoleSession
): Effect.Effect<SqlClient.SqlClient, unknown, DatabaseInfo | Scope.Scope> =>
  Effect.gen(function* () {
    const info = yield* DatabaseInfo
    if (info.dialect === "postgres" && Option.isSome(info.url)) {
      const url = Redacted.make(roleUrl(Redacted.value(info.url.value), session))
      const { client } = yield* PostgresClient.make({
        url,
        maxConnections: 3,
        applicationName: `streamspace:${session.role}`
      }).pipe(Effect.provide(Reactivity.layer))
      return client
    }
    const pglite = yield* Effect.serviceOption(PgliteClient.PgliteClient)
    if (Option.isNone(pglite)) return yield* Effect.dieMessage("roleClient: no PostgreSQL URL and no PGlite client")
    return yield* PgliteClient.makeClient(pglite.value, { role: session.role, searchPath: session.searchPath }).pipe(
      Effect.provide(Reactivity.layer)
    )
  })
