/**
 * Two server processes on one PostgreSQL database share request budgets
 * (through `rate_limit_counters`): a caller that used up its budget on one
 * replica is refused on the other once that one has read the shared count,
 * instead of getting a whole budget per replica.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { Eventually, ServerProcess } from "@streamspace/testing"
import { SQL } from "bun"

const baseUrl = process.env["TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres"
const dbName = `ss_t_limits_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
const admin = new SQL(baseUrl)
const dbUrl = (() => {
  const u = new URL(baseUrl)
  u.pathname = `/${dbName}`
  return u.toString()
})()
const env = { DATABASE_URL: dbUrl, STREAMSPACE_ADMIN_PASSWORD: "Quartz-Lantern-Meadow-42" }

let replicas: ReadonlyArray<ServerProcess.ServerProcess> = []
let db: SQL

beforeAll(async () => {
  await admin.unsafe(`CREATE DATABASE ${dbName}`)
  replicas = [await ServerProcess.start(env), await ServerProcess.start(env)]
  db = new SQL(dbUrl)
})
afterAll(async () => {
  for (const r of replicas) await r.stop()
  await db?.close()
  await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
  await admin.close()
})

const refresh = async (replica: ServerProcess.ServerProcess) =>
  (
    await fetch(`${replica.url}/api/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: "not-a-token" })
    })
  ).status

/** This caller's refresh hits in the shared table, over the current and previous minute. */
const sharedHits = async () => {
  const rows = await db.unsafe(
    `SELECT coalesce(sum(hits), 0)::int AS hits FROM rate_limit_counters WHERE bucket LIKE '%/api/auth/refresh ip:127.0.0.1'`
  )
  return Number(rows[0]?.hits ?? 0)
}

test("a budget used up on one replica is used up on the other", async () => {
  const [a, b] = replicas as [ServerProcess.ServerProcess, ServerProcess.ServerProcess]
  const onA: Array<number> = []
  for (let i = 0; i < 11; i++) onA.push(await refresh(a))
  expect(onA).toEqual([...Array.from({ length: 10 }, () => 401), 429])
  // A sends its hits within a second or so.
  await Eventually.eventually(async () => (await sharedHits()) >= 10, { what: "replica A's hits in the shared table" })

  // B reads them at its next exchange. Per-replica budgets would let B answer 401 ten times here.
  const onB: Array<number> = [await refresh(b)]
  if (onB[0] === 401)
    // B's own hit reaching the table means B has exchanged since (it reads right after it writes).
    await Eventually.eventually(async () => (await sharedHits()) >= 11, { what: "replica B's exchange" })
  while (onB.at(-1) !== 429 && onB.length < 11) {
    onB.push(await refresh(b))
    if (onB.at(-1) !== 429) await Bun.sleep(200)
  }
  expect(onB.at(-1)).toBe(429)
  expect(onB.filter((s) => s === 401).length).toBeLessThanOrEqual(3)
}, 120_000)
