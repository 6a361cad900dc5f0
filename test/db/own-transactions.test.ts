/**
 * Each SqlClient has its own transactions: a role client's statements never
 * join the core client's open transaction, nor the reverse. On PostgreSQL
 * they run on their own connections (independent transactions); on PGlite,
 * one connection, they run inside the enclosing transaction in a savepoint,
 * switched to their own role and back (they commit with it; their own failure
 * rolls back only their savepoint).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { Database, TestDatabase } from "@streamspace/db"
import { Effect, ManagedRuntime } from "effect"

const engine = process.env["TEST_DATABASE_URL"] ? "postgres" : "pglite"
const role = `ss_tx_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`
const session: Database.RoleSession = { role, password: crypto.randomUUID(), searchPath: `${role}_schema` }
let runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient | Database.DatabaseInfo, unknown>

beforeAll(async () => {
  runtime = ManagedRuntime.make(TestDatabase.layer({ key: "empty" }))
  await runtime.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE core_rows (v text)`
      yield* Database.createRole(session, (yield* Database.DatabaseInfo).dialect)
      yield* Effect.scoped(
        Effect.flatMap(Database.roleClient(session), (plugin) => plugin`CREATE TABLE plugin_rows (v text)`)
      )
    })
  )
})
afterAll(async () => {
  await runtime.runPromise(Database.dropRole(session))
  await runtime.dispose()
})

/** Runs `f` with the core client and a role client side by side. */
const both = <A, E>(f: (core: SqlClient.SqlClient, plugin: SqlClient.SqlClient) => Effect.Effect<A, E>) =>
  runtime.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const core = yield* SqlClient.SqlClient
        const plugin = yield* Database.roleClient(session)
        return yield* f(core, plugin)
      })
    )
  )

const who = (sql: SqlClient.SqlClient) => Effect.map(sql<{ u: string }>`SELECT current_user::text AS u`, (r) => r[0]!.u)
const count = (sql: SqlClient.SqlClient, table: string) =>
  Effect.map(sql.unsafe<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`), (r) => r[0]!.n)

describe(`each client's transactions are its own (${engine})`, () => {
  test("the default path: a role client's statement inside the core's transaction runs as the role", async () => {
    const [inside, outside] = await both((core, plugin) =>
      Effect.zip(
        core.withTransaction(Effect.zipRight(core`INSERT INTO core_rows VALUES ('a')`, who(plugin))),
        who(core)
      )
    )
    expect(inside).toBe(role)
    expect(outside).not.toBe(role)
  })

  test("the core's statement inside a role client's transaction runs as the core, and writes core tables", async () => {
    const result = await both((core, plugin) =>
      plugin.withTransaction(
        Effect.gen(function* () {
          yield* plugin`INSERT INTO plugin_rows VALUES ('p')`
          yield* core`INSERT INTO core_rows VALUES ('from inside the plugin transaction')`
          return { core: yield* who(core), plugin: yield* who(plugin) }
        })
      )
    )
    expect(result.plugin).toBe(role)
    expect(result.core).not.toBe(role)
  })

  test("a role client's transaction inside the core's: its failure does not abort the core's", async () => {
    const before = await both((core) => count(core, "core_rows"))
    const after = await both((core, plugin) =>
      core.withTransaction(
        Effect.gen(function* () {
          const failed = yield* plugin
            .withTransaction(
              Effect.zipRight(plugin`INSERT INTO plugin_rows VALUES ('doomed')`, plugin`SELECT * FROM public.core_rows`)
            )
            .pipe(
              Effect.flip,
              Effect.map((e) => String(e.cause ?? e.message))
            )
          expect(failed).toContain("permission denied")
          yield* core`INSERT INTO core_rows VALUES ('kept')`
          return yield* count(core, "core_rows")
        })
      )
    )
    expect(Number(after)).toBe(Number(before) + 1)
    expect(
      await both((_, plugin) =>
        Effect.map(
          plugin<{ n: string }>`SELECT count(*)::text AS n FROM plugin_rows WHERE v = 'doomed'`,
          (r) => r[0]!.n
        )
      )
    ).toBe("0")
  })

  test("a role client's committed write inside a rolled-back core transaction: independent on PostgreSQL, rolled back with it on PGlite", async () => {
    const marker = `m${Date.now()}`
    await both((core, plugin) =>
      core
        .withTransaction(Effect.zipRight(plugin`INSERT INTO plugin_rows VALUES (${marker})`, Effect.fail("roll back")))
        .pipe(Effect.ignore)
    )
    const kept = await both((_, plugin) =>
      Effect.map(plugin<{ n: string }>`SELECT count(*)::text AS n FROM plugin_rows WHERE v = ${marker}`, (r) => r[0]!.n)
    )
    expect(kept).toBe(engine === "postgres" ? "1" : "0")
  })

  test("the core's transaction does not see a role client's open transaction (no joining by accident)", async () => {
    const seen = await both((core, plugin) =>
      plugin.withTransaction(
        Effect.zipRight(plugin`INSERT INTO plugin_rows VALUES ('x')`, core.withTransaction(who(core)))
      )
    )
    expect(seen).not.toBe(role)
  })
})
