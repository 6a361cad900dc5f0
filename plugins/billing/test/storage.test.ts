/**
 * Storage metering on one engine (PGlite, or PostgreSQL with
 * TEST_DATABASE_URL): files uploaded and deleted under the test clock are
 * billed per GB-month (730 hours, GiB) to the cent, in the costs by resource,
 * the usage views and the invoice; replaying every file event twice and
 * rolling up twice changes nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import billing from "@streamspace/plugin-billing"
import { TestPlatform } from "@streamspace/testing"
import { launch, makeTemplate, toNextHour } from "./helpers.ts"

const H = 3_600_000
const MiB = 1024 * 1024

let p: TestPlatform.TestPlatform
let admin: string
let alice: { id: string; token: string }
let start: number
let initialCursor: { tx_id: string; position: string }

const cursor = async () =>
  (
    await p.query<{ tx_id: string; position: string }>(
      "SELECT tx_id::text AS tx_id, position::text AS position FROM plugin_subscriptions WHERE plugin_id = 'billing' AND name = 'storage-metering'"
    )
  )[0]!

const storageRows = async () =>
  (
    await p.query<{ n: number; q: string }>(
      "SELECT count(*)::int AS n, COALESCE(sum(quantity), 0)::text AS q FROM plugin_billing.usage_records WHERE resource = 'storage'"
    )
  )[0]!

const upload = async (session: string, name: string, bytes: number) => {
  const res = await p.http<{ id: string; size: number }>("POST", `/api/sessions/${session}/files?name=${name}`, {
    token: alice.token,
    raw: new Uint8Array(bytes),
    headers: { "content-type": "application/octet-stream" }
  })
  expect(res.status).toBe(201)
  expect(res.body.size).toBe(bytes)
  return res.body.id
}

beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [billing],
    clock: "test",
    config: { plugins: { enabled: ["billing"] }, sessions: { idleTimeoutSeconds: 100 * 3600 } }
  })
  admin = await p.login("admin", p.adminPassword)
  alice = await p.makeUser("alice")
  initialCursor = await cursor()
  // Only storage costs here: CPU and memory are free from the next hour on.
  const configured = await p.http("PUT", "/api/admin/plugins/billing/config", {
    token: admin,
    body: { invoiceGeneration: { autoGenerate: false }, pricing: { cpuHourRate: 0, memoryGBRate: 0 } }
  })
  expect(configured.status).toBe(200)
})
afterAll(() => p.close())

describe(`billing storage metering (${TestPlatform.engine()})`, () => {
  test("upload, wait, delete is billed per GB-month to the cent; a replay changes nothing", async () => {
    start = await toNextHour(p)
    const template = await makeTemplate(p, admin, "files")
    // Alice's storage costs 10000 per GB-month from start + 1 h (a rate that makes cents of a few MiB).
    const rule = await p.http("POST", "/api/plugins/billing/pricing/rules", {
      token: admin,
      body: {
        scope: "user",
        scopeId: alice.id,
        resource: "storage",
        rate: "10000",
        effectiveFrom: new Date(start + H).toISOString()
      }
    })
    expect(rule.status).toBe(201)
    const session = await launch(p, alice.token, template)
    await toNextHour(p, 0) // start + 1 h
    const big = await upload(session, "big.bin", 10 * MiB)
    await upload(session, "small.bin", MiB)
    await p.awaitDelivered()
    await p.adjustClock("7 hours")
    await p.adjustClock("18 minutes") // 7.3 h: a tenth of a 730-hour month
    const deleted = await p.http("DELETE", `/api/sessions/${session}/files/${big}`, { token: alice.token })
    expect(deleted.status).toBe(204)
    await p.awaitDelivered()
    await p.adjustClock(`${start + 11 * H - (start + H + 7.3 * H)} millis`) // start + 11 h
    expect((await p.runJob("billing", "rollup")).outcome).toBe("success")

    // By hand, over [start + 1 h, start + 11 h):
    //   big.bin   10 MiB × 7.3 h = 10/1024 GB × 0.01 month = 0.00009765625 GB-months
    //   small.bin  1 MiB × 10 h  =  1/1024 GB × 10/730 month ≈ 0.0000133777 GB-months
    //   0.0001110339 GB-months × 10000 = 1.110339 → 1.11
    const from = new Date(start + H).toISOString()
    const to = new Date(start + 11 * H).toISOString()
    const byResource = await p.http<{ items: Array<{ key: string; total: { amount: string } }> }>(
      "GET",
      `/api/plugins/billing/costs/breakdown?by=resource&from=${from}&to=${to}&userId=${alice.id}`,
      { token: admin }
    )
    expect(byResource.status).toBe(200)
    expect(byResource.body.items.find((i) => i.key === "storage")?.total.amount).toBe("1.11")

    const usage = await p.http<{ files: number; bytes: number; gbMonths: string; cost: { amount: string } }>(
      "GET",
      `/api/plugins/billing/usage/storage?from=${from}&to=${to}`,
      { token: alice.token }
    )
    expect(usage.body).toMatchObject({ files: 1, bytes: MiB, gbMonths: "0.000111", cost: { amount: "1.11" } })

    const res = await p.http<{
      created: Array<{
        total: string
        lines: Array<{
          description: string
          resource: string
          quantity: string
          unit: string
          rate: string
          amount: string
        }>
      }>
    }>("POST", "/api/plugins/billing/invoices/generate", {
      token: admin,
      body: { periodStart: from, periodEnd: to, userId: alice.id }
    })
    expect(res.status).toBe(200)
    const invoice = res.body.created[0]!
    const storage = invoice.lines.filter((l) => l.resource === "storage")
    expect(storage).toHaveLength(1)
    expect(storage[0]).toMatchObject({
      description: "Storage",
      quantity: "0.000111",
      unit: "GB-months",
      rate: "10000",
      amount: "1.11"
    })
    expect(invoice.total).toBe("1.11")

    // Replay every file event twice (from the subscription's first cursor) and roll up twice: nothing changes.
    const before = await storageRows()
    for (let i = 0; i < 2; i++) {
      expect((await p.http("POST", "/api/admin/plugins/billing/disable", { token: admin })).status).toBe(200)
      await p.query(
        "UPDATE plugin_subscriptions SET tx_id = $1::xid8, position = $2::bigint WHERE plugin_id = 'billing' AND name = 'storage-metering'",
        [initialCursor.tx_id, initialCursor.position]
      )
      expect((await p.http("POST", "/api/admin/plugins/billing/enable", { token: admin })).status).toBe(200)
      await p.awaitDelivered()
      expect((await p.runJob("billing", "rollup")).outcome).toBe("success")
      expect((await p.runJob("billing", "rollup")).outcome).toBe("success")
    }
    expect(await storageRows()).toEqual(before)
    const again = await p.http<{ items: Array<{ key: string; total: { amount: string } }> }>(
      "GET",
      `/api/plugins/billing/costs/breakdown?by=resource&from=${from}&to=${to}&userId=${alice.id}`,
      { token: admin }
    )
    expect(again.body.items.find((i) => i.key === "storage")?.total.amount).toBe("1.11")
  })

  test("a file still stored keeps being metered hour by hour", async () => {
    const q = BigInt((await storageRows()).q)
    await p.adjustClock("2 hours")
    expect((await p.runJob("billing", "rollup")).outcome).toBe("success")
    // small.bin (1 MiB) for two more whole hours: 1 MiB × 7200 s more byte-seconds.
    expect(BigInt((await storageRows()).q) - q).toBe(BigInt(MiB) * 7200n)
  })
})
