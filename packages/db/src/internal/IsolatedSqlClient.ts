/**
 * An `@effect/sql` SqlClient whose transactions belong to it alone.
 *
 * `SqlClient.make` keeps the open transaction under one global
 * `TransactionConnection` tag, so any client's statements join any client's
 * transaction: a plugin's SQL inside a core transaction ran as the core user,
 * and the core's outbox insert inside a plugin transaction ran as the plugin.
 * Here each client gets a transaction tag of its own: its statements use its
 * own open transaction, and otherwise its `acquirer` (which on PGlite, the one
 * shared connection, decides how to run inside another client's transaction).
 *
 * Built from the library's public parts (`Statement.make`, the SqlClient type
 * id); the transaction wrapper mirrors the library's own: nested calls are
 * savepoints, a failed commit is a defect, interruption rolls back.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient, Statement } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Exit, Option, Scope } from "effect"
import { ScopeFreeAcquirer } from "./ScopeFreeAcquirer.ts"

/** A connection reserved for one transaction, with the statements that open and close it. */
export interface TransactionConnection {
  readonly connection: Connection
  readonly begin: string
  readonly commit: string
  readonly rollback: string
  /** More context while the transaction is open (PGlite: who holds the one connection, as which role). */
  readonly context?: Context.Context<never>
}

export interface MakeOptions {
  /** The connection for a statement outside this client's own transaction. */
  readonly acquirer: Effect.Effect<Connection, SqlError>
  /** Reserves a connection for a transaction until the scope closes. */
  readonly transactionAcquirer: Effect.Effect<TransactionConnection, SqlError, Scope.Scope>
  readonly compiler: Statement.Compiler
  readonly spanAttributes: ReadonlyArray<readonly [string, unknown]>
}

let clients = 0

export const make = (options: MakeOptions): Effect.Effect<SqlClient.SqlClient, never, Reactivity.Reactivity> =>
  Effect.gen(function* () {
    const tag = Context.GenericTag<TransactionConnection, readonly [TransactionConnection, number]>(
      `@streamspace/db/Transaction/${++clients}`
    )
    const getConnection = Effect.flatMap(
      Effect.serviceOption(tag),
      Option.match({ onNone: () => options.acquirer, onSome: ([tx]) => Effect.succeed(tx.connection) })
    )
    // Statements hold nothing of the connection; the patched Statement skips its per-statement Scope.
    Object.assign(getConnection, { [ScopeFreeAcquirer]: true })

    const run = (conn: Connection, sql: string) => conn.executeUnprepared(sql, [], undefined)

    const withTransaction = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Effect.serviceOption(tag), (open) => {
          if (Option.isSome(open)) {
            const [tx, depth] = open.value
            const name = `ss_sp_${depth + 1}`
            return Effect.gen(function* () {
              yield* run(tx.connection, `SAVEPOINT ${name}`)
              const exit = yield* Effect.exit(Effect.provideService(restore(effect), tag, [tx, depth + 1]))
              yield* Effect.orDie(
                run(tx.connection, Exit.isSuccess(exit) ? `RELEASE SAVEPOINT ${name}` : `ROLLBACK TO SAVEPOINT ${name}`)
              )
              return yield* exit
            })
          }
          return Effect.gen(function* () {
            const scope = yield* Scope.make()
            const tx = yield* Scope.extend(options.transactionAcquirer, scope).pipe(
              Effect.tapErrorCause((cause) => Scope.close(scope, Exit.failCause(cause)))
            )
            const exit = yield* run(tx.connection, tx.begin).pipe(
              Effect.zipRight(
                Effect.exit(
                  restore(effect).pipe(
                    Effect.provideService(tag, [tx, 0]),
                    tx.context ? Effect.provide(tx.context) : (e) => e
                  )
                )
              ),
              Effect.exit,
              Effect.map(Exit.flatten)
            )
            const finish = Exit.isSuccess(exit)
              ? Effect.orDie(run(tx.connection, tx.commit))
              : Effect.orDie(run(tx.connection, tx.rollback))
            yield* Effect.ensuring(finish, Scope.close(scope, exit))
            return yield* exit
          })
        })
      )

    const reactivity = yield* Reactivity.Reactivity
    const statement = Statement.make(getConnection, options.compiler, options.spanAttributes, undefined)
    const client: SqlClient.SqlClient = Object.assign(statement, {
      [SqlClient.TypeId]: SqlClient.TypeId,
      safe: undefined as unknown as SqlClient.SqlClient,
      withTransaction,
      reserve: Effect.map(options.transactionAcquirer, (tx) => tx.connection),
      withoutTransforms: () => client,
      reactive: reactivity.stream,
      reactiveMailbox: reactivity.query
    }) as unknown as SqlClient.SqlClient
    Object.assign(client, { safe: client })
    return client
  })
