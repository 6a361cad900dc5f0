/**
 * The process as one Layer graph: config → logging → database → core
 * migrations → core services. The HTTP server sits on top (Server.ts).
 */
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import type { SqlClient } from "@effect/sql"
import { ChannelListener, CoreLive, CoreMigrations, CoreRoutes, ServerConfig } from "@streamspace/core"
import { Database, Migrations, PostgresClient } from "@streamspace/db"
import {
  EventCatalogueHttp,
  IntegrationTestHttp,
  KernelLive,
  PluginAdminHttp,
  type PluginDefinition
} from "@streamspace/kernel/host"
import { Context, Effect, Layer, Option } from "effect"
import * as Logging from "./Logging.ts"
import * as RateLimiter from "./RateLimiter.ts"
import * as RateLimitStore from "./RateLimitStore.ts"

export const migrateCore = Migrations.run({ migrations: CoreMigrations.coreMigrations, table: CoreMigrations.table })

/** The core's LISTEN (ChannelListener): the PostgreSQL client's, on PGlite none (one process, nothing to hear). */
export const channelListener: Layer.Layer<never> = Layer.effectContext(
  Effect.map(
    Effect.serviceOption(PostgresClient.PostgresClient),
    (pg): Context.Context<never> =>
      Option.isSome(pg) ? Context.make(ChannelListener.ChannelListener, { listen: pg.value.listen }) : Context.empty()
  )
)

export const databaseLayer = (config: ServerConfig.ServerConfigShape) =>
  Database.layer({ url: Option.fromNullable(config.databaseUrl), dataDir: config.dataDir })

/** Core services over an already-migrated database (the kernel's registries provide the HookRunner). */
export const coreLayer = CoreLive.CoreLive

/**
 * Settings every fiber of the platform inherits. Nothing exports traces, so
 * spans (`@effect/sql` makes one per statement) would be built only to be dropped.
 */
export const runtimeSettings: Layer.Layer<never> = Layer.setTracerEnabled(false)

/**
 * Stand-ins for core services (tests: `TestPlatform.make({ replace })`), put in place of the real
 * ones throughout the core (`CoreLive.make`). Built on the database, the config and the foundation.
 */
export type Replacement<E = unknown> = Layer.Layer<
  never,
  E,
  SqlClient.SqlClient | ServerConfig.ServerConfig | CoreLive.FoundationServices
>

export const make = <E, R, RE = never>(
  config: ServerConfig.ServerConfigShape,
  database: Layer.Layer<SqlClient.SqlClient | Database.DatabaseInfo, E, R>,
  plugins: ReadonlyArray<PluginDefinition> = [],
  /** Outgoing HTTP for webhooks and plugins (the test kit passes a capturing one). */
  httpClient: Layer.Layer<HttpClient.HttpClient> = FetchHttpClient.layer,
  replace: Replacement<RE> = Layer.empty
) => {
  const migrated = Layer.effectDiscard(
    migrateCore.pipe(
      Effect.tap((applied) =>
        applied.length > 0 ? Effect.logInfo(`applied ${applied.length} core migration(s)`) : Effect.void
      )
    )
  )
  const base = Layer.merge(migrated, channelListener).pipe(Layer.provideMerge(database))
  const core = CoreLive.make(replace).pipe(
    Layer.provideMerge(KernelLive.Registries),
    Layer.provideMerge(httpClient),
    Layer.provideMerge(base),
    Layer.provideMerge(ServerConfig.layer(config)),
    Layer.provideMerge(Logging.layer(config)),
    Layer.provideMerge(runtimeSettings)
  )
  const limits = RateLimiter.layer.pipe(Layer.provide(RateLimitStore.layer))
  return Layer.merge(KernelLive.host(plugins), limits).pipe(Layer.provideMerge(core))
}

/** Everything the composed platform provides (what routes and tests may use). */
export type Services = Layer.Layer.Success<ReturnType<typeof make>>

/** Every route the platform serves besides plugin routes. */
export const routes = [
  ...CoreRoutes.coreRoutes,
  ...PluginAdminHttp.pluginAdminRoutes,
  ...EventCatalogueHttp.eventCatalogueRoutes,
  ...IntegrationTestHttp.integrationTestRoutes
]
