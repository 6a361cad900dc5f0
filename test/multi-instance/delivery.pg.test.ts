/**
 * Two server processes on one PostgreSQL database with the `counter`
 * fixture plugin: every event is delivered exactly once per subscription,
 * the one-second job runs once per tick, and killing one process
 * mid-stream loses nothing (the other takes over its subscription).
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { ServerDatabase, ServerProcess } from "@streamspace/testing"
import { SQL } from "bun"
import * as Path from "node:path"

const database = await ServerDatabase.create()
let db: SQL
const env = {
  DATABASE_URL: database.url,
  STREAMSPACE_ADMIN_PASSWORD: "multi-root-password",
  STREAMSPACE_PLUGINS_DIR: Path.join(import.meta.dir, "../fixtures/plugins"),
  STREAMSPACE_PLUGINS: "counter",
  STREAMSPACE_RATE_LIMIT: "false",
  STREAMSPACE_LOG_LEVEL: "warning"
}
let a: ServerProcess.ServerProcess
let b: ServerProcess.ServerProcess

const token = (url: string) => ServerProcess.login(url, env.STREAMSPACE_ADMIN_PASSWORD)

const ping = async (url: string, auth: string, from: number, count: number) => {
  const res = await fetch(`${url}/api/plugins/counter/ping`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${auth}` },
    body: JSON.stringify({ from, count })
  })
  expect(res.status).toBe(204)
}

const counts = async () => {
  const [row] =
    await db`SELECT count(*)::int AS total, count(DISTINCT event_id)::int AS distinct_events FROM plugin_counter.received`
  return row as { total: number; distinct_events: number }
}

const waitFor = async (check: () => Promise<boolean>, ms: number) => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return true
    await Bun.sleep(200)
  }
  return false
}

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

test("1,000 events published through both instances are delivered exactly once", async () => {
  const [ta, tb] = [await token(a.url), await token(b.url)]
  await Promise.all(
    Array.from({ length: 10 }, (_, i) => ping(i % 2 === 0 ? a.url : b.url, i % 2 === 0 ? ta : tb, i * 100, 100))
  )
  expect(await waitFor(async () => (await counts()).total >= 1000, 60_000)).toBe(true)
  await Bun.sleep(1500)
  expect(await counts()).toEqual({ total: 1000, distinct_events: 1000 })
}, 120_000)

test("a one-second job runs once per tick across both instances", async () => {
  await Bun.sleep(3500)
  const [row] =
    await db`SELECT count(*)::int AS runs, count(DISTINCT tick)::int AS ticks, count(DISTINCT pid)::int AS pids FROM plugin_counter.ticks`
  const r = row as { runs: number; ticks: number; pids: number }
  expect(r.ticks).toBeGreaterThanOrEqual(3)
  expect(r.runs).toBe(r.ticks)
}, 30_000)

test("killing one instance mid-stream loses nothing", async () => {
  const tb = await token(b.url)
  const ta = await token(a.url)
  const sending = Promise.all(Array.from({ length: 10 }, (_, i) => ping(a.url, ta, 10_000 + i * 100, 100)))
  await ping(b.url, tb, 20_000, 200)
  b.proc.kill("SIGKILL")
  await sending
  // The killed instance's lease (at most 15 s) expires and the survivor takes over.
  expect(await waitFor(async () => (await counts()).distinct_events >= 2200, 90_000)).toBe(true)
  const { distinct_events } = await counts()
  expect(distinct_events).toBe(2200)
}, 120_000)
