/**
 * The Stripe provider against a stand-in of Stripe's REST API (a real HTTP
 * server on 127.0.0.1, reached through the platform's egress policy with the
 * kit's loopback allowance), and billing settings on the invoice PDF; on one
 * engine (PGlite, or PostgreSQL with TEST_DATABASE_URL).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import billing, { signatureHeader } from "@streamspace/plugin-billing"
import { LocalServer, TestPlatform } from "@streamspace/testing"
import { Clock } from "effect"
import { extractText, getDocumentProxy } from "unpdf"
import { act, launch, makeTemplate, toNextHour } from "./helpers.ts"

const H = 3_600_000
const SECRET_KEY = "sk_test_local_4f9a7c2e"
const WEBHOOK_SECRET = "whsec_local_b81d3e55"

let p: TestPlatform.TestPlatform
let stripe: LocalServer.LocalServer
let admin: string
let alice: { id: string; token: string }
let bob: { id: string; token: string }
let invoiceId: string
let invoiceTotalMinor: number

interface Invoice {
  id: string
  status: string
  total: string
  totalMinor: number
  userId: string
}

/** Stripe's answers: one SetupIntent, a visa that pays (the intent settles by webhook) and the PaymentIntent. */
const standIn = (req: LocalServer.RecordedRequest): Response => {
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } })
  if (req.headers.get("authorization") !== `Bearer ${SECRET_KEY}`)
    return json({ error: { type: "invalid_request_error", message: "Invalid API Key provided" } }, 401)
  if (req.method === "POST" && req.path === "/v1/setup_intents")
    return json({
      id: "seti_1Abc",
      object: "setup_intent",
      client_secret: "seti_1Abc_secret_xyz",
      status: "requires_payment_method"
    })
  if (req.method === "GET" && req.path === "/v1/setup_intents/seti_1Abc")
    return json({ id: "seti_1Abc", object: "setup_intent", status: "succeeded", payment_method: "pm_1Visa" })
  if (req.method === "GET" && req.path === "/v1/payment_methods/pm_1Visa")
    return json({
      id: "pm_1Visa",
      object: "payment_method",
      type: "card",
      card: { brand: "visa", last4: "4242", exp_month: 12, exp_year: 2031, fingerprint: "f1" }
    })
  if (req.method === "POST" && req.path === "/v1/payment_intents")
    return json({
      id: "pi_1Pay",
      object: "payment_intent",
      status: "processing",
      amount: Number(new URLSearchParams(req.body).get("amount"))
    })
  return json({ error: { type: "invalid_request_error", message: `no route ${req.method} ${req.path}` } }, 404)
}

const webhook = async (body: string, signature: string | undefined) =>
  p.http<{
    received?: boolean
    handled?: boolean
    duplicate?: boolean
    code?: string
    errors?: Array<{ path: string }>
  }>("POST", "/api/plugins/billing/webhooks/stripe", {
    raw: body,
    headers: { "content-type": "application/json", ...(signature ? { "stripe-signature": signature } : {}) }
  })
const nowSeconds = async () => Math.floor((await p.run(Clock.currentTimeMillis)) / 1000)
const event = (id: string, type: string, object: Record<string, unknown>) =>
  JSON.stringify({ id, object: "event", type, data: { object } })
const invoiceStatus = async () =>
  (await p.http<Invoice>("GET", `/api/plugins/billing/invoices/${invoiceId}`, { token: admin })).body.status
const paidEvents = async () =>
  (await p.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE type = 'billing.invoice.paid'"))[0]!.n

beforeAll(async () => {
  stripe = LocalServer.start(standIn)
  p = await TestPlatform.make({
    plugins: [billing],
    clock: "test",
    config: { plugins: { enabled: ["billing"] }, sessions: { idleTimeoutSeconds: 100 * 3600 } }
  })
  admin = await p.login("admin", p.adminPassword)
  alice = await p.makeUser("alice")
  bob = await p.makeUser("bob")
  const configured = await p.http("PUT", "/api/admin/plugins/billing/config", {
    token: admin,
    body: {
      invoiceGeneration: { autoGenerate: false },
      paymentProvider: "stripe",
      stripeApiBase: stripe.url,
      stripeSecretKey: SECRET_KEY,
      stripeWebhookSecret: WEBHOOK_SECRET
    }
  })
  expect(configured.status).toBe(200)
  expect(JSON.stringify(configured.body)).not.toContain(SECRET_KEY)
  // An open invoice for alice: a session running two hours.
  const start = await toNextHour(p)
  const template = await makeTemplate(p, admin, "desk")
  const session = await launch(p, alice.token, template)
  await p.adjustClock("2 hours")
  await act(p, alice.token, session, "delete")
  await toNextHour(p, 0)
  const res = await p.http<{ created: Invoice[] }>("POST", "/api/plugins/billing/invoices/generate", {
    token: admin,
    body: { periodStart: new Date(start).toISOString(), periodEnd: new Date(start + 3 * H).toISOString() }
  })
  expect(res.status).toBe(200)
  invoiceId = res.body.created[0]!.id
  invoiceTotalMinor = res.body.created[0]!.totalMinor
  expect(invoiceTotalMinor).toBeGreaterThan(0)
})
afterAll(async () => {
  await p.close()
  await stripe.stop()
})

describe(`billing: the Stripe provider and settings (${TestPlatform.engine()})`, () => {
  test("a card is added through a SetupIntent: only the token and display data are kept", async () => {
    const setup = await p.http<{ setupIntentId: string; clientSecret: string }>(
      "POST",
      "/api/plugins/billing/payment-methods/setup-intent",
      { token: alice.token }
    )
    expect(setup.status).toBe(201)
    expect(setup.body).toEqual({ setupIntentId: "seti_1Abc", clientSecret: "seti_1Abc_secret_xyz" })
    const created = stripe.requests.find((r) => r.path === "/v1/setup_intents")!
    expect(created.headers.get("content-type")).toContain("application/x-www-form-urlencoded")
    const form = new URLSearchParams(created.body)
    expect(form.get("usage")).toBe("off_session")
    expect(form.getAll("payment_method_types[]")).toEqual(["card"])
    expect(form.get("metadata[userId]")).toBe(alice.id)

    // Bob cannot attach alice's SetupIntent; a body without it, or with card data, is refused naming the field.
    const bobs = await p.http("POST", "/api/plugins/billing/payment-methods", {
      token: bob.token,
      body: { provider: "stripe", setupIntentId: "seti_1Abc" }
    })
    expect(bobs.status).toBe(404)
    const missing = await p.http<{ errors: Array<{ path: string }> }>("POST", "/api/plugins/billing/payment-methods", {
      token: alice.token,
      body: { provider: "stripe" }
    })
    expect(missing.status).toBe(400)
    expect(missing.body.errors[0]!.path).toBe("body.setupIntentId")
    const withLast4 = await p.http<{ errors: Array<{ path: string }> }>(
      "POST",
      "/api/plugins/billing/payment-methods",
      {
        token: alice.token,
        body: { provider: "stripe", setupIntentId: "seti_1Abc", last4: "1111" }
      }
    )
    expect(withLast4.status).toBe(400)
    expect(withLast4.body.errors[0]!.path).toBe("body.last4")

    const attached = await p.http<Record<string, unknown>>("POST", "/api/plugins/billing/payment-methods", {
      token: alice.token,
      body: { provider: "stripe", setupIntentId: "seti_1Abc", isDefault: true }
    })
    expect(attached.status).toBe(201)
    expect(attached.body).toMatchObject({
      provider: "stripe",
      brand: "visa",
      last4: "4242",
      expMonth: 12,
      expYear: 2031
    })
    expect(JSON.stringify(attached.body)).not.toContain("pm_1Visa")
    const [stored] = await p.query<{ token: string; last4: string }>(
      "SELECT token, last4 FROM plugin_billing.payment_methods WHERE provider = 'stripe'"
    )
    expect(stored).toEqual({ token: "pm_1Visa", last4: "4242" })
    for (const r of stripe.requests) expect(r.headers.get("authorization")).toBe(`Bearer ${SECRET_KEY}`)
  })

  test("charging an open invoice creates a PaymentIntent; the signed webhook settles it once", async () => {
    const bobTries = await p.http("POST", `/api/plugins/billing/invoices/${invoiceId}/charge`, { token: bob.token })
    expect(bobTries.status).toBe(404)
    const charged = await p.http<{ payment: { status: string; intentId: string; amount: string }; invoice: Invoice }>(
      "POST",
      `/api/plugins/billing/invoices/${invoiceId}/charge`,
      { token: alice.token }
    )
    expect(charged.status).toBe(200)
    expect(charged.body.payment).toMatchObject({ status: "pending", intentId: "pi_1Pay" })
    expect(charged.body.invoice.status).toBe("open")
    const intent = stripe.requests.find((r) => r.path === "/v1/payment_intents")!
    const form = new URLSearchParams(intent.body)
    expect(form.get("amount")).toBe(String(invoiceTotalMinor))
    expect(form.get("currency")).toBe("usd")
    expect(form.get("payment_method")).toBe("pm_1Visa")
    expect(form.get("confirm")).toBe("true")
    expect(form.get("off_session")).toBe("true")
    expect(form.get("metadata[invoiceId]")).toBe(invoiceId)
    expect(intent.headers.get("idempotency-key")).toMatch(/^streamspace-payment-/)
    // A second charge while this one is in flight is refused.
    const twice = await p.http<{ code: string }>("POST", `/api/plugins/billing/invoices/${invoiceId}/charge`, {
      token: alice.token
    })
    expect(twice.status).toBe(409)
    expect(twice.body.code).toBe("payment_pending")

    const succeeded = event("evt_1Ok", "payment_intent.succeeded", {
      id: "pi_1Pay",
      object: "payment_intent",
      status: "succeeded",
      metadata: { invoiceId }
    })
    const t = await nowSeconds()
    // Missing, malformed, wrong and stale signatures: 400 / 401, and nothing changes.
    const none = await webhook(succeeded, undefined)
    expect(none.status).toBe(400)
    expect(none.body.errors![0]!.path).toBe("headers.stripe-signature")
    expect((await webhook(succeeded, "t=abc")).status).toBe(400)
    expect((await webhook(succeeded, signatureHeader(succeeded, "whsec_wrong_secret", t))).status).toBe(401)
    expect((await webhook(`${succeeded} `, signatureHeader(succeeded, WEBHOOK_SECRET, t))).status).toBe(401)
    expect((await webhook(succeeded, signatureHeader(succeeded, WEBHOOK_SECRET, t - 301))).status).toBe(401)
    expect(await invoiceStatus()).toBe("open")
    expect(await paidEvents()).toBe(0)

    // A failure first (Stripe retries a payment), then success; each event once, replays change nothing.
    const failed = event("evt_1Fail", "payment_intent.payment_failed", {
      id: "pi_1Pay",
      object: "payment_intent",
      status: "requires_payment_method",
      last_payment_error: { message: "Your card has insufficient funds." },
      metadata: { invoiceId }
    })
    const failedRes = await webhook(failed, signatureHeader(failed, WEBHOOK_SECRET, t))
    expect(failedRes.status).toBe(200)
    expect(failedRes.body).toEqual({ received: true, handled: true, duplicate: false })
    expect(await invoiceStatus()).toBe("open")
    const failures = await p.query<{ payload: { invoiceId: string; reason: string } }>(
      "SELECT payload FROM events WHERE type = 'billing.payment.failed'"
    )
    expect(failures.map((f) => f.payload)).toEqual([
      expect.objectContaining({ invoiceId, reason: "Your card has insufficient funds." })
    ])

    const ok = await webhook(succeeded, signatureHeader(succeeded, WEBHOOK_SECRET, t + 60))
    expect(ok.status).toBe(200)
    expect(ok.body).toEqual({ received: true, handled: true, duplicate: false })
    expect(await invoiceStatus()).toBe("paid")
    expect(await paidEvents()).toBe(1)
    for (let i = 0; i < 2; i++) {
      const replay = await webhook(succeeded, signatureHeader(succeeded, WEBHOOK_SECRET, t + 120))
      expect(replay.status).toBe(200)
      expect(replay.body.duplicate).toBe(true)
    }
    // The same news under another event id: the invoice is already paid.
    const other = event("evt_2Ok", "payment_intent.succeeded", {
      id: "pi_1Pay",
      object: "payment_intent",
      metadata: {}
    })
    expect((await webhook(other, signatureHeader(other, WEBHOOK_SECRET, t))).status).toBe(200)
    expect(await invoiceStatus()).toBe("paid")
    expect(await paidEvents()).toBe(1)
    const [payment] = await p.query<{ status: string }>("SELECT status FROM plugin_billing.payments")
    expect(payment!.status).toBe("succeeded")
    const paidAgain = await p.http<{ code: string }>("POST", `/api/plugins/billing/invoices/${invoiceId}/charge`, {
      token: alice.token
    })
    expect(paidAgain.status).toBe(409)
  })

  test("settings are validated, per user, readable by an admin, and printed on the invoice PDF", async () => {
    const put = (token: string, body: Record<string, unknown>) =>
      p.http<{ errors?: Array<{ path: string }> } & Record<string, unknown>>("PUT", "/api/plugins/billing/settings", {
        token,
        body
      })
    const bad = await put(alice.token, {
      billingEmail: "not-an-email",
      taxId: "!",
      addressLines: ["one", "two\nthree"]
    })
    expect(bad.status).toBe(400)
    expect(bad.body.errors!.map((e) => e.path).sort()).toEqual([
      "body.addressLines.1",
      "body.billingEmail",
      "body.taxId"
    ])
    const good = await put(alice.token, {
      billingEmail: "accounts@alice.example",
      companyName: "Alice Analytics GmbH",
      taxId: "DE 123456789",
      addressLines: ["Hauptstrasse 1", "10115 Berlin"]
    })
    expect(good.status).toBe(200)
    expect(good.body).toMatchObject({ userId: alice.id, companyName: "Alice Analytics GmbH" })
    expect((await p.http("GET", `/api/plugins/billing/settings?userId=${alice.id}`, { token: bob.token })).status).toBe(
      403
    )
    const asAdmin = await p.http<{ taxId: string }>("GET", `/api/plugins/billing/settings?userId=${alice.id}`, {
      token: admin
    })
    expect(asAdmin.body.taxId).toBe("DE 123456789")
    const own = await p.http<{ companyName: string | null }>("GET", "/api/plugins/billing/settings", {
      token: bob.token
    })
    expect(own.body.companyName).toBeNull()

    const pdf = await p.app.handle(
      new Request(`http://127.0.0.1/api/plugins/billing/invoices/${invoiceId}/pdf`, {
        headers: { authorization: `Bearer ${alice.token}` }
      })
    )
    expect(pdf.status).toBe(200)
    const { text } = await extractText(await getDocumentProxy(new Uint8Array(await pdf.arrayBuffer())), {
      mergePages: true
    })
    for (const s of [
      "Bill to:",
      "Alice Analytics GmbH",
      "Hauptstrasse 1",
      "10115 Berlin",
      "accounts@alice.example",
      "Tax id: DE 123456789"
    ])
      expect(text).toContain(s)
  })
})
