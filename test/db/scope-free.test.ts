/**
 * The `@effect/sql` patch (patches/@effect%2Fsql@0.52.1.patch): a statement
 * whose client's acquirer is marked scope-free runs without opening a Scope;
 * any other acquirer keeps the library's Scope per statement.
 */
import { describe, expect, test } from "bun:test"
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { PgClient } from "@effect/sql-pg"
import { Effect, Option, Scope, Stream } from "effect"

const ScopeFreeAcquirer = Symbol.for("@effect/sql/SqlConnection/ScopeFreeAcquirer")

/** A connection whose every statement answers whether it ran inside a Scope. */
const reportsScope: Connection = (() => {
  const rows = Effect.map(Effect.serviceOption(Scope.Scope), (scope) => [{ scoped: Option.isSome(scope) }])
  return {
    execute: () => rows,
    executeUnprepared: () => rows,
    executeRaw: () => rows,
    executeValues: () => Effect.map(rows, (r) => r.map((row) => [row.scoped])),
    executeStream: () => Stream.fromIterableEffect(rows)
  } as Connection
})()

const scopedWhenRun = (acquirer: SqlClient.SqlClient.MakeOptions["acquirer"]) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.make({ acquirer, compiler: PgClient.makeCompiler(), spanAttributes: [] })
      const statement = sql<{ scoped: boolean }>`SELECT ${1}`
      return {
        marked: Reflect.get(Reflect.get(statement, "acquirer") as object, ScopeFreeAcquirer) === true,
        rows: yield* statement
      }
    }).pipe(Effect.provide(Reactivity.layer))
  )

describe("statements and the per-statement Scope (patched @effect/sql)", () => {
  test("an unmarked acquirer runs each statement in a Scope of its own", async () => {
    expect(await scopedWhenRun(Effect.succeed(reportsScope))).toEqual({ marked: false, rows: [{ scoped: true }] })
  })

  test("an acquirer marked scope-free runs statements without one", async () => {
    const acquirer = Object.assign(Effect.succeed(reportsScope), { [ScopeFreeAcquirer]: true })
    expect(await scopedWhenRun(acquirer)).toEqual({ marked: true, rows: [{ scoped: false }] })
  })
})
