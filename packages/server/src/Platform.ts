/**
 * The process as one Layer graph: config → logging → database → core
 * migrations → core services. The HTTP server sits on top (Server.ts).
 */
import { FetchHttpClient } from "@effect/platform"
import type { SqlClient } from "@effect/sql"
import { CoreLive, CoreMigrations, HookRunner, ServerConfig } from "@streamspace/core"
import { Database, Migrations } from "@streamspace/db"
import { Effect, Layer, Option } from "effect"
import * as Logging from "./Logging.ts"

export const migrateCore = Migrations.run({ migrations: CoreMigrations.coreMigrations, table: CoreMigrations.table })

export const databaseLayer = (config: ServerConfig.ServerConfigShape) =>
  Database.layer({ url: Option.fromNullable(config.databaseUrl), dataDir: config.dataDir })

/** Core services over an already-migrated database. */
export const coreLayer = CoreLive.CoreLive

export const make = <E, R>(config: ServerConfig.ServerConfigShape, database: Layer.Layer<SqlClient.SqlClient | Database.DatabaseInfo, E, R>) => {
  const migrated = Layer.effectDiscard(
    migrateCore.pipe(Effect.tap((applied) => applied.length > 0 ? Effect.logInfo(`applied ${applied.length} core migration(s)`) : Effect.void))
  )
  const base = migrated.pipe(Layer.provideMerge(database))
  return coreLayer.pipe(
    Layer.provideMerge(HookRunner.HookRunnerNone),
    Layer.provideMerge(FetchHttpClient.layer),
    Layer.provideMerge(base),
    Layer.provideMerge(ServerConfig.layer(config)),
    Layer.provideMerge(Logging.layer(config))
  )
}

/** Everything the composed platform provides (what routes and tests may use). */
export type Services = Layer.Layer.Success<ReturnType<typeof make>>
