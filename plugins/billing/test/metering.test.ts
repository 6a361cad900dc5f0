/**
 * The bar of issue 13 on one engine (PGlite, or PostgreSQL with
 * TEST_DATABASE_URL): a session driven create → running → hibernate → wake →
 * delete under the test clock is invoiced to the cent as computed by hand,
 * with effective-dated overrides and a credit; replaying every event twice
 * and rolling up twice changes nothing; the PDF carries the totals and the
 * CSV round-trips; users see only their own.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { HttpRoute } from "@streamspace/core"
import { definePlugin, Plugins, Routes } from "@streamspace/kernel"
import billing, { calculateCost, parseCsv } from "@streamspace/plugin-billing"
import { TestPlatform } from "@streamspace/testing"
import { Clock, Effect, Layer, Schema } from "effect"
import { extractText, getDocumentProxy } from "unpdf"
import { act, launch, makeTemplate, toNextHour } from "./helpers.ts"

const H = 3_600_000

/** A workflow-like plugin that asks billing what a session cost, through the typed inter-plugin call. */
const caller = definePlugin({
  id: "billing-caller",
  name: "Billing caller (test)",
  version: "1.0.0",
  type: "extension",
  category: "example",
  dependsOn: [{ id: "billing", version: "^1.0.0" }],
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const plugins = yield* Plugins
      yield* (yield* Routes).add(
        HttpRoute.make({
          method: "POST",
          path: "/cost",
          summary: "billing's calculateCost",
          permission: "authenticated",
          body: Schema.Struct({ sessionId: Schema.String }),
          response: Schema.Struct({ total: Schema.String, cpuCoreHours: Schema.String, currency: Schema.String }),
          handler: ({ body }) => Effect.orDie(plugins.call("billing", calculateCost, { sessionId: body.sessionId }))
        })
      )
    })
  )
})
let sessionId: string
let p: TestPlatform.TestPlatform
let admin: string
let alice: { id: string; token: string }
let bob: { id: string; token: string }
let template: string
let start: number
let invoiceId: string

interface Invoice {
  id: string
  number: string | null
  userId: string
  status: string
  subtotal: string
  credits: string
  total: string
  totalMinor: number
  lines: Array<{ description: string; resource: string; quantity: string; rate: string; amount: string }>
}

const cursor = async () =>
  (
    await p.query<{ tx_id: string; position: string }>(
      "SELECT tx_id::text AS tx_id, position::text AS position FROM plugin_subscriptions WHERE plugin_id = 'billing' AND name = 'metering'"
    )
  )[0]!
let initialCursor: { tx_id: string; position: string }

const usageTotals = async () =>
  (
    await p.query<{ n: number; cpu: string; memory: string }>(
      `SELECT count(*)::int AS n,
         COALESCE(sum(quantity) FILTER (WHERE resource = 'cpu'), 0)::text AS cpu,
         COALESCE(sum(quantity) FILTER (WHERE resource = 'memory'), 0)::text AS memory
       FROM plugin_billing.usage_records`
    )
  )[0]!

beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [billing, caller],
    clock: "test",
    config: { plugins: { enabled: ["billing", "billing-caller"] }, sessions: { idleTimeoutSeconds: 100 * 3600 } }
  })
  admin = await p.login("admin", p.adminPassword)
  alice = await p.makeUser("alice")
  bob = await p.makeUser("bob")
  template = await makeTemplate(p, admin, "workstation")
  // Invoices here come from the route, for a period of the test's own (the job has a test of its own).
  const configured = await p.http("PUT", "/api/admin/plugins/billing/config", {
    token: admin,
    body: { invoiceGeneration: { autoGenerate: false } }
  })
  expect(configured.status).toBe(200)
  initialCursor = await cursor()
})
afterAll(() => p.close())

describe(`billing metering and invoices (${TestPlatform.engine()})`, () => {
  test("create → running → hibernate → wake → delete is invoiced to the cent", async () => {
    start = await toNextHour(p)
    // Overrides, effective-dated: the template's CPU costs 0.03 from hour 1, alice's memory 0.02 from hour 2.
    const rule = async (body: Record<string, unknown>) => {
      const res = await p.http("POST", "/api/plugins/billing/pricing/rules", { token: admin, body })
      expect(res.status).toBe(201)
    }
    await rule({
      scope: "template",
      scopeId: template,
      resource: "cpu",
      rate: "0.03",
      effectiveFrom: new Date(start + H).toISOString()
    })
    await rule({
      scope: "user",
      scopeId: alice.id,
      resource: "memory",
      rate: "0.02",
      effectiveFrom: new Date(start + 2 * H).toISOString()
    })

    const session = await launch(p, alice.token, template) // running from start + ~1 s
    sessionId = session
    await p.adjustClock("3 hours")
    await act(p, alice.token, session, "hibernate") // hibernated from start + 3 h
    await p.adjustClock("5 hours")
    await act(p, alice.token, session, "wake") // running again from start + 8 h
    await p.adjustClock("2 hours")
    await act(p, alice.token, session, "delete") // gone at start + 10 h
    await p.adjustClock("1 hour")
    expect((await p.runJob("billing", "rollup")).outcome).toBe("success")

    const credit = await p.http("POST", "/api/plugins/billing/credits", {
      token: admin,
      body: { userId: alice.id, amount: "0.10", reason: "welcome" }
    })
    expect(credit.status).toBe(201)

    const res = await p.http<{ created: Invoice[] }>("POST", "/api/plugins/billing/invoices/generate", {
      token: admin,
      body: { periodStart: new Date(start).toISOString(), periodEnd: new Date(start + 11 * H).toISOString() }
    })
    expect(res.status).toBe(200)
    expect(res.body.created).toHaveLength(1)
    const invoice = res.body.created[0]!
    invoiceId = invoice.id
    // By hand, 2 cores and 4 GiB running 5 hours (hours 0–2 and 8–9):
    //   CPU    hour 0 at the base 0.01:          2 core-hours × 0.01 = 0.02
    //          hours 1, 2, 8, 9 at 0.03:         8 core-hours × 0.03 = 0.24
    //   memory hours 0, 1 at the base 0.005:     8 GB-hours  × 0.005 = 0.04
    //          hours 2, 8, 9 at alice's 0.02:   12 GB-hours  × 0.02  = 0.24
    //   subtotal 0.54, credit 0.10, total 0.44
    expect(invoice).toMatchObject({
      userId: alice.id,
      status: "open",
      subtotal: "0.54",
      credits: "0.10",
      total: "0.44"
    })
    expect(invoice.number).toMatch(/^INV-\d{4}-000001$/)
    expect(invoice.lines.map((l) => [l.resource, l.rate, l.amount])).toEqual([
      ["cpu", "0.01", "0.02"],
      ["cpu", "0.03", "0.24"],
      ["memory", "0.005", "0.04"],
      ["memory", "0.02", "0.24"]
    ])
    expect(invoice.lines.map((l) => l.quantity.slice(0, 4))).toEqual(
      ["1.99", "8.00", "7.99", "12.0"].map((q) => q.slice(0, 4))
    )
    const created = await p.query<{ payload: { invoiceId: string; total: string } }>(
      "SELECT payload FROM events WHERE type = 'billing.invoice.created'"
    )
    expect(created.map((e) => e.payload)).toEqual([expect.objectContaining({ invoiceId, total: "0.44" })])
  })

  test("replaying every event twice and rolling up twice changes no total", async () => {
    const before = await usageTotals()
    const costs = async () =>
      (
        await p.http<{ total: { amount: string } }>(
          "GET",
          `/api/plugins/billing/costs/breakdown?from=${new Date(start).toISOString()}&to=${new Date(start + 11 * H).toISOString()}`,
          { token: admin }
        )
      ).body.total.amount
    expect(await costs()).toBe("0.54")
    for (let i = 0; i < 2; i++) {
      // force: the test's caller plugin depends on billing, and goes down (and up) with it
      expect((await p.http("POST", "/api/admin/plugins/billing/disable?force=true", { token: admin })).status).toBe(200)
      await p.query(
        "UPDATE plugin_subscriptions SET tx_id = $1::xid8, position = $2::bigint WHERE plugin_id = 'billing' AND name = 'metering'",
        [initialCursor.tx_id, initialCursor.position]
      )
      expect((await p.http("POST", "/api/admin/plugins/billing/enable", { token: admin })).status).toBe(200)
      expect((await p.http("POST", "/api/admin/plugins/billing-caller/enable", { token: admin })).status).toBe(200)
      await p.awaitDelivered()
      expect((await p.runJob("billing", "rollup")).outcome).toBe("success")
    }
    expect(await usageTotals()).toEqual(before)
    expect(await costs()).toBe("0.54")
    const again = await p.http<{ created: Invoice[] }>("POST", "/api/plugins/billing/invoices/generate", {
      token: admin,
      body: { periodStart: new Date(start).toISOString(), periodEnd: new Date(start + 11 * H).toISOString() }
    })
    expect(again.body.created).toEqual([])
  })

  test("the PDF carries the totals and the CSV round-trips", async () => {
    const download = async (path: string, token: string) =>
      p.app.handle(
        new Request(`http://127.0.0.1/api/plugins/billing${path}`, { headers: { authorization: `Bearer ${token}` } })
      )
    const pdf = await download(`/invoices/${invoiceId}/pdf`, alice.token)
    expect(pdf.status).toBe(200)
    expect(pdf.headers.get("content-type")).toBe("application/pdf")
    const doc = await getDocumentProxy(new Uint8Array(await pdf.arrayBuffer()))
    const { text } = await extractText(doc, { mergePages: true })
    expect(text).toContain("INVOICE")
    expect(text).toMatch(/INV-\d{4}-000001/)
    expect(text).toContain("Subtotal:")
    expect(text).toContain("0.54")
    expect(text).toContain("-0.10")
    expect(text).toContain("0.44 USD")
    expect(text).toContain("workstation: CPU")

    const csv = await download(`/invoices/${invoiceId}/csv`, alice.token)
    expect(csv.headers.get("content-type")).toContain("text/csv")
    const rows = parseCsv(await csv.text())
    const invoice = (await p.http<Invoice>("GET", `/api/plugins/billing/invoices/${invoiceId}`, { token: alice.token }))
      .body
    expect(rows[0]).toEqual([
      "invoice",
      "number",
      "period_start",
      "period_end",
      "currency",
      "line",
      "description",
      "resource",
      "quantity",
      "unit",
      "rate",
      "amount"
    ])
    const lines = rows.slice(1).filter((r) => r[5] !== "")
    expect(lines.map((r) => [r[6], r[7], r[8], r[10], r[11]])).toEqual(
      invoice.lines.map((l) => [l.description, l.resource, l.quantity, l.rate, l.amount])
    )
    const totals = Object.fromEntries(
      rows
        .slice(1)
        .filter((r) => r[5] === "")
        .map((r) => [r[6], r[11]])
    )
    expect(totals).toEqual({ SUBTOTAL: "0.54", CREDITS: "0.10", TOTAL: "0.44" })
    // The sum of the lines read back is the subtotal, to the cent.
    const cents = lines.reduce((a, r) => a + Math.round(Number(r[11]) * 100), 0)
    expect(cents).toBe(54)

    const usage = await download(
      `/usage/export?from=${new Date(start).toISOString()}&to=${new Date(start + 11 * H).toISOString()}`,
      alice.token
    )
    const usageRows = parseCsv(await usage.text())
    expect(usageRows[0]).toEqual([
      "session",
      "user",
      "template",
      "cpu_core_hours",
      "memory_gb_hours",
      "storage_gb_months"
    ])
    expect(usageRows.at(-1)).toEqual(["COST", "", "", "0.54", "USD"])
  })

  test("cost views agree with the invoice: breakdowns, current, history, comparison, forecast", async () => {
    const range = `from=${new Date(start).toISOString()}&to=${new Date(start + 11 * H).toISOString()}`
    const by = async (what: string) =>
      (
        await p.http<{
          total: { amount: string }
          items: Array<{ key: string; label: string; total: { amount: string; amountMinor: number } }>
        }>("GET", `/api/plugins/billing/costs/breakdown?by=${what}&${range}`, { token: admin })
      ).body
    expect((await by("user")).items).toEqual([
      { key: alice.id, label: "alice", total: { amount: "0.54", amountMinor: 54 } }
    ])
    expect((await by("template")).items).toEqual([
      { key: template, label: "workstation", total: { amount: "0.54", amountMinor: 54 } }
    ])
    expect((await by("resource")).items.map((i) => [i.key, i.total.amount]).sort()).toEqual([
      ["cpu", "0.26"],
      ["memory", "0.28"]
    ])
    expect((await by("group")).items.map((i) => i.key)).toEqual(["(none)"])
    const bad = await p.http<{ errors: Array<{ path: string }> }>(
      "GET",
      "/api/plugins/billing/costs/breakdown?by=colour",
      { token: admin }
    )
    expect(bad.status).toBe(400)
    expect(bad.body.errors[0]!.path).toBe("query.by")
    for (const path of [
      "costs/current",
      "costs/history?periods=3",
      "costs/comparison",
      "costs/forecast",
      "usage/resources",
      "pricing",
      "credits"
    ]) {
      const res = await p.http("GET", `/api/plugins/billing/${path}`, { token: alice.token })
      expect(`${path} ${res.status}`).toBe(`${path} 200`)
    }
    const forecast = await p.http<{ method: string; total: { amountMinor: number }; toDate: { amountMinor: number } }>(
      "GET",
      "/api/plugins/billing/costs/forecast",
      { token: alice.token }
    )
    expect(["linear-trend", "daily-average", "to-date"]).toContain(forecast.body.method)
    expect(forecast.body.total.amountMinor).toBeGreaterThanOrEqual(forecast.body.toDate.amountMinor)
    const history = await p.http<{ items: Array<{ total: { amountMinor: number } }> }>(
      "GET",
      "/api/plugins/billing/costs/history?periods=3",
      {
        token: alice.token
      }
    )
    expect(history.body.items).toHaveLength(3)
    expect(history.body.items.reduce((a, i) => a + i.total.amountMinor, 0)).toBe(54)
  })

  test("users see only their own; prices and invoice states are admin only", async () => {
    expect((await p.http("GET", `/api/plugins/billing/invoices/${invoiceId}`, { token: bob.token })).status).toBe(404)
    expect(
      (await p.http<{ items: unknown[] }>("GET", "/api/plugins/billing/invoices", { token: bob.token })).body.items
    ).toEqual([])
    const other = await p.http<{ code: string }>("GET", `/api/plugins/billing/costs/current?userId=${alice.id}`, {
      token: bob.token
    })
    expect(other.status).toBe(403)
    const price = await p.http("POST", "/api/plugins/billing/pricing/rules", {
      token: alice.token,
      body: { scope: "base", resource: "cpu", rate: "0" }
    })
    expect(price.status).toBe(403)
    expect(
      (await p.http("POST", `/api/plugins/billing/invoices/${invoiceId}/pay`, { token: alice.token, body: {} })).status
    ).toBe(403)
  })

  test("a rate change may not reach into the past; bad input names the field", async () => {
    const past = await p.http<{ errors: Array<{ path: string }> }>("POST", "/api/plugins/billing/pricing/rules", {
      token: admin,
      body: { scope: "base", resource: "cpu", rate: "0.02", effectiveFrom: new Date(start).toISOString() }
    })
    expect(past.status).toBe(400)
    expect(past.body.errors[0]!.path).toBe("body.effectiveFrom")
    const rate = await p.http<{ errors: Array<{ path: string }> }>("POST", "/api/plugins/billing/pricing/rules", {
      token: admin,
      body: { scope: "base", resource: "cpu", rate: "0.0000000001" }
    })
    expect(rate.status).toBe(400)
    expect(rate.body.errors[0]!.path).toBe("body.rate")
    const credit = await p.http<{ errors: Array<{ path: string }> }>("POST", "/api/plugins/billing/credits", {
      token: admin,
      body: { userId: alice.id, amount: "1.005", reason: "x" }
    })
    expect(credit.status).toBe(400)
    expect(credit.body.errors[0]!.path).toBe("body.amount")
  })

  test("invoice states: open → paid publishes billing.invoice.paid; paid cannot be voided", async () => {
    const paid = await p.http<Invoice>("POST", `/api/plugins/billing/invoices/${invoiceId}/pay`, {
      token: admin,
      body: { reference: "bank transfer 42" }
    })
    expect(paid.status).toBe(200)
    expect(paid.body.status).toBe("paid")
    const voided = await p.http<{ code: string }>("POST", `/api/plugins/billing/invoices/${invoiceId}/void`, {
      token: admin,
      body: {}
    })
    expect(voided.status).toBe(409)
    expect(voided.body.code).toBe("invalid_transition")
    const events = await p.query<{ payload: { invoiceId: string } }>(
      "SELECT payload FROM events WHERE type = 'billing.invoice.paid'"
    )
    expect(events.map((e) => e.payload.invoiceId)).toEqual([invoiceId])
  })

  test("a late event corrects hours already rolled up with new immutable revisions", async () => {
    const now = await p.run(Clock.currentTimeMillis)
    const h = Math.floor(now / H) * H - 3 * H
    const iso = (ms: number) => new Date(ms).toISOString()
    const base = { sessionId: crypto.randomUUID(), userId: bob.id, templateId: template, cpu: 1000, memory: 1024 }
    // Sizes and instants in the payload: what the core is asked to add (docs/plugins/billing.md).
    await p.emit("session.created", { ...base, state: "pending", at: iso(h) })
    await p.emit("session.started", { ...base, state: "running", at: iso(h + 10 * 60_000) })
    await p.awaitDelivered()
    expect((await p.runJob("billing", "rollup")).outcome).toBe("success")
    const rows = () =>
      p.query<{ hour: string; revision: number; quantity: string }>(
        `SELECT hour_start::text AS hour, revision, quantity::text AS quantity FROM plugin_billing.usage_records
         WHERE session_id = $1 AND resource = 'cpu' ORDER BY hour_start, revision`,
        [base.sessionId]
      )
    const cpuOf = async () => (await rows()).reduce((a, r) => a + Number(r.quantity), 0)
    expect(await cpuOf()).toBe(1000 * (50 + 60 + 60) * 60_000) // running through the last whole hour
    // The hibernation at h + 40 min arrives late.
    await p.emit("session.hibernated", { ...base, state: "hibernated", at: iso(h + 40 * 60_000) })
    await p.awaitDelivered()
    expect((await p.runJob("billing", "rollup")).outcome).toBe("success")
    expect((await p.runJob("billing", "rollup")).outcome).toBe("success")
    expect(await cpuOf()).toBe(1000 * 30 * 60_000)
    expect((await rows()).map((r) => r.revision)).toEqual([1, 2, 1, 2, 1, 2])
    await expect(p.query("UPDATE plugin_billing.usage_records SET quantity = 0")).rejects.toThrow(/immutable/)
    const [sized] = await p.query<{ sizing: string }>(
      "SELECT sizing FROM plugin_billing.meter_sessions WHERE session_id = $1",
      [base.sessionId]
    )
    expect(sized!.sizing).toBe("event")
  })

  test("payment methods: display data only; card numbers and CVV are refused 400 naming the field", async () => {
    const add = (body: Record<string, unknown>) =>
      p.http<{ errors?: Array<{ path: string; message: string }>; last4?: string; code?: string }>(
        "POST",
        "/api/plugins/billing/payment-methods",
        { token: alice.token, body }
      )
    const pan = await add({ provider: "manual", number: "4242 4242 4242 4242", cvc: "123" })
    expect(pan.status).toBe(400)
    expect(pan.body.errors!.map((e) => e.path).sort()).toEqual(["body.cvc", "body.number"])
    expect(JSON.stringify(pan.body)).not.toContain("4242 4242")
    const hidden = await add({ provider: "manual", brand: "4000056655665556" })
    expect(hidden.status).toBe(400)
    expect(hidden.body.errors![0]!.path).toBe("body.brand")
    // A Stripe method comes from a confirmed SetupIntent (test/stripe.test.ts), never from a token in the body.
    const stripeToken = await add({ provider: "stripe", token: "pm_123" })
    expect(stripeToken.status).toBe(400)
    expect(stripeToken.body.errors![0]!.path).toBe("body.token")
    const ok = await add({
      provider: "manual",
      brand: "visa",
      last4: "4242",
      expMonth: 12,
      expYear: 2030,
      isDefault: true
    })
    expect(ok.status).toBe(201)
    expect(ok.body.last4).toBe("4242")
    const mine = await p.http<{ items: unknown[] }>("GET", "/api/plugins/billing/payment-methods", {
      token: alice.token
    })
    expect(mine.body.items).toHaveLength(1)
    expect(
      (await p.http<{ items: unknown[] }>("GET", "/api/plugins/billing/payment-methods", { token: bob.token })).body
        .items
    ).toEqual([])
  })

  test("UI: the admin gets the widget and both pages, a user the Billing & usage page", async () => {
    const ids = async (token: string) =>
      (
        await p.http<{ items: Array<{ plugin: string; extension: { id: string } }> }>("GET", "/api/ui/extensions", {
          token
        })
      ).body.items
        .filter((i) => i.plugin === "billing")
        .map((i) => i.extension.id)
        .sort()
    expect(await ids(admin)).toEqual(["billing-admin", "billing-summary", "billing-usage"])
    expect(await ids(alice.token)).toEqual(["billing-usage"])
  })

  test("calculateCost, called by another plugin, gives the session's cost", async () => {
    const res = await p.http<{ total: string; cpuCoreHours: string; currency: string }>(
      "POST",
      "/api/plugins/billing-caller/cost",
      { token: admin, body: { sessionId } }
    )
    expect(res.status).toBe(200)
    expect(res.body.total).toBe("0.54")
    expect(res.body.currency).toBe("USD")
    expect(Number(res.body.cpuCoreHours)).toBeCloseTo(10, 1)
  })
})
