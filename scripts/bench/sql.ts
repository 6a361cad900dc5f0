/**
 * `bun run bench sql`: 5,000 sequential `select $1::int` and 5,000
 * single-row inserts through our SqlClient and through the raw driver (PGlite
 * instance / pg Pool), on PGlite and on PostgreSQL. Prints the median cost of
 * one operation (median over 50 batches of 100) and the ratio ours/raw.
 *
 * "ours" runs each batch as one Effect program of 100 sequential statements,
 * as a request handler runs them, on a runtime with the platform's settings
 * (`Platform.runtimeSettings`). "ours, runPromise each" starts a new fiber
 * for every statement: the cost of calling the client from promise code.
 * Raw and ours share the database (and on PGlite the instance: two WASM
 * instances in one process slow each other down by half).
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import type { SqlClient } from "@effect/sql"
import { PgliteClient, PostgresClient, TestDatabase } from "@streamspace/db"
import { Platform } from "@streamspace/server"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import Pg from "pg"

const BATCHES = 50
const BATCH = 100
const WARMUP_BATCHES = 20

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

/** Runs BATCH operations starting at operation number `first`. */
type Batch = (first: number) => Promise<unknown>

const perOperation = (op: (i: number) => Promise<unknown>): Batch => async (first) => {
  for (let i = first; i < first + BATCH; i++) await op(i)
}

/**
 * µs per operation for each variant. Batches rotate through the variants so
 * that machine drift (large here) hits all alike; the median over batches of
 * the mean within each batch. WASM and the JIT need a long warm-up.
 */
const measure = async (variants: ReadonlyArray<Batch>): Promise<Array<number>> => {
  let n = 0
  for (let b = 0; b < WARMUP_BATCHES; b++) for (const v of variants) await v((n += BATCH))
  const times = variants.map(() => [] as Array<number>)
  for (let b = 0; b < BATCHES; b++) {
    for (const [k, v] of variants.entries()) {
      const start = performance.now()
      await v((n += BATCH))
      times[k]!.push(((performance.now() - start) * 1000) / BATCH)
    }
  }
  return times.map(median)
}

const runtime = ManagedRuntime.make(Layer.mergeAll(Platform.runtimeSettings, Reactivity.layer))

interface Case {
  readonly name: string
  readonly ours: (sql: SqlClient.SqlClient, i: number) => Effect.Effect<unknown, unknown>
  readonly raw: (i: number) => Promise<unknown>
}

const cases = (raw: (text: string, params: Array<unknown>) => Promise<unknown>): ReadonlyArray<Case> => [
  { name: "select", ours: (sql, i) => sql`select ${i}::int AS v`, raw: (i) => raw("select $1::int AS v", [i]) },
  {
    name: "insert",
    ours: (sql, i) => sql`INSERT INTO ${sql("our_rows")} (n, label) VALUES (${i}, ${"row"})`,
    raw: (i) => raw("INSERT INTO raw_rows (n, label) VALUES ($1, $2)", [i, "row"])
  }
]

const benchEngine = async (engine: string, sql: SqlClient.SqlClient, raw: (text: string, params: Array<unknown>) => Promise<unknown>) => {
  for (const c of cases(raw)) {
    const program: Batch = (first) =>
      runtime.runPromise(Effect.gen(function*() {
        for (let i = first; i < first + BATCH; i++) yield* c.ours(sql, i)
      }))
    const eachRun = perOperation((i) => runtime.runPromise(c.ours(sql, i)))
    const [rawUs, oursUs, eachUs] = await measure([perOperation(c.raw), program, eachRun])
    const line = (label: string, us: number) => `${us.toFixed(1).padStart(7)} µs  ${label} ${(us / rawUs!).toFixed(3)}`
    console.log(`${engine.padEnd(10)} ${c.name.padEnd(7)} raw ${rawUs!.toFixed(1).padStart(7)} µs | ours ${line("ours/raw", oursUs!)} | runPromise each ${line("", eachUs!)}`)
  }
}

const benchPglite = () =>
  runtime.runPromise(Effect.scoped(Effect.gen(function*() {
    const { client, db } = yield* PgliteClient.make({ dataDir: "memory://" })
    yield* Effect.promise(() => db.exec("CREATE TABLE raw_rows (n int, label text); CREATE TABLE our_rows (n int, label text)"))
    yield* Effect.promise(() => benchEngine("pglite", client, (text, params) => db.query(text, params)))
  })))

const benchPostgres = async (serverUrl: string) => {
  await runtime.runPromise(Effect.scoped(Effect.gen(function*() {
    const url = yield* TestDatabase.scopedDatabase(serverUrl)
    const pool = new Pg.Pool({ connectionString: url, max: 10 })
    // Dropping the database ends connections that may still be closing: their "terminating connection" is expected.
    pool.on("connect", (client) => client.on("error", () => undefined))
    pool.on("error", () => undefined)
    yield* Effect.addFinalizer(() => Effect.promise(() => pool.end()))
    yield* Effect.promise(() => pool.query("CREATE TABLE raw_rows (n int, label text); CREATE TABLE our_rows (n int, label text)"))
    const { client } = yield* PostgresClient.make({ url: Redacted.make(url), maxConnections: 10 })
    yield* Effect.promise(() => benchEngine("postgres", client, (text, params) => pool.query(text, params)))
  })))
}

export const run = async () => {
  console.log(`${BATCHES * BATCH} sequential operations per variant (after ${WARMUP_BATCHES * BATCH} warm-up; batches of ${BATCH} rotate raw/ours/runPromise each); µs per operation, median over batches`)
  await benchPglite()
  const url = process.env["BENCH_DATABASE_URL"] ?? process.env["TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres"
  try {
    await benchPostgres(url)
  } catch (e) {
    console.log(`postgres   skipped: cannot reach ${url.replace(/\/\/[^@]*@/, "//")} (${e instanceof Error ? e.message : String(e)})`)
  }
  await runtime.dispose()
}

if (import.meta.main) await run()
