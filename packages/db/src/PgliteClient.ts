/**
 * An `@effect/sql` SqlClient over embedded PGlite (PostgreSQL compiled to
 * WASM), so the whole platform runs with zero setup. It uses the PostgreSQL
 * statement compiler, so SQL and helpers behave as with `@effect/sql-pg`.
 *
 * PGlite has a single connection and queues single queries itself. What it
 * cannot do is keep other fibers' statements out of an open transaction: a
 * `TransactionGate` does that. A transaction closes the gate from BEGIN to
 * COMMIT; other statements wait while it is closed and pass straight through
 * (no Effect semaphore, which cost ~40 µs a statement) while it is open.
 * Statements inside the transaction use its connection and skip the gate.
 * Statements with parameters run as prepared statements (`PgliteStatements`).
 */
import { PGlite } from "@electric-sql/pglite"
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Option, type Scope, Stream } from "effect"
import * as IsolatedSqlClient from "./internal/IsolatedSqlClient.ts"
import * as PgliteAssets from "./internal/PgliteAssets.ts"
import { PgliteStatements } from "./internal/PgliteStatements.ts"
import type { PreparedStatementsOptions } from "./internal/PreparedStatements.ts"

export interface PgliteClientConfig {
  /** A directory path, or `memory://` for an in-memory database. */
  readonly dataDir: string
  /** A tarball from `dumpDataDir()` to start from (fast test databases). */
  readonly loadDataDir?: Blob | File
  readonly preparedStatements?: PreparedStatementsOptions
}

/** Keeps statements out of another fiber's open transaction on the one connection. */
export class TransactionGate {
  private closed = false
  private readonly waiting: Array<() => void> = []

  /** Runs `effect` once no transaction holds the connection. */
  readonly pass = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    // Re-check after waking: another transaction may have closed the gate again first.
    Effect.suspend(() => (this.closed ? Effect.zipRight(this.awaitOpen, this.pass(effect)) : effect))

  /** Holds the connection for a transaction until the scope closes. */
  readonly hold: Effect.Effect<void, never, Scope.Scope> = Effect.acquireRelease(
    Effect.suspend(() => (this.closed ? Effect.zipRight(this.awaitOpen, this.close) : this.close)),
    () => Effect.sync(() => this.open())
  )

  private readonly close: Effect.Effect<void> = Effect.suspend(
    (): Effect.Effect<void> =>
      this.closed
        ? Effect.zipRight(this.awaitOpen, this.close)
        : Effect.sync(() => {
            this.closed = true
          })
  )

  private readonly awaitOpen = Effect.async<void>((resume) => {
    const wake = () => resume(Effect.void)
    this.waiting.push(wake)
    return Effect.sync(() => {
      const i = this.waiting.indexOf(wake)
      if (i >= 0) this.waiting.splice(i, 1)
    })
  })

  private open() {
    this.closed = false
    // Wake everyone: the first one to close the gate again wins, the others re-check.
    for (const wake of this.waiting.splice(0)) wake()
  }
}

/** A role and search_path a client's statements run under (none: the connection's own user, the core). */
export interface RoleSettings {
  readonly role: string
  readonly searchPath: string
}

/** Which client's transaction holds the connection in the current fiber, and as which role. */
export interface HeldConnection {
  readonly session: RoleSettings | undefined
}

/** The one PGlite connection and the state every client over it must share. */
export interface PgliteConnection {
  readonly db: PGlite
  readonly gate: TransactionGate
  readonly statements: PgliteStatements
  readonly held: Context.Tag<HeldConnection, HeldConnection>
}

let connections = 0

export class PgliteClient extends Context.Tag("@streamspace/db/PgliteClient")<PgliteClient, PgliteConnection>() {}

const INT8 = 20

/** node-postgres returns int8 as strings; PGlite as numbers. Make both agree on strings. */
const parsers = { [INT8]: (value: string) => value }

type Transform = (<A extends object>(row: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined

const sqlError = (cause: unknown) =>
  new SqlError({ cause, message: cause instanceof Error ? cause.message : "Failed to execute statement" })

type Guard = <A>(effect: Effect.Effect<A, SqlError>) => Effect.Effect<A, SqlError>

/**
 * A Connection over the shared PGlite. `guard` wraps every statement (the
 * transaction gate, or a per-statement role transaction). With `begin`, a
 * prepared statement instead runs in its own `begin` … COMMIT transaction
 * in one hold of the connection (`PgliteStatements.queryInTransaction`).
 */
const makeConnection = ({ db, gate, statements }: PgliteConnection, guard: Guard, begin?: string): Connection => {
  const query = <T>(sql: string, params: ReadonlyArray<unknown>, rowMode?: "array") =>
    begin !== undefined && statements.prepares(params)
      ? gate.pass(
          Effect.tryPromise({
            try: () => statements.queryInTransaction<T>(begin, sql, params, rowMode),
            catch: sqlError
          })
        )
      : guard(Effect.tryPromise({ try: () => statements.query<T>(sql, params, rowMode), catch: sqlError }))
  const rows = (sql: string, params: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<unknown>, SqlError> =>
    params.length > 0
      ? Effect.map(query(sql, params), (r) => r.rows)
      : // Without parameters the simple protocol runs several statements (migrations).
        guard(
          Effect.tryPromise({
            try: async () => {
              const results = await db.exec(sql)
              return results.length === 1 ? results[0]!.rows : results.map((r) => r.rows)
            },
            catch: sqlError
          })
        )
  const execute = (sql: string, params: ReadonlyArray<unknown>, transform: Transform) =>
    transform ? Effect.map(rows(sql, params), (r) => transform(r as ReadonlyArray<object>)) : rows(sql, params)
  return {
    execute: execute as Connection["execute"],
    executeUnprepared: execute as Connection["executeUnprepared"],
    executeRaw: (sql, params) => query(sql, params),
    executeValues: (sql, params) => Effect.map(query<Array<unknown>>(sql, params, "array"), (r) => r.rows),
    // PGlite has no cursors: the result is buffered, then streamed.
    executeStream: (sql, params, transform) =>
      Stream.fromIterableEffect(
        execute(sql, params, transform) as Effect.Effect<ReadonlyArray<unknown>, SqlError>
      ) as ReturnType<Connection["executeStream"]>
  }
}

export const make = (config: PgliteClientConfig) =>
  Effect.gen(function* () {
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () =>
          PGlite.create({
            dataDir: config.dataDir,
            parsers,
            ...(await PgliteAssets.load()),
            ...(config.loadDataDir ? { loadDataDir: config.loadDataDir } : {})
          }),
        catch: (cause) => new SqlError({ cause, message: `Cannot open PGlite at ${config.dataDir}` })
      }),
      (db) => Effect.promise(() => db.close()).pipe(Effect.ignore)
    )
    const connection: PgliteConnection = {
      db,
      gate: new TransactionGate(),
      statements: new PgliteStatements(db, config.preparedStatements),
      held: Context.GenericTag<HeldConnection>(`@streamspace/db/PgliteHeld/${++connections}`)
    }
    const client = yield* makeClient(connection)
    return { client, ...connection }
  })

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`

/** The SQL that makes the open transaction run as `session` (the core: the connection's own user). */
const switchTo = (session: RoleSettings | undefined) =>
  session
    ? `SET LOCAL ROLE ${quoteIdent(session.role)}; SET LOCAL search_path TO ${quoteIdent(session.searchPath)}`
    : "SET LOCAL ROLE NONE; SET LOCAL search_path TO DEFAULT"

const sameSession = (a: RoleSettings | undefined, b: RoleSettings | undefined) =>
  a?.role === b?.role && a?.searchPath === b?.searchPath

let savepoints = 0

/**
 * A client over an open PGlite. With `session`, every statement runs inside a
 * transaction that first switches role and search_path (`SET LOCAL`), which
 * is how plugins get least-privilege SQL on PGlite. This guards against
 * mistakes, not hostile code: SQL can still `RESET ROLE` on the one connection.
 *
 * Each client has its own transactions (`IsolatedSqlClient`). The connection
 * is one, though: when a client runs SQL while another client's transaction
 * holds it (a plugin hook inside a core request, a core service inside a
 * plugin route), the statement or transaction runs inside that transaction,
 * in a savepoint, switched to this client's role and back. It then commits
 * or rolls back with the enclosing transaction; its own failure rolls back
 * only its savepoint.
 */
export const makeClient = (connection: PgliteConnection, session?: RoleSettings) => {
  const { db, gate, held } = connection
  const begin = session ? `BEGIN; ${switchTo(session)}` : "BEGIN"
  const exec = (sql: string) => Effect.tryPromise({ try: () => db.exec(sql), catch: sqlError })
  const exclusive = makeConnection(connection, (effect) => effect)
  const shared = session
    ? makeConnection(
        connection,
        (effect) =>
          Effect.scoped(
            Effect.zipRight(
              gate.hold,
              Effect.acquireUseRelease(
                exec(begin),
                () => effect,
                (_, exit) =>
                  Effect.promise(() => db.exec(exit._tag === "Success" ? "COMMIT" : "ROLLBACK")).pipe(Effect.ignore)
              )
            )
          ),
        begin
      )
    : makeConnection(connection, gate.pass)
  /** Runs each statement inside `holder`'s transaction, in a savepoint, as this client's role. */
  const inside = (holder: HeldConnection) =>
    makeConnection(connection, (effect) =>
      Effect.suspend(() => {
        const name = `ss_in_${++savepoints}`
        return Effect.acquireUseRelease(
          exec(`SAVEPOINT ${name}; ${switchTo(session)}`),
          () => effect,
          (_, exit) =>
            Effect.orDie(
              exec(
                exit._tag === "Success"
                  ? `${switchTo(holder.session)}; RELEASE SAVEPOINT ${name}`
                  : `ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`
              )
            )
        )
      })
    )
  const acquirer = Effect.map(
    Effect.serviceOption(held),
    (holder): Connection =>
      Option.isNone(holder) ? shared : sameSession(holder.value.session, session) ? exclusive : inside(holder.value)
  )
  const transactionAcquirer = Effect.flatMap(
    Effect.serviceOption(held),
    (holder): Effect.Effect<IsolatedSqlClient.TransactionConnection, never, Scope.Scope> => {
      const context = Context.make(held, { session })
      if (Option.isNone(holder))
        return Effect.as(gate.hold, { connection: exclusive, begin, commit: "COMMIT", rollback: "ROLLBACK", context })
      const name = `ss_tx_${++savepoints}`
      return Effect.succeed({
        connection: exclusive,
        begin: `SAVEPOINT ${name}; ${switchTo(session)}`,
        commit: `${switchTo(holder.value.session)}; RELEASE SAVEPOINT ${name}`,
        rollback: `ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`,
        context
      })
    }
  )
  return IsolatedSqlClient.make({
    acquirer,
    transactionAcquirer,
    compiler: PgClient.makeCompiler(),
    spanAttributes: [
      ["db.system.name", "postgresql"],
      ["db.namespace", "pglite"]
    ]
  })
}

export const layer = (config: PgliteClientConfig): Layer.Layer<SqlClient.SqlClient | PgliteClient, SqlError> =>
  Layer.scopedContext(
    Effect.map(make(config), ({ client, ...connection }) =>
      Context.make(SqlClient.SqlClient, client).pipe(Context.add(PgliteClient, connection))
    )
  ).pipe(Layer.provide(Reactivity.layer))
