/**
 * One SQL conformance suite for both engines: whatever the platform does
 * through `SqlClient` must behave the same on PGlite and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { TestDatabase } from "@streamspace/db"
import { Chunk, Effect, Exit, Fiber, ManagedRuntime, Stream } from "effect"

const engine = process.env["TEST_DATABASE_URL"] ? "postgres" : "pglite"
let runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, unknown>
const run = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) => runtime.runPromise(effect)
const runExit = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) => runtime.runPromiseExit(effect)

beforeAll(async () => {
  runtime = ManagedRuntime.make(TestDatabase.layer({ key: "empty" }))
  await run(
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) =>
        sql`CREATE TABLE items (
      id serial PRIMARY KEY,
      name text NOT NULL UNIQUE,
      qty int NOT NULL DEFAULT 0,
      big bigint,
      tags text[] NOT NULL DEFAULT '{}',
      doc jsonb,
      at timestamptz,
      flag boolean NOT NULL DEFAULT false
    )`
    )
  )
})
afterAll(() => runtime.dispose())

const sqlOf = SqlClient.SqlClient

describe(`SqlClient conformance (${engine})`, () => {
  test("parameters of many types round-trip", async () => {
    const at = new Date("2026-03-04T05:06:07.089Z")
    const rows = await run(
      Effect.flatMap(
        sqlOf,
        (sql) =>
          sql<{ i: number; t: string; b: boolean; n: null; d: Date; f: number }>`
        SELECT ${42}::int AS i, ${"hé 'quoted'"}::text AS t, ${true}::boolean AS b, ${null}::text AS n, ${at}::timestamptz AS d, ${1.5}::float8 AS f`
      )
    )
    expect(rows[0]).toEqual({ i: 42, t: "hé 'quoted'", b: true, n: null, d: at, f: 1.5 })
  })

  test("insert, update and in helpers", async () => {
    const result = await run(
      Effect.gen(function* () {
        const sql = yield* sqlOf
        yield* sql`INSERT INTO items ${sql.insert([
          { name: "a", qty: 1 },
          { name: "b", qty: 2 },
          { name: "c", qty: 3 }
        ])}`
        yield* sql`UPDATE items SET ${sql.update({ qty: 20 })} WHERE name = ${"b"}`
        return yield* sql<{
          name: string
          qty: number
        }>`SELECT name, qty FROM items WHERE name IN ${sql.in(["a", "b"])} ORDER BY name`
      })
    )
    expect(result).toEqual([
      { name: "a", qty: 1 },
      { name: "b", qty: 20 }
    ])
  })

  test("json and jsonb round-trip as objects", async () => {
    const doc = { nested: { list: [1, "two", null], ok: true }, unicode: "✓" }
    const rows = await run(
      Effect.gen(function* () {
        const sql = yield* sqlOf
        yield* sql`INSERT INTO items ${sql.insert({ name: "json", doc: JSON.stringify(doc) })}`
        return yield* sql<{
          doc: unknown
          j: unknown
        }>`SELECT doc, ${JSON.stringify([1, 2])}::json AS j FROM items WHERE name = 'json'`
      })
    )
    expect(rows[0]).toEqual({ doc, j: [1, 2] })
  })

  test("arrays in and out", async () => {
    const rows = await run(
      Effect.gen(function* () {
        const sql = yield* sqlOf
        yield* sql`INSERT INTO items ${sql.insert({ name: "arr", tags: ["x", "y z", "ü"] })}`
        return yield* sql<{
          tags: ReadonlyArray<string>
          n: ReadonlyArray<number>
        }>`SELECT tags, ARRAY[1,2,3]::int[] AS n FROM items WHERE name = 'arr'`
      })
    )
    expect(rows[0]).toEqual({ tags: ["x", "y z", "ü"], n: [1, 2, 3] })
  })

  test("timestamptz comes back as Date", async () => {
    const at = new Date("2025-12-31T23:59:59.999Z")
    const rows = await run(
      Effect.gen(function* () {
        const sql = yield* sqlOf
        yield* sql`INSERT INTO items ${sql.insert({ name: "time", at })}`
        return yield* sql<{ at: Date }>`SELECT at FROM items WHERE name = 'time'`
      })
    )
    expect(rows[0]!.at).toBeInstanceOf(Date)
    expect(rows[0]!.at.getTime()).toBe(at.getTime())
  })

  test("int8 and count(*) are strings on both engines", async () => {
    const rows = await run(
      Effect.gen(function* () {
        const sql = yield* sqlOf
        yield* sql`INSERT INTO items ${sql.insert({ name: "big", big: "9007199254740993" })}`
        return yield* sql<{
          big: string
          n: string
        }>`SELECT big, (SELECT count(*) FROM items) AS n FROM items WHERE name = 'big'`
      })
    )
    expect(rows[0]!.big).toBe("9007199254740993")
    expect(typeof rows[0]!.n).toBe("string")
  })

  test("a transaction commits, and a failure rolls back", async () => {
    const failed = await runExit(
      Effect.gen(function* () {
        const sql = yield* sqlOf
        yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`INSERT INTO items ${sql.insert({ name: "tx-rolled-back" })}`
            return yield* Effect.fail("boom")
          })
        )
      })
    )
    expect(Exit.isFailure(failed)).toBe(true)
    const names = await run(
      Effect.gen(function* () {
        const sql = yield* sqlOf
        yield* sql.withTransaction(sql`INSERT INTO items ${sql.insert({ name: "tx-committed" })}`)
        return yield* sql<{ name: string }>`SELECT name FROM items WHERE name LIKE 'tx-%' ORDER BY name`
      })
    )
    expect(names.map((r) => r.name)).toEqual(["tx-committed"])
  })

  test("nested savepoints: an inner rollback keeps the outer work", async () => {
    const names = await run(
      Effect.gen(function* () {
        const sql = yield* sqlOf
        yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`INSERT INTO items ${sql.insert({ name: "sp-outer" })}`
            yield* sql
              .withTransaction(
                Effect.gen(function* () {
                  yield* sql`INSERT INTO items ${sql.insert({ name: "sp-inner" })}`
                  return yield* Effect.fail("inner")
                })
              )
              .pipe(Effect.ignore)
            yield* sql.withTransaction(sql`INSERT INTO items ${sql.insert({ name: "sp-inner-kept" })}`)
          })
        )
        return yield* sql<{ name: string }>`SELECT name FROM items WHERE name LIKE 'sp-%' ORDER BY name`
      })
    )
    expect(names.map((r) => r.name)).toEqual(["sp-inner-kept", "sp-outer"])
  })

  test("a reader outside a transaction never sees another fiber's uncommitted row", async () => {
    const seen = await run(
      Effect.gen(function* () {
        const sql = yield* sqlOf
        const inserted = yield* Effect.makeLatch(false)
        const release = yield* Effect.makeLatch(false)
        const writer = yield* Effect.fork(
          sql.withTransaction(
            Effect.gen(function* () {
              yield* sql`INSERT INTO items ${sql.insert({ name: "iso-row" })}`
              yield* inserted.open
              yield* release.await
            })
          )
        )
        yield* inserted.await
        const reader = yield* Effect.fork(sql<{ n: string }>`SELECT count(*) AS n FROM items WHERE name = 'iso-row'`)
        yield* Effect.sleep("50 millis")
        yield* release.open
        yield* Fiber.join(writer)
        const count = yield* Fiber.join(reader)
        return count[0]!.n
      })
    )
    // PGlite's reader waits for the commit (one connection); PostgreSQL's reads the snapshot before it.
    expect(seen).toBe(engine === "pglite" ? "1" : "0")
    const after = await run(
      Effect.flatMap(sqlOf, (sql) => sql<{ n: string }>`SELECT count(*) AS n FROM items WHERE name = 'iso-row'`)
    )
    expect(after[0]!.n).toBe("1")
  })

  test("a rolled-back row is never visible to a concurrent reader", async () => {
    const observed = await run(
      Effect.gen(function* () {
        const sql = yield* sqlOf
        const inserted = yield* Effect.makeLatch(false)
        const release = yield* Effect.makeLatch(false)
        const writer = yield* Effect.fork(
          sql.withTransaction(
            Effect.gen(function* () {
              yield* sql`INSERT INTO items ${sql.insert({ name: "ghost-row" })}`
              yield* inserted.open
              yield* release.await
              return yield* Effect.fail("abort")
            })
          )
        )
        yield* inserted.await
        const reader = yield* Effect.fork(sql<{ n: string }>`SELECT count(*) AS n FROM items WHERE name = 'ghost-row'`)
        yield* Effect.sleep("30 millis")
        yield* release.open
        yield* Fiber.await(writer)
        return (yield* Fiber.join(reader))[0]!.n
      })
    )
    expect(observed).toBe("0")
  })

  test("many statements and concurrent fibers inside one transaction do not deadlock", async () => {
    const total = await run(
      Effect.gen(function* () {
        const sql = yield* sqlOf
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* Effect.forEach(
              Array.from({ length: 20 }, (_, i) => i),
              (i) => sql`INSERT INTO items ${sql.insert({ name: `many-${i}`, qty: i })}`,
              { concurrency: 5 }
            )
            const sums = yield* Effect.all(
              [
                sql<{ s: string }>`SELECT sum(qty)::bigint AS s FROM items WHERE name LIKE 'many-%'`,
                sql<{ s: string }>`SELECT count(*) AS s FROM items WHERE name LIKE 'many-%'`
              ],
              { concurrency: "unbounded" }
            )
            return sums.map((r) => r[0]!.s)
          })
        )
      }).pipe(Effect.timeout("10 seconds"))
    )
    expect(total).toEqual(["190", "20"])
  })

  test("streaming returns every row", async () => {
    const rows = await run(
      Effect.flatMap(sqlOf, (sql) =>
        sql<{ n: number }>`SELECT generate_series(1, 500) AS n`.stream.pipe(
          Stream.runCollect,
          Effect.map(Chunk.toReadonlyArray)
        )
      )
    )
    expect(rows).toHaveLength(500)
    expect(rows[499]).toEqual({ n: 500 })
  })

  test("multi-statement SQL without parameters runs every statement", async () => {
    const rows = await run(
      Effect.gen(function* () {
        const sql = yield* sqlOf
        yield* sql.unsafe(
          `CREATE TABLE multi_a (id int); CREATE TABLE multi_b (id int); INSERT INTO multi_a VALUES (1), (2);`
        )
        return yield* sql<{ n: string }>`SELECT count(*) AS n FROM multi_a`
      })
    )
    expect(rows[0]!.n).toBe("2")
  })

  test("errors become SqlError and the connection stays usable", async () => {
    const exit = await runExit(Effect.flatMap(sqlOf, (sql) => sql`SELECT * FROM no_such_table`))
    expect(Exit.isFailure(exit)).toBe(true)
    if (Exit.isFailure(exit)) expect(String(exit.cause)).toContain("SqlError")
    const dup = await runExit(Effect.flatMap(sqlOf, (sql) => sql`INSERT INTO items ${sql.insert({ name: "a" })}`))
    expect(Exit.isFailure(dup)).toBe(true)
    const ok = await run(Effect.flatMap(sqlOf, (sql) => sql<{ one: number }>`SELECT 1 AS one`))
    expect(ok[0]!.one).toBe(1)
  })

  test("values mode returns arrays", async () => {
    const rows = await run(Effect.flatMap(sqlOf, (sql) => sql`SELECT 1 AS a, 'x' AS b`.values))
    expect(rows).toEqual([[1, "x"]])
  })

  test("a statement with parameters is prepared once and then only executed", async () => {
    const runs = await run(
      Effect.flatMap(sqlOf, (sql) =>
        sql.withTransaction(
          Effect.gen(function* () {
            for (let i = 0; i < 5; i++)
              expect((yield* sql<{ prepared_once: number }>`SELECT ${i}::int AS prepared_once`)[0]!.prepared_once).toBe(
                i
              )
            return yield* sql<{
              runs: number
            }>`SELECT (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements WHERE statement = ${"SELECT $1::int AS prepared_once"}`
          })
        )
      )
    )
    expect(runs).toEqual([{ runs: 5 }])
  })

  test("a prepared statement follows its table when the table changes shape", async () => {
    const rows = await run(
      Effect.flatMap(sqlOf, (sql) =>
        Effect.gen(function* () {
          yield* sql`CREATE TABLE shape (id int, a text)`
          yield* sql`INSERT INTO shape VALUES (1, 'one')`
          for (let i = 0; i < 3; i++) yield* sql`SELECT * FROM shape WHERE id = ${1}`
          yield* sql`ALTER TABLE shape ADD COLUMN b text NOT NULL DEFAULT 'new'`
          return yield* sql`SELECT * FROM shape WHERE id = ${1}`
        })
      )
    )
    expect(rows).toEqual([{ id: 1, a: "one", b: "new" }])
  })

  test("statements still run after DEALLOCATE ALL, and after a rolled-back transaction prepared them", async () => {
    const rows = await run(
      Effect.flatMap(sqlOf, (sql) =>
        Effect.gen(function* () {
          yield* sql
            .withTransaction(Effect.zipRight(sql`SELECT ${1}::int AS survivor`, Effect.fail("roll back")))
            .pipe(Effect.ignore)
          const afterRollback = yield* sql<{ survivor: number }>`SELECT ${2}::int AS survivor`
          yield* sql`SELECT ${3}::int AS survivor`
          yield* sql.unsafe("DEALLOCATE ALL")
          const afterDeallocate = yield* sql<{ survivor: number }>`SELECT ${4}::int AS survivor`
          return [afterRollback[0]!.survivor, afterDeallocate[0]!.survivor]
        })
      )
    )
    expect(rows).toEqual([2, 4])
  })

  test("bulk statements with more parameters than are worth preparing run too", async () => {
    const count = await run(
      Effect.flatMap(sqlOf, (sql) =>
        Effect.gen(function* () {
          yield* sql`CREATE TABLE bulk (n int, label text)`
          yield* sql`INSERT INTO bulk ${sql.insert(Array.from({ length: 100 }, (_, n) => ({ n, label: `row ${n}` })))}`
          return yield* sql<{
            n: string
            total: string
          }>`SELECT count(*) AS n, sum(n) AS total FROM bulk WHERE n IN ${sql.in(Array.from({ length: 100 }, (_, n) => n))}`
        })
      )
    )
    expect(count).toEqual([{ n: "100", total: "4950" }])
  })

  test("the client hands statements a shared connection without a Scope per statement (patched @effect/sql)", async () => {
    const marked = await run(
      Effect.map(sqlOf, (sql) =>
        Reflect.get(
          Reflect.get(sql`SELECT 1`, "acquirer") as object,
          Symbol.for("@effect/sql/SqlConnection/ScopeFreeAcquirer")
        )
      )
    )
    expect(marked).toBe(true)
  })

  if (engine === "postgres") {
    test("a connection the server kills inside a transaction fails that transaction only; the client carries on", async () => {
      const result = await run(
        Effect.flatMap(sqlOf, (sql) =>
          Effect.gen(function* () {
            const killed = yield* Effect.exit(
              sql.withTransaction(
                Effect.gen(function* () {
                  yield* sql`INSERT INTO items ${sql.insert({ name: "lost with its connection" })}`
                  // Another session kills this one, as a server restart or an operator would.
                  const pid = (yield* sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`)[0]!.pid
                  yield* Effect.scoped(
                    Effect.flatMap(sql.reserve, (other) =>
                      other.execute("SELECT pg_terminate_backend($1)", [pid], undefined)
                    )
                  )
                  yield* Effect.sleep("100 millis")
                  yield* sql`SELECT 1`
                })
              )
            )
            yield* Effect.sleep("100 millis")
            const lost = yield* sql<{
              n: string
            }>`SELECT count(*) AS n FROM items WHERE name = ${"lost with its connection"}`
            const parallel = yield* Effect.all(
              Array.from({ length: 12 }, (_, i) => sql<{ v: number }>`SELECT ${i}::int AS v`),
              { concurrency: "unbounded" }
            )
            return { killed: Exit.isFailure(killed), lost, parallel: parallel.map(([row]) => row!.v) }
          })
        )
      )
      expect(result).toEqual({ killed: true, lost: [{ n: "0" }], parallel: Array.from({ length: 12 }, (_, i) => i) })
    })
  }
})
