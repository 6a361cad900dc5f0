/**
 * `Events.subscribeBatch`: events handed over many at a time, in order, each
 * once; a batch that fails is handed over again one event at a time, so only
 * the bad event is retried and dead-lettered.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { definePlugin, Events, PluginSql } from "@streamspace/kernel"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Layer } from "effect"

const batcher = definePlugin({
  id: "batcher",
  name: "Batcher",
  version: "1.0.0",
  type: "extension",
  category: "example",
  migrations: [
    {
      id: 1,
      name: "got",
      sql: "CREATE TABLE got (seq bigserial, n int NOT NULL, batch int NOT NULL); CREATE TABLE calls (size int NOT NULL)"
    }
  ],
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const sql = yield* PluginSql
      const events = yield* Events
      yield* events.subscribeBatch({ name: "got", types: ["batcher.ev"], maxAttempts: 2, maxBatch: 50 }, (batch) =>
        Effect.gen(function* () {
          const ns = batch.map((e) => (e.payload as { n: number }).n)
          yield* sql`INSERT INTO calls (size) VALUES (${batch.length})`
          // Event 13 is poison: any batch holding it fails before writing anything.
          if (ns.includes(13)) return yield* Effect.fail(`cannot handle event 13`)
          yield* sql`INSERT INTO got ${sql.insert(ns.map((n) => ({ n, batch: batch.length })))}`
        })
      )
    })
  )
})

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [batcher], config: { plugins: { enabled: ["batcher"] } } })
  admin = await p.login("admin", p.adminPassword)
  // Disabled while publishing, so that the backlog is handed over in full batches.
  await p.http("POST", "/api/admin/plugins/batcher/disable", { token: admin })
})
afterAll(() => p.close())

test(`batches in order, each event once; a failing batch falls back to one at a time (${TestPlatform.engine()})`, async () => {
  for (let n = 1; n <= 120; n++) await p.emit("batcher.ev", { n })
  expect((await p.http("POST", "/api/admin/plugins/batcher/enable", { token: admin })).status).toBe(200)
  const letters = await p.eventually(async () => {
    const r = await p.http<{ items: ReadonlyArray<{ eventType: string; attempts: number; error: string }> }>(
      "GET",
      "/api/admin/plugins/batcher/dead-letters",
      { token: admin }
    )
    return r.body.items.length > 0 ? r.body.items : undefined
  }, 20_000)
  expect(letters).toEqual([
    expect.objectContaining({
      eventType: "batcher.ev",
      attempts: 2,
      error: expect.stringContaining("cannot handle event 13")
    })
  ])
  await p.awaitDelivered()
  const got = await p.query<{ n: number; batch: number }>("SELECT n, batch FROM plugin_batcher.got ORDER BY n")
  expect(got.map((r) => r.n)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1).filter((n) => n !== 13))
  // Batch 1–50 failed: 1–12 went singly until 13 failed (retried later). The retry's batch 13–62
  // failed too: 13 was dead-lettered on its own, 14–62 went singly, and 63–120 in batches again.
  expect(got.filter((r) => r.n <= 62).every((r) => r.batch === 1)).toBe(true)
  expect(got.filter((r) => r.n > 62).every((r) => r.batch > 1)).toBe(true)
  const sizes = (await p.query<{ size: number }>("SELECT size FROM plugin_batcher.calls")).map((r) => r.size)
  expect(Math.max(...sizes)).toBe(50)
}, 30_000)

test("events are handed over in transaction order as numbers, not as text (xid 9 before 10, 99 before 100)", async () => {
  await p.http("POST", "/api/admin/plugins/batcher/disable", { token: admin })
  await p.query("DELETE FROM plugin_batcher.got")
  // Transaction ids are assigned by PostgreSQL; these rows pose as events of old transactions whose ids cross digit boundaries.
  for (const [tx, n] of [
    [9, 1001],
    [10, 1002],
    [11, 1003],
    [99, 1004],
    [100, 1005],
    [1000, 1006]
  ] as const) {
    await p.query(
      `INSERT INTO events (id, type, source, payload, tx_id) VALUES (gen_random_uuid(), 'batcher.ev', 'test', '{"n": ${n}}', '${tx}')`
    )
  }
  await p.query("UPDATE plugin_subscriptions SET tx_id = '0', position = 0 WHERE plugin_id = 'batcher'")
  await p.http("POST", "/api/admin/plugins/batcher/enable", { token: admin })
  const got = await p.eventually(async () => {
    const rows = await p.query<{ n: number }>("SELECT n FROM plugin_batcher.got WHERE n > 1000 ORDER BY seq")
    return rows.length >= 6 ? rows : undefined
  })
  expect(got.map((r) => r.n)).toEqual([1001, 1002, 1003, 1004, 1005, 1006])
})
