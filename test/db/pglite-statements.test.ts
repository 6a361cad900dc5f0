/**
 * PGlite's prepared-statement cache: bounded, closing what it evicts, and
 * unharmed by statements that fail to prepare. (What both engines share is
 * in conformance.test.ts.)
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import { PgliteClient } from "@streamspace/db"
import { Effect, Either, Layer, ManagedRuntime } from "effect"

let runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient | PgliteClient.PgliteClient, unknown>

beforeAll(() => {
  runtime = ManagedRuntime.make(
    PgliteClient.layer({ dataDir: "memory://", preparedStatements: { capacity: 3 } }).pipe(
      Layer.provide(Reactivity.layer)
    )
  )
})
afterAll(() => runtime.dispose())

const preparedOnServer = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'streamspace_%'`.pipe(
    Effect.map((rows) => rows[0]!.n)
  )
)

test("at most `capacity` statements stay prepared; evicted ones are closed, and prepared again when used", async () => {
  const result = await runtime.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const { statements } = yield* PgliteClient.PgliteClient
      const values: Array<number> = []
      for (let round = 0; round < 2; round++) {
        // Eight distinct statement texts, each run twice.
        for (let k = 0; k < 8; k++)
          values.push((yield* sql.unsafe<{ v: number }>(`SELECT $1::int + ${k} AS v`, [round * 100]))[0]!.v)
      }
      // Closing evicted statements rides on the next message: one more use sends it.
      yield* sql`SELECT ${0}::int AS v`
      return { values, size: statements.size, onServer: yield* preparedOnServer }
    })
  )
  expect(result.values).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 100, 101, 102, 103, 104, 105, 106, 107])
  expect(result).toMatchObject({ size: 3, onServer: 3 })
})

test("a statement that fails to prepare reports the server's error and leaves the connection usable", async () => {
  const result = await runtime.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const bad = yield* Effect.either(sql`SELEC ${1}::int`)
      const good = yield* sql<{ v: number }>`SELECT ${7}::int + ${1} AS v`
      return { error: Either.isLeft(bad) ? bad.left.message : "no error", good: good[0]!.v }
    })
  )
  expect(result).toEqual({ error: expect.stringContaining('syntax error at or near "SELEC"'), good: 8 })
})
