/**
 * A fresh database per test file. With `TEST_DATABASE_URL`: a new database
 * on that server, dropped afterwards. Otherwise an in-memory PGlite copied
 * from a template made once per process (initdb plus `prepare`, e.g. the
 * core migrations), because initdb costs seconds and loading a dump ~1 s.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import * as Database from "./Database.ts"
import * as PgliteClient from "./PgliteClient.ts"

export interface TestDatabaseOptions {
  /** Templates are cached per key: use one key per distinct `prepare`. */
  readonly key: string
  readonly prepare?: Effect.Effect<void, unknown, SqlClient.SqlClient>
}

const templates = new Map<string, Promise<Blob>>()

const makeTemplate = (prepare: Effect.Effect<void, unknown, SqlClient.SqlClient> | undefined) =>
  Effect.runPromise(
    Effect.scoped(Effect.gen(function*() {
      const { client, db } = yield* PgliteClient.make({ dataDir: "memory://" })
      if (prepare) yield* Effect.provideService(prepare, SqlClient.SqlClient, client)
      return yield* Effect.promise(() => db.dumpDataDir("none"))
    })).pipe(Effect.provide(Reactivity.layer))
  )

const template = (options: TestDatabaseOptions): Promise<Blob> => {
  let t = templates.get(options.key)
  if (!t) {
    t = makeTemplate(options.prepare)
    templates.set(options.key, t)
    t.catch(() => templates.delete(options.key))
  }
  return t
}

export const databaseName = () => `ss_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`

/** Creates a database on the server of `serverUrl`; drops it (disconnecting everyone) when the scope closes. */
export const scopedDatabase = (serverUrl: string) =>
  Effect.gen(function*() {
    const name = databaseName()
    const admin = yield* PgClient.make({ url: Redacted.make(serverUrl), maxConnections: 1 }).pipe(Effect.provide(Reactivity.layer))
    yield* Effect.acquireRelease(
      admin.unsafe(`CREATE DATABASE ${name}`),
      () => admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).pipe(Effect.ignore)
    )
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    return url.toString()
  })

const postgresLayer = (serverUrl: string, options: TestDatabaseOptions) =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const url = yield* scopedDatabase(serverUrl)
    const layer = Database.postgres(Redacted.make(url))
    if (!options.prepare) return layer
    return Layer.effectDiscard(options.prepare).pipe(Layer.provideMerge(layer))
  }))

const pgliteLayer = (options: TestDatabaseOptions) =>
  Layer.unwrapEffect(
    Effect.promise(() => template(options)).pipe(
      Effect.map((blob) => Database.pglite({ dataDir: "memory://", loadDataDir: blob }))
    )
  )

export const layer = (options: TestDatabaseOptions): Layer.Layer<SqlClient.SqlClient | Database.DatabaseInfo, unknown> => {
  const url = process.env["TEST_DATABASE_URL"]
  return url ? postgresLayer(url, options) : pgliteLayer(options)
}
