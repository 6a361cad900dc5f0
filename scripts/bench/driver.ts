/**
 * `bun run bench driver`: our SqlClient (`IsolatedSqlClient`, the platform's
 * compiler and transactions) over four drivers on one PostgreSQL database:
 * - pg: node-postgres as it comes (one `socket.write` per protocol message);
 * - pg+1write: node-postgres with `CoalescedWrites` (one write per
 *   statement), what `PostgresClient` uses;
 * - bun: Bun's native, pipelining `Bun.sql` (named prepared statements);
 * - bun unprep: `Bun.sql` with `prepare: false`.
 *
 * Cases, each a batch of BATCH operations, variants interleaved batch by
 * batch so that drift on this shared machine hits every variant alike:
 * - select: a prepared `select $1::int`, sequential;
 * - insert: a single-row insert with two parameters, sequential;
 * - tx3: a transaction of three statements (insert, update, select);
 * - 32 fibers: the select from 32 concurrent fibers (BATCH statements in all).
 *
 * Prints µs per operation (median over batches) and each variant's ratio to
 * pg. Commits do not wait for the WAL flush (`synchronous_commit = off` on
 * the bench's own database) unless BENCH_DRIVER_DURABLE=1: a flush on this
 * shared disk costs milliseconds and varies more than the drivers differ. Every pool has 10 connections, as the platform's. The Bun.sql side is
 * the smallest adapter these statements need (not a full driver): what a
 * switch would cost per statement at best.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import type { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import { IsolatedSqlClient, PostgresClient, TestDatabase } from "@streamspace/db"
import { Platform } from "@streamspace/server"
import { SQL } from "bun"
import { Effect, Layer, ManagedRuntime, Redacted, Stream } from "effect"
import * as Interleaved from "./internal/Interleaved.ts"

const BATCHES = Number(process.env["BENCH_DRIVER_BATCHES"] ?? 40)
const BATCH = 64
const WARMUP_BATCHES = 15
const CONNECTIONS = 10
const FIBERS = 32

const runtime = ManagedRuntime.make(Layer.mergeAll(Platform.runtimeSettings, Reactivity.layer))

const sqlError = (cause: unknown) =>
  new SqlError({ cause, message: cause instanceof Error ? cause.message : "Failed to execute statement" })

/** The least a Connection over Bun.sql needs for the statements measured here. */
const bunConnection = (target: SQL): Connection => {
  const rows = (sql: string, params: ReadonlyArray<unknown>) =>
    Effect.tryPromise({ try: () => target.unsafe(sql, params as Array<unknown>), catch: sqlError })
  return {
    execute: rows,
    executeUnprepared: rows,
    executeRaw: rows,
    executeValues: (sql: string, params: ReadonlyArray<unknown>) =>
      Effect.tryPromise({ try: () => target.unsafe(sql, params as Array<unknown>).values(), catch: sqlError }),
    executeStream: () => Stream.die("not measured")
  } as unknown as Connection
}

const bunClient = (url: string, prepare: boolean) =>
  Effect.gen(function* () {
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() => new SQL({ url, max: CONNECTIONS, prepare })),
      (pool) => Effect.promise(() => pool.close())
    )
    const client = yield* IsolatedSqlClient.make({
      acquirer: Effect.succeed(bunConnection(pool)),
      transactionAcquirer: Effect.map(
        Effect.acquireRelease(Effect.tryPromise({ try: () => pool.reserve(), catch: sqlError }), (reserved) =>
          Effect.sync(() => reserved.release())
        ),
        (reserved) => ({ connection: bunConnection(reserved), begin: "BEGIN", commit: "COMMIT", rollback: "ROLLBACK" })
      ),
      compiler: PgClient.makeCompiler(),
      spanAttributes: []
    })
    return client
  })

const measure = (variants: ReadonlyArray<Interleaved.Batch>) =>
  Interleaved.measure(variants, { batch: BATCH, batches: BATCHES, warmupBatches: WARMUP_BATCHES })

interface Case {
  readonly name: string
  readonly ours: (sql: SqlClient.SqlClient, table: string, i: number) => Effect.Effect<unknown, unknown>
  readonly concurrent?: boolean
}

const cases: ReadonlyArray<Case> = [
  { name: "select", ours: (sql, _, i) => sql`select ${i}::int AS v` },
  { name: "insert", ours: (sql, table, i) => sql`INSERT INTO ${sql(table)} (n, label) VALUES (${i}, ${"row"})` },
  {
    name: "tx3",
    ours: (sql, table, i) =>
      sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`INSERT INTO ${sql(table)} (n, label) VALUES (${i}, ${"tx"})`
          yield* sql`UPDATE ${sql(table)} SET label = ${"tx-updated"} WHERE n = ${i}`
          return yield* sql`SELECT n, label FROM ${sql(table)} WHERE n = ${i}`
        })
      )
  },
  { name: `${FIBERS} fibers`, ours: (sql, _, i) => sql`select ${i}::int AS v`, concurrent: true }
]

const program =
  (c: Case, client: SqlClient.SqlClient, table: string): Interleaved.Batch =>
  (first) =>
    runtime.runPromise(
      c.concurrent
        ? Effect.forEach(
            Array.from({ length: FIBERS }, (_, f) => f),
            (f) =>
              Effect.gen(function* () {
                for (let i = first + f; i < first + BATCH; i += FIBERS) yield* c.ours(client, table, i)
              }),
            { concurrency: "unbounded", discard: true }
          )
        : Effect.gen(function* () {
            for (let i = first; i < first + BATCH; i++) yield* c.ours(client, table, i)
          })
    )

const pgClient = (url: string, coalesceWrites: boolean) =>
  Effect.map(
    PostgresClient.make({ url: Redacted.make(url), maxConnections: CONNECTIONS, coalesceWrites }),
    ({ client }) => client
  )

const variants = [
  { name: "pg", table: "pg_rows", client: (url: string) => pgClient(url, false) },
  { name: "pg+1write", table: "pg1_rows", client: (url: string) => pgClient(url, true) },
  { name: "bun", table: "bun_rows", client: (url: string) => bunClient(url, true) },
  { name: "bun unprep", table: "bunu_rows", client: (url: string) => bunClient(url, false) }
] as const

/** Commits without waiting for the WAL flush, so that inserts and transactions measure drivers, not this disk. */
const DURABLE = process.env["BENCH_DRIVER_DURABLE"] === "1"

const bench = (url: string) =>
  Effect.gen(function* () {
    if (!DURABLE) {
      const setup = new SQL({ url, max: 1 })
      yield* Effect.promise(() =>
        setup.unsafe(`ALTER DATABASE ${new URL(url).pathname.slice(1)} SET synchronous_commit = off`)
      )
      yield* Effect.promise(() => setup.close())
    }
    const clients = yield* Effect.forEach(variants, (v) => v.client(url))
    yield* clients[0]!.unsafe(variants.map((v) => `CREATE TABLE ${v.table} (n int, label text)`).join("; "))
    console.log(
      `${"case".padEnd(10)} ${variants.map((v) => `${v.name} µs`.padStart(14)).join(" ")}  ${variants
        .slice(1)
        .map((v) => `${v.name}/pg`.padStart(14))
        .join(" ")}`
    )
    for (const c of cases) {
      const us = yield* Effect.promise(() => measure(variants.map((v, k) => program(c, clients[k]!, v.table))))
      console.log(
        `${c.name.padEnd(10)} ${us.map((x) => x.toFixed(1).padStart(14)).join(" ")}  ${us
          .slice(1)
          .map((x) => (x / us[0]!).toFixed(3).padStart(14))
          .join(" ")}`
      )
    }
  })

export const run = async () => {
  const server =
    process.env["BENCH_DATABASE_URL"] ??
    process.env["TEST_DATABASE_URL"] ??
    "postgres://postgres@127.0.0.1:5432/postgres"
  console.log(
    `PostgreSQL${DURABLE ? "" : " (synchronous_commit off)"}; ${BATCHES} batches of ${BATCH} operations per variant after ${WARMUP_BATCHES} warm-up, variants interleaved batch by batch; µs per operation (median over batches)`
  )
  await runtime.runPromise(
    Effect.gen(function* () {
      const url = yield* TestDatabase.scopedDatabase(server)
      yield* bench(url)
    }).pipe(Effect.scoped)
  )
  await runtime.dispose()
}

if (import.meta.main) await run()
