/**
 * An `@effect/sql` SqlClient over embedded PGlite (PostgreSQL compiled to
 * WASM), so the whole platform runs with zero setup. It uses the PostgreSQL
 * statement compiler, so SQL and helpers behave as with `@effect/sql-pg`.
 *
 * PGlite has a single connection: a one-permit semaphore guards each
 * statement, and a transaction holds the permit from BEGIN to COMMIT so no
 * other fiber can interleave (or see uncommitted rows). Statements issued
 * inside the transaction use its connection and do not take the permit again.
 */
import { PGlite } from "@electric-sql/pglite"
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Stream } from "effect"

export interface PgliteClientConfig {
  /** A directory path, or `memory://` for an in-memory database. */
  readonly dataDir: string
  /** A tarball from `dumpDataDir()` to start from (fast test databases). */
  readonly loadDataDir?: Blob | File
}

export class PgliteClient extends Context.Tag("@streamspace/db/PgliteClient")<PgliteClient, {
  readonly db: PGlite
  /** The single connection's guard; every client over `db` must share it. */
  readonly semaphore: Effect.Semaphore
}>() {}

const INT8 = 20

/** node-postgres returns int8 as strings; PGlite as numbers. Make both agree on strings. */
const parsers = { [INT8]: (value: string) => value }

type Transform = (<A extends object>(row: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined

const sqlError = (cause: unknown) =>
  new SqlError({ cause, message: cause instanceof Error ? cause.message : "Failed to execute statement" })

const makeConnection = (db: PGlite, guard: <A>(effect: Effect.Effect<A, SqlError>) => Effect.Effect<A, SqlError>): Connection => {
  const rows = (sql: string, params: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<unknown>, SqlError> =>
    guard(Effect.tryPromise({
      try: async () => {
        if (params.length > 0) return (await db.query(sql, params as Array<unknown>)).rows
        // Without parameters the simple protocol runs several statements (migrations).
        const results = await db.exec(sql)
        return results.length === 1 ? results[0]!.rows : results.map((r) => r.rows)
      },
      catch: sqlError
    }))
  const execute = (sql: string, params: ReadonlyArray<unknown>, transform: Transform) =>
    transform ? Effect.map(rows(sql, params), (r) => transform(r as ReadonlyArray<object>)) : rows(sql, params)
  return {
    execute: execute as Connection["execute"],
    executeUnprepared: execute as Connection["executeUnprepared"],
    executeRaw: (sql, params) =>
      guard(Effect.tryPromise({ try: () => db.query(sql, params as Array<unknown>), catch: sqlError })),
    executeValues: (sql, params) =>
      guard(Effect.tryPromise({
        try: async () => (await db.query<Array<unknown>>(sql, params as Array<unknown>, { rowMode: "array" })).rows,
        catch: sqlError
      })),
    // PGlite has no cursors: the result is buffered, then streamed.
    executeStream: (sql, params, transform) =>
      Stream.fromIterableEffect(execute(sql, params, transform) as Effect.Effect<ReadonlyArray<unknown>, SqlError>) as ReturnType<Connection["executeStream"]>
  }
}

export const make = (config: PgliteClientConfig) =>
  Effect.gen(function*() {
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => PGlite.create({ dataDir: config.dataDir, parsers, ...(config.loadDataDir ? { loadDataDir: config.loadDataDir } : {}) }),
        catch: (cause) => new SqlError({ cause, message: `Cannot open PGlite at ${config.dataDir}` })
      }),
      (db) => Effect.promise(() => db.close()).pipe(Effect.ignore)
    )
    const semaphore = yield* Effect.makeSemaphore(1)
    const client = yield* makeClient(db, semaphore)
    return { client, db, semaphore }
  })

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`

/**
 * A client over an open PGlite. With `session`, every statement runs inside a
 * transaction that first switches role and search_path (`SET LOCAL`), which
 * is how plugins get least-privilege SQL on PGlite. This guards against
 * mistakes, not hostile code: SQL can still `RESET ROLE` on the one connection.
 */
export const makeClient = (db: PGlite, semaphore: Effect.Semaphore, session?: { readonly role: string; readonly searchPath: string }) => {
  const begin = session
    ? `BEGIN; SET LOCAL ROLE ${quoteIdent(session.role)}; SET LOCAL search_path TO ${quoteIdent(session.searchPath)}`
    : "BEGIN"
  const exclusive = makeConnection(db, (effect) => effect)
  const shared = session
    ? makeConnection(db, (effect) =>
      semaphore.withPermits(1)(
        Effect.acquireUseRelease(
          Effect.tryPromise({ try: () => db.exec(begin), catch: sqlError }),
          () => effect,
          (_, exit) => Effect.promise(() => db.exec(exit._tag === "Success" ? "COMMIT" : "ROLLBACK")).pipe(Effect.ignore)
        )
      ))
    : makeConnection(db, semaphore.withPermits(1))
  return SqlClient.make({
    acquirer: Effect.succeed(shared),
    transactionAcquirer: Effect.as(Effect.acquireRelease(semaphore.take(1), () => semaphore.release(1)), exclusive),
    beginTransaction: begin,
    compiler: PgClient.makeCompiler(),
    spanAttributes: [["db.system.name", "postgresql"], ["db.namespace", "pglite"]]
  })
}

export const layer = (config: PgliteClientConfig): Layer.Layer<SqlClient.SqlClient | PgliteClient, SqlError> =>
  Layer.scopedContext(
    Effect.map(make(config), ({ client, db, semaphore }) =>
      Context.make(SqlClient.SqlClient, client).pipe(Context.add(PgliteClient, { db, semaphore })))
  ).pipe(Layer.provide(Reactivity.layer))
