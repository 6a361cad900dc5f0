/**
 * Two server processes on one PostgreSQL database, both running billing:
 * session events are metered once, and the previous month's invoices are
 * generated exactly once per user however many times both replicas run the
 * generation job and the generate route at the same moment, with numbers
 * 1…n without gaps.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { ServerDatabase, ServerProcess } from "@streamspace/testing"
import { SQL } from "bun"
import * as Path from "node:path"

const database = await ServerDatabase.create()
let db: SQL
const env = {
  DATABASE_URL: database.url,
  STREAMSPACE_ADMIN_PASSWORD: "billing-root-password",
  STREAMSPACE_PLUGINS_DIR: Path.join(import.meta.dir, "fixtures/plugins"),
  STREAMSPACE_PLUGINS: "billing",
  STREAMSPACE_RATE_LIMIT: "false",
  STREAMSPACE_LOG_LEVEL: "warning"
}
let a: ServerProcess.ServerProcess
let b: ServerProcess.ServerProcess

beforeAll(async () => {
  a = await ServerProcess.start(env)
  b = await ServerProcess.start(env)
  db = new SQL(database.url)
}, 120_000)

afterAll(async () => {
  await a?.stop().catch(() => 0)
  await b?.stop().catch(() => 0)
  await db?.close()
  await database.drop()
}, 60_000)

const USERS = 6

test("each period's invoices are generated exactly once across two replicas", async () => {
  const now = new Date()
  const lastMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 3, 10)
  // Sessions of last month, as the core would describe them with sizes and instants (see the docs).
  const template = crypto.randomUUID()
  for (let i = 0; i < USERS; i++) {
    const base = { sessionId: crypto.randomUUID(), userId: `user-${i}`, templateId: template, cpu: 1000, memory: 1024 }
    const at = (h: number) => new Date(lastMonth + h * 3_600_000).toISOString()
    for (const [type, state, h] of [
      ["session.created", "pending", 0],
      ["session.started", "running", 0],
      ["session.deleted", "terminated", 2]
    ] as const)
      await db`INSERT INTO events (id, type, source, payload) VALUES (${crypto.randomUUID()}, ${type}, 'test', ${{ ...base, state, at: at(h) }})`
  }
  const deadline = Date.now() + 30_000
  for (;;) {
    const [row] = await db`SELECT count(*)::int AS n FROM plugin_billing.run_intervals WHERE ended_at IS NOT NULL`
    if ((row as { n: number }).n === USERS) break
    if (Date.now() > deadline) throw new Error("events were not metered")
    await Bun.sleep(100)
  }
  const [transitions] = await db`SELECT count(*)::int AS n FROM plugin_billing.meter_transitions`
  expect((transitions as { n: number }).n).toBe(USERS * 3)

  const tokens = await Promise.all([a, b].map((s) => ServerProcess.login(s.url, env.STREAMSPACE_ADMIN_PASSWORD)))
  const call = (i: number, path: string, body?: unknown) =>
    fetch(`${[a, b][i % 2]!.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens[i % 2]}` },
      body: JSON.stringify(body ?? {})
    }).then((r) => r.status)
  const statuses = await Promise.all(
    Array.from({ length: 16 }, (_, i) =>
      i % 4 < 2
        ? call(i, "/api/admin/plugins/billing/jobs/generate-invoices/run")
        : call(i, "/api/plugins/billing/invoices/generate")
    )
  )
  for (const s of statuses) expect([200, 409]).toContain(s)

  const invoices = (await db`
    SELECT user_id, number, number_seq, total_minor::int AS total, status FROM plugin_billing.invoices ORDER BY number_seq`) as Array<{
    user_id: string
    number: string
    number_seq: number
    total: number
    status: string
  }>
  expect(invoices).toHaveLength(USERS)
  expect(new Set(invoices.map((i) => i.user_id)).size).toBe(USERS)
  expect(invoices.map((i) => i.number_seq)).toEqual(Array.from({ length: USERS }, (_, i) => i + 1))
  // 1 core × 2 h × 0.01 + 1 GiB × 2 h × 0.005 = 0.02 + 0.01
  expect(invoices.every((i) => i.total === 3 && i.status === "open")).toBe(true)
  const [created] = await db`SELECT count(*)::int AS n FROM events WHERE type = 'billing.invoice.created'`
  expect((created as { n: number }).n).toBe(USERS)
}, 120_000)
