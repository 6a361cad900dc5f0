/**
 * `bun run bench sql`: 5,000 sequential `select $1::int` and 5,000
 * single-row inserts through our SqlClient and through the raw driver (PGlite
 * instance / pg Pool), on PGlite and on PostgreSQL. Prints the median cost of
 * one operation (median of 50 batches of 100) and the ratio ours/raw.
 */
import { PGlite } from "@electric-sql/pglite"
import * as Reactivity from "@effect/experimental/Reactivity"
import type { SqlClient } from "@effect/sql"
import { PgliteClient, PostgresClient, TestDatabase } from "@streamspace/db"
import { Effect, Redacted } from "effect"
import Pg from "pg"

const BATCHES = 50
const BATCH = 100
const WARMUP = 2000

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

type Op = (i: number) => Promise<unknown>

/**
 * µs per operation for ours and raw: batches alternate between the two so
 * that machine drift (large here) hits both sides alike; median over batches
 * of the mean within each batch.
 */
const measurePair = async (ours: Op, raw: Op): Promise<[number, number]> => {
  // WASM and the JIT need a long warm-up before batches are comparable.
  for (let i = 0; i < WARMUP; i++) {
    await ours(i)
    await raw(i)
  }
  const o: Array<number> = []
  const r: Array<number> = []
  let n = 0
  const batch = async (op: Op, into: Array<number>) => {
    const start = performance.now()
    for (let i = 0; i < BATCH; i++) await op(n++)
    into.push(((performance.now() - start) * 1000) / BATCH)
  }
  for (let b = 0; b < BATCHES; b++) {
    await batch(ours, o)
    await batch(raw, r)
  }
  return [median(o), median(r)]
}

const ours = (sql: SqlClient.SqlClient, table: string) => ({
  select: (i: number) => Effect.runPromise(sql`select ${i}::int AS v`),
  insert: (i: number) => Effect.runPromise(sql`INSERT INTO ${sql(table)} (n, label) VALUES (${i}, ${"row"})`)
})

const report = (engine: string, rows: ReadonlyArray<[string, number, number]>) => {
  for (const [name, ourUs, rawUs] of rows) {
    console.log(`${engine.padEnd(10)} ${name.padEnd(8)} ours ${ourUs.toFixed(1).padStart(7)} µs  raw ${rawUs.toFixed(1).padStart(7)} µs  ours/raw ${(ourUs / rawUs).toFixed(3)}`)
  }
}

const benchPglite = async () => {
  const raw = await PGlite.create({ dataDir: "memory://" })
  await raw.exec("CREATE TABLE raw_rows (n int, label text)")
  await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const { client } = yield* PgliteClient.make({ dataDir: "memory://" })
    yield* client`CREATE TABLE our_rows (n int, label text)`
    const o = ours(client, "our_rows")
    const select = yield* Effect.promise(() => measurePair(o.select, (i) => raw.query("select $1::int AS v", [i])))
    const insert = yield* Effect.promise(() => measurePair(o.insert, (i) => raw.query("INSERT INTO raw_rows (n, label) VALUES ($1, $2)", [i, "row"])))
    report("pglite", [["select", ...select], ["insert", ...insert]])
  })).pipe(Effect.provide(Reactivity.layer)))
  await raw.close()
}

const benchPostgres = async (serverUrl: string) => {
  await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const url = yield* TestDatabase.scopedDatabase(serverUrl)
    const pool = new Pg.Pool({ connectionString: url, max: 10 })
    yield* Effect.addFinalizer(() => Effect.promise(() => pool.end()))
    yield* Effect.promise(() => pool.query("CREATE TABLE raw_rows (n int, label text); CREATE TABLE our_rows (n int, label text)"))
    const { client } = yield* PostgresClient.make({ url: Redacted.make(url), maxConnections: 10 })
    const o = ours(client, "our_rows")
    const select = yield* Effect.promise(() => measurePair(o.select, (i) => pool.query("select $1::int AS v", [i])))
    const insert = yield* Effect.promise(() => measurePair(o.insert, (i) => pool.query("INSERT INTO raw_rows (n, label) VALUES ($1, $2)", [i, "row"])))
    report("postgres", [["select", ...select], ["insert", ...insert]])
  })).pipe(Effect.provide(Reactivity.layer)))
}

export const run = async () => {
  console.log(`${BATCHES * BATCH} sequential operations per case (after ${WARMUP} warm-up, batches alternate ours/raw), median of ${BATCHES} batches`)
  await benchPglite()
  const url = process.env["BENCH_DATABASE_URL"] ?? process.env["TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres"
  try {
    await benchPostgres(url)
  } catch (e) {
    console.log(`postgres   skipped: cannot reach ${url.replace(/\/\/[^@]*@/, "//")} (${e instanceof Error ? e.message : String(e)})`)
  }
}

if (import.meta.main) await run()
