/**
 * At runtime, on the live clock: install, enable, disable (routes answer 404
 * plugin_disabled while session events keep arriving), re-enable (metering
 * resumes from its durable cursor: the running intervals match the core's
 * own event times, nothing lost), uninstall (the schema is gone).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import billing from "@streamspace/plugin-billing"
import { TestPlatform } from "@streamspace/testing"
import { makeTemplate } from "./helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string

beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [billing], config: { sessions: { simulatedDelayMs: 50 } } })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const lifecycle = (action: string) => p.http("POST", `/api/admin/plugins/billing/${action}`, { token: admin })
const reach = (token: string, id: string, state: string) =>
  p.eventually(
    async () => (await p.http<{ state: string }>("GET", `/api/sessions/${id}`, { token })).body.state === state
  )
const step = async (token: string, id: string, action: "hibernate" | "wake" | "delete", state: string) => {
  const res =
    action === "delete"
      ? await p.http("DELETE", `/api/sessions/${id}`, { token })
      : await p.http("POST", `/api/sessions/${id}/${action}`, { token })
  expect(res.status).toBe(202)
  await reach(token, id, state)
  await Bun.sleep(300)
}

describe(`billing at runtime (${TestPlatform.engine()})`, () => {
  test("install, enable, disable and re-enable: routes 404 while disabled, metering resumes from its cursor", async () => {
    expect((await lifecycle("install")).status).toBe(200)
    expect((await lifecycle("enable")).status).toBe(200)
    const user = await p.makeUser("carol")
    const template = await makeTemplate(p, admin, "desk")
    expect((await p.http("GET", "/api/plugins/billing/pricing", { token: user.token })).status).toBe(200)

    const created = await p.http<{ id: string }>("POST", "/api/sessions", {
      token: user.token,
      body: { templateId: template }
    })
    const session = created.body.id
    await reach(user.token, session, "running")
    await p.awaitDelivered()
    await Bun.sleep(300)
    expect((await lifecycle("disable")).status).toBe(200)
    const off = await p.http<{ code: string }>("GET", "/api/plugins/billing/costs/current", { token: user.token })
    expect(off.status).toBe(404)
    expect(off.body.code).toBe("plugin_disabled")
    await step(user.token, session, "hibernate", "hibernated")
    await step(user.token, session, "wake", "running")
    await step(user.token, session, "delete", "terminated")
    expect((await lifecycle("enable")).status).toBe(200)
    await p.awaitDelivered()

    // The intervals billing recorded are the core's: started → hibernated, woken → deleted.
    const times = await p.query<{ type: string; ms: string }>(
      `SELECT type, (extract(epoch FROM occurred_at) * 1000)::bigint::text AS ms FROM events
       WHERE payload->>'sessionId' = $1 ORDER BY position`,
      [session]
    )
    const at = (type: string) => Number(times.find((t) => t.type === type)!.ms)
    const intervals = await p.query<{ started: string; ended: string }>(
      `SELECT (extract(epoch FROM started_at) * 1000)::bigint::text AS started, (extract(epoch FROM ended_at) * 1000)::bigint::text AS ended
       FROM plugin_billing.run_intervals WHERE session_id = $1 ORDER BY started_at`,
      [session]
    )
    expect(intervals).toHaveLength(2)
    const expected = [
      [at("session.started"), at("session.hibernated")],
      [at("session.woken"), at("session.deleted")]
    ]
    intervals.forEach((iv, i) => {
      // Within 250 ms: the database's and the process's clocks are read a few statements apart.
      expect(Math.abs(Number(iv.started) - expected[i]![0]!)).toBeLessThan(250)
      expect(Math.abs(Number(iv.ended) - expected[i]![1]!)).toBeLessThan(250)
    })
    const [sized] = await p.query<{ cpu: number; memory: number; sizing: string }>(
      "SELECT cpu, memory, sizing FROM plugin_billing.meter_sessions WHERE session_id = $1",
      [session]
    )
    // The size comes from the core's session.created event, whether or not billing was enabled at the launch.
    expect(sized).toEqual({ cpu: 2000, memory: 4096, sizing: "event" })
  })

  test("uninstall drops the schema; the routes are gone", async () => {
    const res = await p.http("DELETE", "/api/admin/plugins/billing", { token: admin })
    expect(res.status).toBe(204)
    const schemas = await p.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = 'plugin_billing'"
    )
    expect(schemas[0]!.n).toBe(0)
    expect((await p.http("GET", "/api/plugins/billing/pricing", { token: admin })).status).toBe(404)
  })
})
