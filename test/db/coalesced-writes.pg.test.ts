/**
 * `PostgresClient` hands node-postgres's socket one write per statement
 * (`CoalescedWrites`), not one per protocol message. Counted on a real
 * connection (a pool of one, so every statement uses the socket watched
 * here); stock node-postgres, counted the same way, is the control that shows
 * the count sees every message.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import * as Reactivity from "@effect/experimental/Reactivity"
import type { SqlClient } from "@effect/sql"
import { PostgresClient, TestDatabase } from "@streamspace/db"
import { ServerDatabase } from "@streamspace/testing"
import { Chunk, Effect, Exit, Redacted, Scope, Stream } from "effect"

let scope: Scope.CloseableScope
let url: string

beforeAll(async () => {
  scope = Effect.runSync(Scope.make())
  url = await Effect.runPromise(Scope.extend(TestDatabase.scopedDatabase(ServerDatabase.serverUrl()), scope))
})
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

interface Watched {
  readonly sql: SqlClient.SqlClient
  /** Socket writes while `effect` runs, and its result. */
  readonly writes: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<{ writes: number; result: A }, E>
}

/** A client with one pooled connection whose socket writes are counted. */
const watched = (coalesceWrites?: boolean) =>
  Effect.gen(function* () {
    const { client: sql, pool } = yield* PostgresClient.make({
      url: Redacted.make(url),
      maxConnections: 1,
      ...(coalesceWrites === undefined ? {} : { coalesceWrites })
    })
    const connection = yield* Effect.promise(() => pool.connect())
    const socket = (
      connection as unknown as { connection: { stream: { write: (...args: Array<unknown>) => boolean } } }
    ).connection.stream
    connection.release()
    let count = 0
    const write = socket.write
    socket.write = (...args) => {
      count++
      return write.apply(socket, args)
    }
    const writes: Watched["writes"] = (effect) =>
      Effect.suspend(() => {
        const before = count
        return Effect.map(effect, (result) => ({ writes: count - before, result }))
      })
    return { sql, writes } satisfies Watched
  }).pipe(Effect.provide(Reactivity.layer))

const run = <A, E>(coalesceWrites: boolean | undefined, f: (w: Watched) => Effect.Effect<A, E>) =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(watched(coalesceWrites), f)))

describe("one socket write per statement (PostgreSQL)", () => {
  test("a prepared statement's first run (Parse…Sync) and its reruns (Bind…Sync) each take one write", async () => {
    const result = await run(undefined, ({ sql, writes }) =>
      Effect.all([
        writes(sql<{ v: number }>`SELECT ${1}::int AS v`),
        writes(sql<{ v: number }>`SELECT ${2}::int AS v`),
        writes(sql<{ n: number; t: string }>`SELECT ${3}::int AS n, ${"three"}::text AS t`)
      ])
    )
    expect(result).toEqual([
      { writes: 1, result: [{ v: 1 }] },
      { writes: 1, result: [{ v: 2 }] },
      { writes: 1, result: [{ n: 3, t: "three" }] }
    ])
  })

  test("a transaction of begin, two statements and commit takes four writes", async () => {
    const result = await run(undefined, ({ sql, writes }) =>
      Effect.gen(function* () {
        yield* sql`CREATE TABLE tx_rows (n int, label text)`
        const tx = yield* writes(
          sql.withTransaction(
            Effect.zipRight(
              sql`INSERT INTO tx_rows (n, label) VALUES (${1}, ${"one"})`,
              sql<{ label: string }>`SELECT label FROM tx_rows WHERE n = ${1}`
            )
          )
        )
        return tx
      })
    )
    expect(result).toEqual({ writes: 4, result: [{ label: "one" }] })
  })

  test("a cursor's pages (Execute and Flush, past node-postgres's own write path) still stream every row", async () => {
    const rows = await run(undefined, ({ sql }) =>
      sql<{ n: number }>`SELECT generate_series(1, ${600}::int) AS n`.stream.pipe(
        Stream.runCollect,
        Effect.map(Chunk.toReadonlyArray)
      )
    )
    expect(rows).toHaveLength(600)
    expect(rows[599]).toEqual({ n: 600 })
  })

  // Inside a transaction, so that the statements share one connection (the pool drops a connection whose
  // statement failed, and the next statement outside a transaction would run on a new, unwatched one).
  test("a parameter node-postgres cannot encode fails its statement only; the connection carries on", async () => {
    const unencodable = {
      toPostgres: () => {
        throw new Error("cannot encode")
      }
    }
    const result = await run(undefined, ({ sql, writes }) =>
      sql.withTransaction(
        Effect.gen(function* () {
          const failed = yield* Effect.exit(sql`SELECT ${unencodable}::text AS v`)
          const after = yield* writes(sql<{ v: number }>`SELECT ${7}::int AS v`)
          return { failed: Exit.isFailure(failed), after }
        })
      )
    )
    expect(result).toEqual({ failed: true, after: { writes: 1, result: [{ v: 7 }] } })
  })

  test("control: stock node-postgres writes each message of a statement separately", async () => {
    const result = await run(false, ({ sql, writes }) =>
      Effect.all([writes(sql`SELECT ${1}::int AS v`), writes(sql`SELECT ${2}::int AS v`)])
    )
    // Parse, Bind, Describe, Execute, Sync; then the same without Parse.
    expect(result.map((r) => r.writes)).toEqual([5, 4])
  })
})
