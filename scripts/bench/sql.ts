/**
 * `bun run bench sql`: 5,000 sequential `select $1::int` and 5,000
 * single-row inserts through our SqlClient and through the raw driver (PGlite
 * instance / pg Pool), on PGlite and on PostgreSQL. Prints the median cost of
 * one operation (median over 50 batches of 100) and the ratio ours/raw.
 *
 * "ours" runs each batch as one Effect program of 100 sequential statements,
 * as a request handler runs them, on a runtime with the platform's settings
 * (`Platform.runtimeSettings`). "runPromise each" starts a new fiber for
 * every statement: the cost of calling the client from promise code. "as a
 * plugin" runs the same program through a plugin's role client (its own
 * login role and schema).
 * Raw and ours share the connection: on PGlite the instance (two WASM
 * instances in one process slow each other down by half), on PostgreSQL the
 * pool, whose one busy connection serves both. Round trips differ by up to 2×
 * between connections here (where the OS runs each server backend on 2
 * cores), so "as a plugin", which has connections of its own on PostgreSQL,
 * varies more there than the other columns.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import { Database, PgliteClient, PostgresClient, TestDatabase } from "@streamspace/db"
import { Platform } from "@streamspace/server"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import * as Interleaved from "./internal/Interleaved.ts"

const BATCHES = 50
const BATCH = 100
const WARMUP_BATCHES = 20

/** Runs BATCH operations starting at operation number `first`. */
const perOperation =
  (op: (i: number) => Promise<unknown>): Interleaved.Batch =>
  async (first) => {
    for (let i = first; i < first + BATCH; i++) await op(i)
  }

/**
 * µs per operation for each variant, batches rotating through the variants so
 * that machine drift (large here) hits all alike. WASM and the JIT need a long
 * warm-up.
 */
const measure = (variants: ReadonlyArray<Interleaved.Batch>) =>
  Interleaved.measure(variants, { batch: BATCH, batches: BATCHES, warmupBatches: WARMUP_BATCHES })

const runtime = ManagedRuntime.make(Layer.mergeAll(Platform.runtimeSettings, Reactivity.layer))

interface Case {
  readonly name: string
  readonly ours: (sql: SqlClient.SqlClient, table: string, i: number) => Effect.Effect<unknown, unknown>
  readonly raw: (i: number) => Promise<unknown>
}

const TABLE = "(n int, label text)"

const cases = (raw: (text: string, params: Array<unknown>) => Promise<unknown>): ReadonlyArray<Case> => [
  { name: "select", ours: (sql, _, i) => sql`select ${i}::int AS v`, raw: (i) => raw("select $1::int AS v", [i]) },
  {
    name: "insert",
    ours: (sql, table, i) => sql`INSERT INTO ${sql(table)} (n, label) VALUES (${i}, ${"row"})`,
    raw: (i) => raw("INSERT INTO raw_rows (n, label) VALUES ($1, $2)", [i, "row"])
  }
]

/**
 * What a plugin's SQL goes through: its own login role and schema
 * (`Database.roleClient`), as the plugin host sets them up.
 */
const pluginClient = Effect.gen(function* () {
  const role = `ss_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`
  const session = { role, password: crypto.randomUUID(), searchPath: role }
  const { dialect } = yield* Database.DatabaseInfo
  yield* Effect.acquireRelease(Database.createRole(session, dialect), () => Effect.ignore(Database.dropRole(session)))
  const plugin = yield* Database.roleClient(session)
  yield* plugin.unsafe(`CREATE TABLE plugin_rows ${TABLE}`)
  return plugin
})

const ratio = (label: string, us: number, rawUs: number) =>
  `${label} ${us.toFixed(1).padStart(6)} µs ${(us / rawUs).toFixed(3)}`

/** Every case on one engine, whose SqlClient (and DatabaseInfo) the context holds. */
const benchEngine = (engine: string, raw: (text: string, params: Array<unknown>) => Promise<unknown>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`CREATE TABLE raw_rows ${TABLE}; CREATE TABLE our_rows ${TABLE}`)
    const plugin = yield* pluginClient
    for (const c of cases(raw)) {
      const program =
        (client: SqlClient.SqlClient, table: string): Interleaved.Batch =>
        (first) =>
          runtime.runPromise(
            Effect.gen(function* () {
              for (let i = first; i < first + BATCH; i++) yield* c.ours(client, table, i)
            })
          )
      const eachRun = perOperation((i) => runtime.runPromise(c.ours(sql, "our_rows", i)))
      const [rawUs, oursUs, eachUs, pluginUs] = yield* Effect.promise(() =>
        measure([perOperation(c.raw), program(sql, "our_rows"), eachRun, program(plugin, "plugin_rows")])
      )
      console.log(
        `${engine.padEnd(8)} ${c.name.padEnd(6)} raw ${rawUs!.toFixed(1).padStart(6)} µs | ${ratio("ours", oursUs!, rawUs!)} | ${ratio(
          "runPromise each",
          eachUs!,
          rawUs!
        )} | ${ratio("as a plugin", pluginUs!, rawUs!)}`
      )
    }
  })

const benchPglite = () =>
  runtime.runPromise(
    Effect.gen(function* () {
      const { db } = yield* PgliteClient.PgliteClient
      yield* benchEngine("pglite", (text, params) => db.query(text, params))
    }).pipe(Effect.scoped, Effect.provide(Database.pglite({ dataDir: "memory://" })))
  )

const benchPostgres = (serverUrl: string) =>
  runtime.runPromise(
    Effect.gen(function* () {
      const url = yield* TestDatabase.scopedDatabase(serverUrl)
      yield* Effect.gen(function* () {
        const { pool } = yield* PostgresClient.PostgresClient
        yield* benchEngine("postgres", (text, params) => pool.query(text, params))
      }).pipe(Effect.scoped, Effect.provide(Database.postgres(Redacted.make(url))))
    }).pipe(Effect.scoped)
  )

export const run = async () => {
  console.log(
    `${BATCHES * BATCH} sequential operations per variant (after ${WARMUP_BATCHES * BATCH} warm-up; batches of ${BATCH} rotate raw/ours/runPromise each); µs per operation, median over batches`
  )
  await benchPglite()
  const url =
    process.env["BENCH_DATABASE_URL"] ??
    process.env["TEST_DATABASE_URL"] ??
    "postgres://postgres@127.0.0.1:5432/postgres"
  try {
    await benchPostgres(url)
  } catch (e) {
    console.log(
      `postgres   skipped: cannot reach ${url.replace(/\/\/[^@]*@/, "//")} (${e instanceof Error ? e.message : String(e)})`
    )
  }
  await runtime.dispose()
}

if (import.meta.main) await run()
