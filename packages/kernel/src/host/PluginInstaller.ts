/**
 * What a plugin owns in the database, and the one place a plugin's SQL
 * client is made. Install creates its role and schema `plugin_<id>`, the
 * host's tables in that schema (`_streamspace_kv`, `_streamspace_migrations`;
 * names beginning `_streamspace_` are reserved), its migrations (run as its
 * role) and its kernel functions (events and audit rows, `KernelFunctions`).
 * Before each enable, `prepare` brings an older install up to date: a newer
 * version's migrations, tables of earlier releases renamed, missing kernel
 * functions created. Remove drops all of it, or keeps schema, role and data.
 */
import { SqlClient } from "@effect/sql"
import { Conflict } from "@streamspace/core"
import { Database, Migrations, PgliteClient } from "@streamspace/db"
import { Effect, Layer, Option, type Scope } from "effect"
import * as Semver from "./Semver.ts"
import * as Manifest from "./Manifest.ts"
import type { PluginDefinition } from "../Plugin.ts"
import { PluginFailed } from "./PluginErrors.ts"
import * as KernelFunctions from "./KernelFunctions.ts"

export const KV_TABLE = "_streamspace_kv"
export const MIGRATIONS_TABLE = "_streamspace_migrations"

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e))

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const dbInfo = yield* Database.DatabaseInfo
  const pglite = yield* Effect.serviceOption(PgliteClient.PgliteClient)
  const database = (yield* sql<{ db: string }>`SELECT current_database() AS db`)[0]!.db
  const core = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
    Effect.provideService(effect, SqlClient.SqlClient, sql)

  const session = (id: string, password: string): Database.RoleSession => ({
    role: Manifest.roleOf(id, database),
    password,
    searchPath: Manifest.schemaOf(id)
  })

  /**
   * The plugin's SQL client: on PostgreSQL a small pool logging in as its
   * role; on PGlite statements switched to its role. Its transactions are its
   * own: they never join the core's, nor the core's its.
   */
  const client = (id: string, password: string): Effect.Effect<SqlClient.SqlClient, unknown, Scope.Scope> => {
    const made = Database.roleClient(session(id, password)).pipe(
      Effect.provide(Layer.succeed(Database.DatabaseInfo, dbInfo))
    )
    return Option.isSome(pglite) ? Effect.provideService(made, PgliteClient.PgliteClient, pglite.value) : made
  }

  const migrate = (def: PluginDefinition, plugin: SqlClient.SqlClient) =>
    Migrations.run({
      migrations: def.migrations ?? [],
      table: `${Manifest.schemaOf(def.id)}.${MIGRATIONS_TABLE}`
    }).pipe(Effect.provideService(SqlClient.SqlClient, plugin))

  /** Creates role, schema, host tables, migrations and kernel functions; returns the role's password. */
  const install = (def: PluginDefinition, password: string) =>
    Effect.gen(function* () {
      const s = session(def.id, password)
      yield* core(Database.createRole(s, dbInfo.dialect))
      yield* Effect.scoped(
        Effect.gen(function* () {
          const plugin = yield* client(def.id, password)
          yield* legacyTables(plugin)
          yield* plugin.unsafe(`CREATE TABLE IF NOT EXISTS ${KV_TABLE} (key text PRIMARY KEY, value jsonb NOT NULL)`)
          yield* migrate(def, plugin)
        })
      ).pipe(Effect.mapError((e) => new PluginFailed({ plugin: def.id, message: `install: ${describe(e)}` })))
      yield* core(KernelFunctions.create(def.id, s.role))
    })

  /** Tables of releases before the `_streamspace_` names (kept data reinstalled, or an install upgraded). */
  const legacyTables = (plugin: SqlClient.SqlClient) =>
    Effect.gen(function* () {
      const present = new Set(
        (yield* plugin<{
          name: string
        }>`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()`).map((r) => r.name)
      )
      if (present.has("kv") && !present.has(KV_TABLE)) yield* plugin.unsafe(`ALTER TABLE kv RENAME TO ${KV_TABLE}`)
      if (present.has("migrations") && !present.has(MIGRATIONS_TABLE))
        yield* plugin.unsafe(`ALTER TABLE migrations RENAME TO ${MIGRATIONS_TABLE}`)
    })

  /**
   * Before an enable: refuses a downgrade, runs a newer version's migrations
   * (as the role), brings tables and kernel functions of older installs up to
   * date. Returns whether the version changed.
   */
  const prepare = (def: PluginDefinition, installed: { readonly version: string; readonly password: string }) =>
    Effect.gen(function* () {
      const order = Semver.compare(def.version, installed.version)
      if (order === undefined || order < 0) {
        return yield* new Conflict({
          message: `plugin ${def.id} ${def.version} is older than the installed ${installed.version}; downgrades are not supported`,
          code: "downgrade"
        })
      }
      const functionsExist = yield* core(KernelFunctions.exist(def.id))
      // The usual enable: same version, up to date. Nothing to do, not even a login as the role.
      if (order === 0 && functionsExist) return false
      const applied = yield* Effect.scoped(
        Effect.gen(function* () {
          const plugin = yield* client(def.id, installed.password)
          yield* legacyTables(plugin)
          return order > 0 ? (yield* migrate(def, plugin)).length : 0
        })
      ).pipe(
        Effect.mapError(
          (e) => new PluginFailed({ plugin: def.id, message: `upgrade to ${def.version}: ${describe(e)}` })
        )
      )
      if (!functionsExist) yield* core(KernelFunctions.create(def.id, session(def.id, installed.password).role))
      if (order > 0)
        yield* Effect.logInfo(
          `plugin ${def.id} upgraded ${installed.version} → ${def.version} (${applied} migration(s))`
        )
      return order > 0
    })

  /** Drops the plugin's functions, schema (with its data) and role; with `keepData` leaves all three. */
  const remove = (id: string, keepData: boolean) =>
    keepData ? Effect.void : core(Effect.zipRight(KernelFunctions.drop(id), Database.dropRole(session(id, ""))))

  return { session, client, install, prepare, remove }
})

export type PluginInstaller = Effect.Effect.Success<typeof make>
