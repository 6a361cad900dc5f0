/**
 * Statements and transactions per request, counted on the wire between the
 * platform and PostgreSQL (PgWireCounter): the budgets of issue 12 for creating,
 * listing and deleting a session, the background follow-up included
 * (runtime create → running, removal → terminated). The simulated runtime
 * reports at once (`simulatedDelayMs: 0`) and the clock stands still, so no
 * poller runs while a request is measured: what is counted is the request's
 * own work and what it set off.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { PgWireCounter, TestPlatform } from "@streamspace/testing"
import { SQL } from "bun"
import { makeTemplate, makeUser } from "../core/sessions/helpers.ts"

const baseUrl = process.env["TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres"

/** Issue 12's budgets (the hand-written floor does 5 / 2 / 5 statements and 2 transactions per POST). */
const budget = {
  create: { statements: 7, transactions: 3 },
  list: { statements: 2, transactions: 2 },
  delete: { statements: 7, transactions: 3 }
}

let wire: PgWireCounter.PgWireCounter
let p: TestPlatform.TestPlatform
let observer: SQL
let database: string
let user: { id: string; token: string }
let template: string

beforeAll(async () => {
  wire = PgWireCounter.start(baseUrl)
  const original = process.env["TEST_DATABASE_URL"]
  process.env["TEST_DATABASE_URL"] = wire.url(baseUrl)
  try {
    p = await TestPlatform.make({ clock: "test", config: { sessions: { simulatedDelayMs: 0 } } })
  } finally {
    if (original === undefined) delete process.env["TEST_DATABASE_URL"]
    else process.env["TEST_DATABASE_URL"] = original
  }
  database = (await p.query<{ db: string }>("SELECT current_database() AS db"))[0]!.db
  const direct = new URL(baseUrl)
  direct.pathname = `/${database}`
  observer = new SQL(direct.toString())
  const admin = await p.login("admin", p.adminPassword)
  user = await makeUser(p, admin, "counted")
  template = await makeTemplate(p, admin, "counted-app")
})
afterAll(async () => {
  await observer?.close()
  await p?.close()
  wire?.close()
})

/** Until no connection waits on the server and nothing more ran for a moment. */
const quiet = () =>
  p.eventually(async () => {
    const before = wire.snapshot(database).statements
    await Bun.sleep(50)
    return wire.idle() && wire.snapshot(database).statements === before
  })

const stateOf = async (id: string) =>
  ((await observer`SELECT state FROM sessions WHERE id = ${id}`) as Array<{ state: string }>)[0]?.state

/** What `action` and the work it set off ran, once `settled` holds. */
const measure = async (action: () => Promise<void>, settled: () => Promise<boolean>) => {
  await quiet()
  const before = wire.snapshot(database)
  await action()
  await p.eventually(settled)
  await quiet()
  return PgWireCounter.between(before, wire.snapshot(database))
}

const report = (route: string, c: PgWireCounter.Traffic) =>
  console.log(
    `${route}: ${c.statements} statements, ${c.transactions} transactions\n${c.texts.map((t) => `  ${t.slice(0, 160)}`).join("\n")}`
  )

const cycle = async () => {
  let id = ""
  const create = await measure(
    async () => {
      const res = await p.http<{ id: string }>("POST", "/api/sessions", {
        token: user.token,
        body: { templateId: template }
      })
      expect(res.status).toBe(201)
      id = res.body.id
    },
    async () => (await stateOf(id)) === "running"
  )
  const list = await measure(
    async () => {
      const res = await p.http<{ items: Array<{ id: string }> }>("GET", "/api/sessions", { token: user.token })
      expect(res.status).toBe(200)
      expect(res.body.items.map((s) => s.id)).toContain(id)
    },
    async () => true
  )
  const remove = await measure(
    async () => {
      expect((await p.http("DELETE", `/api/sessions/${id}`, { token: user.token })).status).toBe(202)
    },
    async () => (await stateOf(id)) === "terminated"
  )
  return { create, list, delete: remove }
}

describe("statements per request on PostgreSQL, counted on the wire", () => {
  test("create, list and delete stay within issue 12's budgets, background work included", async () => {
    // The first cycle prepares statements and warms caches; the second is what every request costs.
    await cycle()
    const counted = await cycle()
    for (const [route, c] of Object.entries(counted)) report(route, c)
    // The created session's row is written by its insert and then once per real transition (pending → running):
    // neither a claim nor a "submitted" mark while the runtime reports within the grace.
    expect(counted.create.texts.filter((t) => /UPDATE sessions\b/.test(t))).toHaveLength(1)
    expect(counted.delete.texts.filter((t) => /UPDATE sessions\b/.test(t))).toHaveLength(2)
    // The audit row rides on the session's insert / update: no statement of its own.
    for (const route of ["create", "delete"] as const)
      expect(counted[route].texts.filter((t) => /^\s*INSERT INTO audit_log/.test(t))).toEqual([])
    for (const route of ["create", "list", "delete"] as const) {
      expect({ route, statements: counted[route].statements }).toEqual({
        route,
        statements: Math.min(counted[route].statements, budget[route].statements)
      })
      expect({ route, transactions: counted[route].transactions }).toEqual({
        route,
        transactions: Math.min(counted[route].transactions, budget[route].transactions)
      })
    }
  })
})
