/**
 * A role client (how plugins get least-privilege SQL) cannot touch tables it
 * has no rights on, and works in its own schema, on both engines.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { Database, TestDatabase } from "@streamspace/db"
import { Cause, Effect, Exit, ManagedRuntime, Option } from "effect"

const engine = process.env["TEST_DATABASE_URL"] ? "postgres" : "pglite"
const role = `ss_role_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`
const password = crypto.randomUUID()
let runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient | Database.DatabaseInfo, unknown>

beforeAll(async () => {
  runtime = ManagedRuntime.make(TestDatabase.layer({ key: "empty" }))
  await runtime.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE core_secret (v text)`
      yield* sql`INSERT INTO core_secret VALUES ('top')`
      yield* Database.createRole(
        { role, password, searchPath: `${role}_schema` },
        (yield* Database.DatabaseInfo).dialect
      )
    })
  )
})
afterAll(async () => {
  await runtime.runPromise(Database.dropRole({ role, searchPath: `${role}_schema` }))
  await runtime.dispose()
})

/** The database's own message (PostgreSQL's driver keeps it in the SqlError's cause). */
const dbMessage = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return ""
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return Cause.pretty(exit.cause)
  const error = failure.value as { message?: string; cause?: unknown }
  return `${error.message ?? ""} ${error.cause instanceof Error ? error.cause.message : String(error.cause ?? "")}`
}

const asRole = <A, E>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>) =>
  runtime.runPromiseExit(
    Effect.scoped(
      Effect.gen(function* () {
        const sql = yield* Database.roleClient({ role, password, searchPath: `${role}_schema` })
        return yield* f(sql)
      })
    )
  )

describe(`role clients (${engine})`, () => {
  test("work in their own schema", async () => {
    const exit = await asRole((sql) =>
      Effect.gen(function* () {
        yield* sql`CREATE TABLE notes (id int PRIMARY KEY, body text)`
        yield* sql`INSERT INTO notes VALUES (1, 'hi')`
        return yield* sql<{ body: string; who: string }>`SELECT body, current_user AS who FROM notes`
      })
    )
    expect(Exit.isSuccess(exit) && exit.value).toEqual([{ body: "hi", who: role }])
  })

  test("cannot read or write core tables", async () => {
    const read = await asRole((sql) => sql`SELECT * FROM public.core_secret`)
    const write = await asRole((sql) => sql`INSERT INTO public.core_secret VALUES ('x')`)
    for (const exit of [read, write]) {
      expect(Exit.isFailure(exit)).toBe(true)
      expect(dbMessage(exit)).toContain("permission denied")
    }
  })

  test("statements inside a role transaction keep the role", async () => {
    const exit = await asRole((sql) =>
      sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`INSERT INTO notes VALUES (2, 'tx')`
          return yield* sql<{ who: string }>`SELECT current_user AS who`
        })
      )
    )
    expect(Exit.isSuccess(exit) && exit.value).toEqual([{ who: role }])
  })

  test("a statement with parameters runs as the role, and neither it nor its failure leaves the role behind", async () => {
    const exit = await runtime.runPromiseExit(
      Effect.scoped(
        Effect.gen(function* () {
          const core = yield* SqlClient.SqlClient
          const plugin = yield* Database.roleClient({ role, password, searchPath: `${role}_schema` })
          const mine = yield* plugin<{ who: string; path: string; body: string }>`
        SELECT current_user AS who, current_setting(${"search_path"}) AS path, (SELECT body FROM notes WHERE id = ${1}) AS body`
          const denied = yield* Effect.exit(plugin`SELECT v FROM public.core_secret WHERE v = ${"top"}`)
          const duplicate = yield* Effect.exit(plugin`INSERT INTO notes VALUES (${1}, ${"again"})`)
          const after = yield* core<{
            who: string
            n: number
          }>`SELECT current_user AS who, (SELECT count(*) FROM core_secret WHERE v = ${"top"})::int AS n`
          return { mine, denied: dbMessage(denied), duplicate: dbMessage(duplicate), after }
        })
      )
    )
    if (Exit.isFailure(exit)) throw new Error(Cause.pretty(exit.cause))
    expect(exit.value.mine).toEqual([{ who: role, path: `${role}_schema`, body: "hi" }])
    expect(exit.value.denied).toContain("permission denied")
    expect(exit.value.duplicate).toContain("duplicate key")
    expect(exit.value.after).toHaveLength(1)
    expect(exit.value.after[0]!.who).not.toBe(role)
    expect(exit.value.after[0]!.n).toBe(1)
  })

  if (engine === "postgres") {
    test("cannot RESET ROLE or SET ROLE its way out (it logged in as the role)", async () => {
      const reset = await asRole((sql) =>
        Effect.gen(function* () {
          yield* sql`RESET ROLE`
          return yield* sql`SELECT * FROM public.core_secret`
        })
      )
      const setRole = await asRole((sql) => sql`SET ROLE postgres`)
      expect(dbMessage(reset)).toContain("permission denied")
      expect(dbMessage(setRole)).toContain("permission denied")
    })
  }
})
