/**
 * An `@effect/sql` SqlClient over a node-postgres Pool. `@effect/sql-pg`'s
 * client checks a connection out of the pool for every statement and costs
 * ~90 µs more than the driver per query (scripts/bench/sql.ts); this one
 * sends plain statements with `pool.query` and reserves a connection only for
 * transactions and streams. Same compiler, so SQL behaves identically.
 * Statements with parameters are named, so each pooled connection parses
 * them once (`StatementNames`). Its transactions are its own
 * (`IsolatedSqlClient`): a plugin's role client never joins the core's, nor
 * the reverse. It also exposes LISTEN/NOTIFY for cross-instance wake-ups.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import { Chunk, Context, Effect, Layer, Option, Redacted, type Scope, Stream } from "effect"
import Pg from "pg"
import Cursor from "pg-cursor"
import * as CoalescedWrites from "./internal/CoalescedWrites.ts"
import * as IsolatedSqlClient from "./internal/IsolatedSqlClient.ts"
import { isStale, type PreparedStatementsOptions, StatementNames } from "./internal/PreparedStatements.ts"

export interface PostgresClientConfig {
  readonly url: Redacted.Redacted<string>
  readonly maxConnections?: number
  readonly applicationName?: string
  readonly preparedStatements?: PreparedStatementsOptions
  /** One socket write per statement (`CoalescedWrites`); default true, false only to measure stock node-postgres. */
  readonly coalesceWrites?: boolean
}

export class PostgresClient extends Context.Tag("@streamspace/db/PostgresClient")<
  PostgresClient,
  {
    readonly pool: Pg.Pool
    /** Payloads of NOTIFY on `channel`, over one dedicated connection. */
    readonly listen: (channel: string) => Stream.Stream<string, SqlError>
  }
>() {}

type Transform = (<A extends object>(row: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined
type Queryable = Pick<Pg.Pool, "query"> | Pg.PoolClient

const sqlError = (cause: unknown) =>
  new SqlError({ cause, message: cause instanceof Error ? cause.message : "Failed to execute statement" })

const isReserved = (target: Queryable): target is Pg.PoolClient => "release" in target

/** `target.query`, as a named statement when worth one. */
const send = (
  names: StatementNames,
  target: Queryable,
  text: string,
  params: ReadonlyArray<unknown>,
  rowMode?: "array"
) => {
  const values = params as Array<unknown>
  const name = names.nameFor(text, params)
  const query = target.query({ text, values, ...(name ? { name } : {}), ...(rowMode ? { rowMode } : {}) })
  if (name === undefined) return query
  return query.catch((error: unknown) => {
    if (!isStale(error)) throw error
    names.forget(text)
    // Inside a transaction the block is aborted: only the caller can start over.
    if (isReserved(target)) throw error
    return target.query({ text, values, ...(rowMode ? { rowMode } : {}) })
  })
}

const makeConnection = (
  names: StatementNames,
  target: Queryable,
  reserve: Effect.Effect<Pg.PoolClient, SqlError, Scope.Scope>
): Connection => {
  const rows = (sql: string, params: ReadonlyArray<unknown>) =>
    Effect.tryPromise({
      try: async () => {
        const result = (await send(names, target, sql, params)) as Pg.QueryResult | Array<Pg.QueryResult>
        return Array.isArray(result) ? result.map((r) => r.rows ?? []) : (result.rows ?? [])
      },
      catch: sqlError
    })
  const execute = (sql: string, params: ReadonlyArray<unknown>, transform: Transform) =>
    transform ? Effect.map(rows(sql, params), (r) => transform(r as ReadonlyArray<object>)) : rows(sql, params)
  return {
    execute: execute as Connection["execute"],
    executeUnprepared: execute as Connection["executeUnprepared"],
    executeRaw: (sql, params) => Effect.tryPromise({ try: () => send(names, target, sql, params), catch: sqlError }),
    executeValues: (sql, params) =>
      Effect.tryPromise({
        try: async () =>
          (await send(names, target, sql, params, "array")).rows as ReadonlyArray<ReadonlyArray<unknown>>,
        catch: sqlError
      }),
    executeStream: (sql, params, transform) =>
      Stream.unwrapScoped(
        Effect.gen(function* () {
          const client = isReserved(target) ? target : yield* reserve
          const cursor = client.query(new Cursor(sql, params as Array<unknown>))
          yield* Effect.addFinalizer(() => Effect.promise(() => cursor.close()).pipe(Effect.ignore))
          const pull = Effect.async<Chunk.Chunk<unknown>, Option.Option<SqlError>>((resume) => {
            cursor.read(256, (err, batch) => {
              if (err) resume(Effect.fail(Option.some(sqlError(err))))
              else if (batch.length === 0) resume(Effect.fail(Option.none()))
              else resume(Effect.succeed(Chunk.unsafeFromArray(transform ? transform(batch as Array<object>) : batch)))
            })
          })
          return Stream.repeatEffectChunkOption(pull)
        })
      ) as ReturnType<Connection["executeStream"]>
  }
}

export const make = (config: PostgresClientConfig) =>
  Effect.gen(function* () {
    const pool = yield* Effect.acquireRelease(
      Effect.sync(
        () =>
          new Pg.Pool({
            connectionString: Redacted.value(config.url),
            max: config.maxConnections ?? 10,
            application_name: config.applicationName ?? "streamspace"
          })
      ),
      (pool) => Effect.promise(() => pool.end()).pipe(Effect.timeoutOption("2 seconds"), Effect.ignore)
    )
    // A connection the server drops (restart, pg_terminate_backend) emits "error": for an idle client on the pool,
    // which replaces it; for one checked out (a transaction, a stream) on the client itself. The statement that was
    // running fails with it, the next one with "not queryable", and the pool discards the client when released.
    // Unhandled, the event would be an uncaught exception.
    pool.on("error", () => undefined)
    const coalesce = config.coalesceWrites ?? true
    pool.on("connect", (client) => {
      client.on("error", () => undefined)
      if (coalesce) CoalescedWrites.install(client)
    })
    yield* Effect.tryPromise({
      try: () => pool.query("SELECT 1"),
      catch: (cause) => new SqlError({ cause, message: "Cannot connect to PostgreSQL" })
    })
    const reserve = Effect.acquireRelease(Effect.tryPromise({ try: () => pool.connect(), catch: sqlError }), (client) =>
      Effect.sync(() => client.release())
    )
    const names = new StatementNames(config.preparedStatements)
    const client = yield* IsolatedSqlClient.make({
      acquirer: Effect.succeed(makeConnection(names, pool, reserve)),
      transactionAcquirer: Effect.map(reserve, (c) => ({
        connection: makeConnection(names, c, reserve),
        begin: "BEGIN",
        commit: "COMMIT",
        rollback: "ROLLBACK"
      })),
      compiler: PgClient.makeCompiler(),
      spanAttributes: [["db.system.name", "postgresql"]]
    })
    const listen = (channel: string): Stream.Stream<string, SqlError> =>
      Stream.asyncPush<string, SqlError>((emit) =>
        Effect.gen(function* () {
          const conn = yield* Effect.acquireRelease(
            Effect.tryPromise({
              try: async () => {
                const c = new Pg.Client({ connectionString: Redacted.value(config.url) })
                c.on("error", (e) => emit.fail(sqlError(e)))
                await c.connect()
                return c
              },
              catch: sqlError
            }),
            (c) => Effect.promise(() => c.end()).pipe(Effect.timeoutOption("1 second"), Effect.ignore)
          )
          conn.on("notification", (msg) => {
            if (msg.channel === channel) emit.single(msg.payload ?? "")
          })
          yield* Effect.tryPromise({
            try: () => conn.query(`LISTEN "${channel.replaceAll('"', '""')}"`),
            catch: sqlError
          })
        })
      )
    return { client, pool, listen }
  })

export const layer = (config: PostgresClientConfig): Layer.Layer<SqlClient.SqlClient | PostgresClient, SqlError> =>
  Layer.scopedContext(
    Effect.map(make(config), ({ client, pool, listen }) =>
      Context.make(SqlClient.SqlClient, client).pipe(Context.add(PostgresClient, { pool, listen }))
    )
  ).pipe(Layer.provide(Reactivity.layer))
