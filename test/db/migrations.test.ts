import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { Migrations, TestDatabase } from "@streamspace/db"
import { Effect, Exit, ManagedRuntime } from "effect"

const engine = process.env["TEST_DATABASE_URL"] ? "postgres" : "pglite"
let runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, unknown>
beforeAll(() => {
  runtime = ManagedRuntime.make(TestDatabase.layer({ key: "empty" }))
})
afterAll(() => runtime.dispose())

const m = (id: number, name: string, sql: string): Migrations.MigrationSource => ({ id, name, sql })
const first = [
  m(1, "one", "CREATE TABLE m_one (id int); INSERT INTO m_one VALUES (1);"),
  m(2, "two", "CREATE TABLE m_two (id int);")
]

describe(`migrations (${engine})`, () => {
  test("applies pending migrations once, then nothing", async () => {
    const applied = await runtime.runPromise(Migrations.run({ migrations: first, table: "t_migrations" }))
    const again = await runtime.runPromise(Migrations.run({ migrations: first, table: "t_migrations" }))
    expect(applied).toEqual([
      [1, "one"],
      [2, "two"]
    ])
    expect(again).toEqual([])
  })

  test("status lists applied and pending", async () => {
    const status = await runtime.runPromise(
      Migrations.status({ migrations: [...first, m(3, "three", "SELECT 1")], table: "t_migrations" })
    )
    expect(status.applied.map((x) => x.id)).toEqual([1, 2])
    expect(status.pending.map((x) => x.id)).toEqual([3])
  })

  test("a migration numbered below the highest applied is refused, naming it", async () => {
    const exit = await runtime.runPromiseExit(
      Migrations.run({
        migrations: [m(1, "one", ""), m(2, "two", ""), m(3, "three", "SELECT 1")],
        table: "t_gap"
      }).pipe(
        Effect.zipRight(
          Migrations.run({
            migrations: [m(1, "one", ""), m(2, "late", "SELECT 1"), m(3, "three", "")].filter((x) => x.name !== "two"),
            table: "t_gap"
          })
        )
      )
    )
    expect(Exit.isSuccess(exit)).toBe(true)
    const skipped = await runtime.runPromiseExit(
      Migrations.run({
        migrations: [m(1, "one", ""), m(3, "three", "")],
        table: "t_skip"
      }).pipe(
        Effect.zipRight(
          Migrations.run({
            migrations: [m(1, "one", ""), m(2, "forgotten", "SELECT 1"), m(3, "three", "")],
            table: "t_skip"
          })
        )
      )
    )
    expect(Exit.isFailure(skipped)).toBe(true)
    expect(String(Exit.isFailure(skipped) ? skipped.cause : "")).toContain("2_forgotten")
  })

  test("duplicate or unordered numbering is refused before anything runs", async () => {
    const exit = await runtime.runPromiseExit(
      Migrations.run({ migrations: [m(2, "b", "CREATE TABLE never_made (id int)"), m(1, "a", "")], table: "t_order" })
    )
    expect(Exit.isFailure(exit)).toBe(true)
    const tables = await runtime.runPromise(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ n: string }>`SELECT count(*) AS n FROM pg_tables WHERE tablename = 'never_made'`
      )
    )
    expect(tables[0]!.n).toBe("0")
  })

  test("a failing migration rolls back everything in its run", async () => {
    const exit = await runtime.runPromiseExit(
      Migrations.run({
        migrations: [
          m(1, "ok", "CREATE TABLE fail_ok (id int)"),
          m(2, "bad", "CREATE TABLE fail_bad (id int); SELECT * FROM missing_table;")
        ],
        table: "t_fail"
      })
    )
    expect(Exit.isFailure(exit)).toBe(true)
    const rows = await runtime.runPromise(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ n: string }>`SELECT count(*) AS n FROM pg_tables WHERE tablename IN ('fail_ok', 'fail_bad')`
      )
    )
    expect(rows[0]!.n).toBe("0")
    const status = await runtime.runPromise(Migrations.status({ migrations: [], table: "t_fail" }))
    expect(status.applied).toEqual([])
  })

  test("schema-qualified tables keep a plugin's migrations apart", async () => {
    const applied = await runtime.runPromise(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE SCHEMA IF NOT EXISTS plugin_demo`
        return yield* Migrations.run({
          migrations: [m(1, "init", "CREATE TABLE plugin_demo.things (id int)")],
          table: "plugin_demo.migrations"
        })
      })
    )
    expect(applied).toEqual([[1, "init"]])
  })
})
