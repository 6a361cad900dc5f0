import { afterAll, beforeAll, expect, test } from "bun:test"
import { CoreMigrations } from "@streamspace/core"
import { ServerProcess } from "@streamspace/testing"
import { SQL } from "bun"

// Two servers started at the same moment on one empty PostgreSQL database:
// both become ready and each core migration runs exactly once.
const baseUrl = process.env["TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres"
const dbName = `ss_t_race_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
const admin = new SQL(baseUrl)
const dbUrl = (() => {
  const u = new URL(baseUrl)
  u.pathname = `/${dbName}`
  return u.toString()
})()

beforeAll(async () => {
  await admin.unsafe(`CREATE DATABASE ${dbName}`)
})
afterAll(async () => {
  await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
  await admin.close()
})

test("two processes on one empty database: both ready, every migration applied once", async () => {
  const [a, b] = await Promise.all([
    ServerProcess.start({ DATABASE_URL: dbUrl, STREAMSPACE_ADMIN_PASSWORD: "race-root-password" }),
    ServerProcess.start({ DATABASE_URL: dbUrl, STREAMSPACE_ADMIN_PASSWORD: "race-root-password" })
  ])
  try {
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200)
    expect((await fetch(`${b.url}/readyz`)).status).toBe(200)
    const applied = [a.output(), b.output()]
      .map((out) => Number(/applied (\d+) core migration/.exec(out)?.[1] ?? 0))
      .reduce((x, y) => x + y, 0)
    expect(applied).toBe(CoreMigrations.coreMigrations.length)
    const db = new SQL(dbUrl)
    const rows = await db.unsafe(`SELECT migration_id FROM ${CoreMigrations.table} ORDER BY migration_id`)
    await db.close()
    expect(rows.map((r: { migration_id: number }) => Number(r.migration_id))).toEqual(
      CoreMigrations.coreMigrations.map((m) => m.id)
    )
  } finally {
    expect(await a.stop()).toBe(0)
    expect(await b.stop()).toBe(0)
  }
}, 120_000)
