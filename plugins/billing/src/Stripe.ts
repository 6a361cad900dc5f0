/**
 * The Stripe payment provider, against Stripe's REST API (form-encoded
 * requests, `Authorization: Bearer <secret key>`, base URL from the config):
 *
 * - `POST /payment-methods/setup-intent` creates a SetupIntent
 *   (`/v1/setup_intents`) and returns its client secret for the browser to
 *   confirm with Stripe.js; the card never reaches the platform.
 * - `POST /payment-methods { provider: "stripe", setupIntentId }` reads the
 *   confirmed SetupIntent (it must be one this plugin created for the caller)
 *   and its payment method (`/v1/payment_methods/:id`), and stores only the
 *   token (`pm_…`) and brand, last4 and expiry.
 * - `POST /invoices/:id/charge` charges an open invoice with a PaymentIntent
 *   (`/v1/payment_intents`, `confirm`, `off_session`), with an idempotency key
 *   per payment so a retried request never charges twice.
 * - `POST /webhooks/stripe` (public, verified by `Stripe-Signature`:
 *   `t=…,v1=HMAC-SHA256(secret, t + "." + body)`, 5 minutes' tolerance on the
 *   platform's clock, constant-time comparison) settles payments:
 *   `payment_intent.succeeded` → the invoice is paid (`billing.invoice.paid`),
 *   `payment_intent.payment_failed` → `billing.payment.failed`. Each Stripe
 *   event is handled once (by its id).
 *
 * The secret key and the webhook secret are sealed config fields: never
 * returned, never logged, never put in an error message.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import type { SqlClient } from "@effect/sql"
import {
  Actor,
  Conflict,
  HttpRoute,
  NotFound,
  ServiceUnavailable,
  Timestamps,
  Unauthorized,
  ValidationError
} from "@streamspace/core"
import { Events, type Routes } from "@streamspace/kernel"
import { Data, Effect, Schema } from "effect"
import type { BillingConfig } from "./Config.ts"
import { Invoice, type InvoicesService } from "./Invoices.ts"
import { formatMinor } from "./Money.ts"

/** Stripe could not be reached, or failed: 502, never naming the key. */
export class PaymentProviderError extends Data.TaggedError("PaymentProviderError")<{ readonly message: string }> {
  static readonly status = 502
  readonly status = 502
  readonly code = "payment_provider_error"
}

/** The card was declined (Stripe's 402): the invoice stays open. */
export class PaymentDeclined extends Data.TaggedError("PaymentDeclined")<{ readonly message: string }> {
  static readonly status = 402
  readonly status = 402
  readonly code = "payment_declined"
}

export const PaymentFailed = Events.define(
  "billing.payment.failed",
  Schema.Struct({
    invoiceId: Schema.String,
    number: Schema.NullOr(Schema.String),
    userId: Schema.String,
    paymentId: Schema.String,
    currency: Schema.String,
    total: Schema.String,
    reason: Schema.String
  }),
  "a charge of an invoice failed (declined, or reported failed by the provider); the invoice stays open"
)

// ---- signatures ----

export type SignatureCheck = "ok" | "malformed" | "mismatch" | "stale"

/** Checks a `Stripe-Signature` header against the raw body: `t=<unix seconds>,v1=<hex HMAC-SHA256>` (several v1 allowed). */
export const verifySignature = (
  header: string,
  body: string,
  secret: string,
  nowSeconds: number,
  toleranceSeconds = 300
): SignatureCheck => {
  let t: number | undefined
  const signatures: Array<string> = []
  for (const part of header.split(",")) {
    const eq = part.indexOf("=")
    if (eq < 0) continue
    const key = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    if (key === "t" && /^\d{1,12}$/.test(value)) t = Number(value)
    else if (key === "v1" && /^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase())
  }
  if (t === undefined || signatures.length === 0) return "malformed"
  const expected = Buffer.from(createHmac("sha256", secret).update(`${t}.${body}`, "utf8").digest("hex"), "utf8")
  let matched = false
  for (const s of signatures) if (timingSafeEqual(expected, Buffer.from(s, "utf8"))) matched = true
  if (!matched) return "mismatch"
  return Math.abs(nowSeconds - t) > toleranceSeconds ? "stale" : "ok"
}

/** A `Stripe-Signature` header for a body (what Stripe sends; for tests and tools). */
export const signatureHeader = (body: string, secret: string, t: number) =>
  `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`, "utf8").digest("hex")}`

// ---- the REST client ----

/** Form encoding as Stripe reads it: `metadata[invoiceId]=…`, `payment_method_types[]=card`. */
export const stripeForm = (fields: Readonly<Record<string, string | number | boolean | ReadonlyArray<string>>>) => {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(fields)) {
    if (Array.isArray(v)) for (const item of v) params.append(`${k}[]`, item)
    else params.append(k, String(v))
  }
  return params.toString()
}

interface StripeAnswer {
  readonly status: number
  readonly body: Record<string, unknown>
}

const record = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
const str = (v: unknown) => (typeof v === "string" ? v : undefined)
const int = (v: unknown) => (typeof v === "number" && Number.isInteger(v) ? v : undefined)

const makeClient = (http: HttpClient.HttpClient, config: BillingConfig) => {
  const call = (method: "GET" | "POST", path: string, form?: string, idempotencyKey?: string) =>
    Effect.gen(function* () {
      const key = config.stripeSecretKey
      if (key === undefined)
        return yield* new ServiceUnavailable({ message: "the stripe provider has no secret key configured" })
      const url = `${config.stripeApiBase.replace(/\/+$/, "")}${path}`
      const base = method === "GET" ? HttpClientRequest.get(url) : HttpClientRequest.post(url)
      const request = base.pipe(
        HttpClientRequest.setHeaders({
          authorization: `Bearer ${key}`,
          "user-agent": "StreamSpace-Billing/1",
          ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {})
        }),
        form === undefined ? (r) => r : HttpClientRequest.bodyText(form, "application/x-www-form-urlencoded")
      )
      const answer = yield* http.execute(request).pipe(
        Effect.flatMap((res) => Effect.map(res.text, (text) => ({ status: res.status, text }))),
        Effect.scoped,
        // Never the request (it carries the key) in the message.
        Effect.mapError(() => new PaymentProviderError({ message: "could not reach Stripe" }))
      )
      let body: Record<string, unknown> = {}
      try {
        body = record(JSON.parse(answer.text))
      } catch {
        body = {}
      }
      if (answer.status >= 500 || answer.status === 401 || answer.status === 403 || answer.status === 429)
        return yield* new PaymentProviderError({
          message: `Stripe answered ${answer.status}${str(record(body.error).message) ? `: ${str(record(body.error).message)}` : ""}`
        })
      return { status: answer.status, body } satisfies StripeAnswer
    })
  return {
    get: (path: string) => call("GET", path),
    post: (path: string, form: string, idempotencyKey?: string) => call("POST", path, form, idempotencyKey)
  }
}

// ---- routes ----

export interface StripeDeps {
  readonly sql: SqlClient.SqlClient
  readonly routes: Routes["Type"]
  readonly config: BillingConfig
  readonly invoices: InvoicesService
  readonly events: Events["Type"]
  readonly http: HttpClient.HttpClient
}

const ADMIN = "billing:admin"

const PaymentJson = Schema.Struct({
  id: Schema.String,
  invoiceId: Schema.String,
  provider: Schema.String,
  intentId: Schema.NullOr(Schema.String),
  status: Schema.Literal("pending", "succeeded", "failed"),
  amount: Schema.String,
  currency: Schema.String,
  failure: Schema.NullOr(Schema.String)
})

export const makeStripe = (d: StripeDeps) => {
  const { sql, config, invoices, events } = d
  const client = makeClient(d.http, config)
  const configured = Effect.suspend(() =>
    config.paymentProvider === "stripe" && config.stripeSecretKey !== undefined
      ? Effect.void
      : Effect.fail(
          new Conflict({
            message: "the stripe provider is not configured (paymentProvider and stripeSecretKey)",
            code: "provider_not_configured"
          })
        )
  )

  /** Attaches the payment method of a SetupIntent the caller confirmed: token and display data only. */
  const attach = (userId: string, setupIntentId: string, isDefault: boolean) =>
    Effect.gen(function* () {
      yield* configured
      const mine = yield* Effect.orDie(
        sql`SELECT id FROM stripe_setup_intents WHERE id = ${setupIntentId} AND user_id = ${userId}`
      )
      if (mine.length === 0) return yield* new NotFound({ resource: "setup intent", id: setupIntentId })
      const intent = yield* client.get(`/v1/setup_intents/${encodeURIComponent(setupIntentId)}`)
      if (intent.status !== 200)
        return yield* new PaymentProviderError({ message: `Stripe answered ${intent.status} for the setup intent` })
      if (str(intent.body.status) !== "succeeded")
        return yield* new Conflict({
          message: `the setup intent is ${str(intent.body.status) ?? "unknown"}: confirm it in the browser first`,
          code: "setup_incomplete"
        })
      const pm = str(intent.body.payment_method) ?? str(record(intent.body.payment_method).id)
      if (!pm || !/^pm_[A-Za-z0-9_]+$/.test(pm))
        return yield* new PaymentProviderError({ message: "the setup intent has no payment method" })
      const method = yield* client.get(`/v1/payment_methods/${encodeURIComponent(pm)}`)
      if (method.status !== 200)
        return yield* new PaymentProviderError({ message: `Stripe answered ${method.status} for the payment method` })
      const card = record(method.body.card)
      const last4 = str(card.last4)
      const display = {
        brand: str(card.brand)?.slice(0, 40) ?? null,
        last4: last4 && /^\d{4}$/.test(last4) ? last4 : null,
        exp_month: int(card.exp_month) ?? null,
        exp_year: int(card.exp_year) ?? null
      }
      const at = yield* Timestamps.now
      return yield* Effect.orDie(
        sql.withTransaction(
          Effect.gen(function* () {
            const [existing] = yield* sql<{ id: string }>`
              SELECT id::text AS id FROM payment_methods WHERE user_id = ${userId} AND provider = 'stripe' AND token = ${pm}`
            if (isDefault) yield* sql`UPDATE payment_methods SET is_default = false WHERE user_id = ${userId}`
            if (existing) {
              yield* sql`UPDATE payment_methods SET is_default = is_default OR ${isDefault} WHERE id = ${existing.id}::uuid`
              return existing.id
            }
            const id = crypto.randomUUID()
            yield* sql`
              INSERT INTO payment_methods (id, user_id, provider, token, brand, last4, exp_month, exp_year, is_default, created_at)
              VALUES (${id}::uuid, ${userId}, 'stripe', ${pm}, ${display.brand}, ${display.last4}, ${display.exp_month},
                ${display.exp_year}, ${isDefault}, ${at})`
            return id
          })
        )
      )
    })

  interface PaymentRow {
    id: string
    invoice_id: string
    user_id: string
    intent_id: string | null
    status: "pending" | "succeeded" | "failed"
    amount_minor: string
    currency: string
    failure: string | null
  }
  const paymentColumns = sql`id::text AS id, invoice_id::text AS invoice_id, user_id, intent_id, status,
    amount_minor::text AS amount_minor, currency, failure`
  const toPayment = (r: PaymentRow) => ({
    id: r.id,
    invoiceId: r.invoice_id,
    provider: "stripe",
    intentId: r.intent_id,
    status: r.status,
    amount: formatMinor(BigInt(r.amount_minor)),
    currency: r.currency,
    failure: r.failure
  })

  const failed = (payment: PaymentRow, reason: string) =>
    Effect.gen(function* () {
      const at = yield* Timestamps.now
      const rows = yield* sql<{
        id: string
      }>`UPDATE payments SET status = 'failed', failure = ${reason.slice(0, 500)}, updated_at = ${at}
        WHERE id = ${payment.id}::uuid AND status = 'pending' RETURNING id::text AS id`
      if (rows.length === 0) return
      const invoice = yield* invoices.get(payment.invoice_id)
      yield* events.publish(PaymentFailed, {
        invoiceId: invoice.id,
        number: invoice.number,
        userId: invoice.userId,
        paymentId: payment.id,
        currency: invoice.currency,
        total: invoice.total,
        reason: reason.slice(0, 500)
      })
    })

  const succeeded = (payment: PaymentRow, intentId: string) =>
    Effect.gen(function* () {
      const at = yield* Timestamps.now
      yield* sql`UPDATE payments SET status = 'succeeded', intent_id = COALESCE(intent_id, ${intentId}), failure = NULL,
        updated_at = ${at} WHERE id = ${payment.id}::uuid AND status <> 'succeeded'`
      // Paid once: an invoice already paid (a replay, a second event) stays as it is; a void one is not revived.
      yield* Effect.catchTag(invoices.transition(payment.invoice_id, "pay", intentId), "Conflict", () => Effect.void)
    })

  /** Charges an open invoice with the user's (given or default) Stripe payment method. */
  const charge = (invoiceId: string, actor: Actor.Actor, paymentMethodId: string | undefined) =>
    Effect.gen(function* () {
      yield* configured
      const invoice = yield* invoices.get(invoiceId)
      if (!Actor.hasPermission(actor, ADMIN) && invoice.userId !== Actor.actorId(actor))
        return yield* new NotFound({ resource: "invoice", id: invoiceId })
      if (invoice.status !== "open" && invoice.status !== "uncollectible")
        return yield* new Conflict({
          message: `an invoice that is ${invoice.status} cannot be charged`,
          code: "invalid_transition"
        })
      if (invoice.totalMinor <= 0)
        return yield* new Conflict({
          message: "the invoice's total is zero: nothing to charge",
          code: "nothing_to_charge"
        })
      const [method] = yield* sql<{ id: string; token: string }>`
        SELECT id::text AS id, token FROM payment_methods
        WHERE user_id = ${invoice.userId} AND provider = 'stripe' AND token IS NOT NULL
          ${paymentMethodId ? sql`AND id = ${paymentMethodId}::uuid` : sql``}
        ORDER BY is_default DESC, created_at DESC LIMIT 1`
      if (!method)
        return paymentMethodId
          ? yield* new NotFound({ resource: "payment method", id: paymentMethodId })
          : yield* new Conflict({ message: "no Stripe payment method on file", code: "no_payment_method" })
      // One payment in flight per invoice; one left without an answer from Stripe is retried with its own key.
      const payment = yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`SELECT id FROM invoices WHERE id = ${invoiceId}::uuid FOR UPDATE`
          const [pending] = yield* sql<PaymentRow>`
            SELECT ${paymentColumns} FROM payments WHERE invoice_id = ${invoiceId}::uuid AND status <> 'failed'
            ORDER BY created_at DESC LIMIT 1`
          if (pending?.status === "succeeded")
            return yield* new Conflict({ message: "the invoice is already paid", code: "invalid_transition" })
          if (pending?.intent_id)
            return yield* new Conflict({
              message: `a payment of this invoice is in progress (${pending.intent_id})`,
              code: "payment_pending"
            })
          if (pending) return pending
          const at = yield* Timestamps.now
          const [row] = yield* sql<PaymentRow>`
            INSERT INTO payments (id, invoice_id, user_id, provider, payment_method_id, amount_minor, currency, status, created_at, updated_at)
            VALUES (${crypto.randomUUID()}::uuid, ${invoiceId}::uuid, ${invoice.userId}, 'stripe', ${method.id}::uuid,
              ${String(invoice.totalMinor)}::bigint, ${invoice.currency}, 'pending', ${at}, ${at})
            RETURNING ${paymentColumns}`
          return row!
        })
      )
      const answer = yield* client.post(
        "/v1/payment_intents",
        stripeForm({
          amount: payment.amount_minor,
          currency: payment.currency.toLowerCase(),
          payment_method: method.token,
          confirm: true,
          off_session: true,
          "metadata[invoiceId]": invoiceId,
          "metadata[paymentId]": payment.id,
          description: `Invoice ${invoice.number ?? invoiceId}`
        }),
        `streamspace-payment-${payment.id}`
      )
      const error = record(answer.body.error)
      const intentId = str(answer.body.id) ?? str(record(error.payment_intent).id) ?? null
      yield* sql.withTransaction(
        Effect.gen(function* () {
          if (intentId) yield* sql`UPDATE payments SET intent_id = ${intentId} WHERE id = ${payment.id}::uuid`
          if (answer.status === 200 && str(answer.body.status) === "succeeded")
            yield* succeeded(payment, intentId ?? "")
          else if (answer.status !== 200)
            yield* failed(payment, str(error.message) ?? `Stripe answered ${answer.status}`)
        })
      )
      const [row] = yield* sql<PaymentRow>`SELECT ${paymentColumns} FROM payments WHERE id = ${payment.id}::uuid`
      if (row!.status === "failed") return yield* new PaymentDeclined({ message: row!.failure ?? "the payment failed" })
      return { payment: toPayment(row!), invoice: yield* invoices.get(invoiceId) }
    })

  /** A verified Stripe event: handled once by its id. */
  const handleEvent = (event: { id: string; type: string; object: Record<string, unknown> }) =>
    Effect.gen(function* () {
      const at = yield* Timestamps.now
      const fresh = yield* sql`INSERT INTO provider_events (id, provider, type, received_at)
        VALUES (${event.id}, 'stripe', ${event.type}, ${at}) ON CONFLICT DO NOTHING RETURNING id`
      if (fresh.length === 0) return { received: true, handled: false, duplicate: true }
      if (event.type !== "payment_intent.succeeded" && event.type !== "payment_intent.payment_failed")
        return { received: true, handled: false, duplicate: false }
      const intentId = str(event.object.id) ?? ""
      const paymentId = str(record(event.object.metadata).paymentId)
      const [payment] = yield* sql<PaymentRow>`
        SELECT ${paymentColumns} FROM payments
        WHERE intent_id = ${intentId} ${paymentId && /^[0-9a-f-]{36}$/i.test(paymentId) ? sql`OR id = ${paymentId}::uuid` : sql``}
        LIMIT 1`
      // Only payments this plugin started settle invoices.
      if (!payment) return { received: true, handled: false, duplicate: false }
      yield* sql`SELECT id FROM invoices WHERE id = ${payment.invoice_id}::uuid FOR UPDATE`
      if (event.type === "payment_intent.succeeded") yield* succeeded(payment, intentId)
      else yield* failed(payment, str(record(event.object.last_payment_error).message) ?? "the payment failed")
      return { received: true, handled: true, duplicate: false }
    })

  return { attach, charge, handleEvent, client, configured }
}
export type StripeService = ReturnType<typeof makeStripe>

export const addStripeRoutes = (d: StripeDeps, stripe: StripeService) =>
  Effect.gen(function* () {
    const { sql, routes, config } = d
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/payment-methods/setup-intent",
        summary:
          "Start adding a card with Stripe: a SetupIntent whose client secret the browser confirms with Stripe.js",
        permission: "billing:write",
        rateLimit: "strict",
        transactional: false,
        response: Schema.Struct({ setupIntentId: Schema.String, clientSecret: Schema.String }),
        successStatus: 201,
        errors: [Conflict, PaymentProviderError, ServiceUnavailable],
        audit: { action: "billing.payment-method.setup", target: (_i, r) => r.setupIntentId },
        handler: ({ actor }) =>
          Effect.gen(function* () {
            yield* stripe.configured
            const userId = Actor.actorId(actor) ?? ""
            const answer = yield* stripe.client.post(
              "/v1/setup_intents",
              stripeForm({ usage: "off_session", payment_method_types: ["card"], "metadata[userId]": userId })
            )
            const id = str(answer.body.id)
            const secret = str(answer.body.client_secret)
            if (answer.status !== 200 || !id || !secret || !/^seti_[A-Za-z0-9_]+$/.test(id))
              return yield* new PaymentProviderError({
                message: `Stripe answered ${answer.status} for the setup intent`
              })
            const at = yield* Timestamps.now
            yield* Effect.orDie(
              sql`INSERT INTO stripe_setup_intents (id, user_id, created_at) VALUES (${id}, ${userId}, ${at}) ON CONFLICT DO NOTHING`
            )
            return { setupIntentId: id, clientSecret: secret }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/invoices/:id/charge",
        summary: "Charge an open invoice with a Stripe payment method (the given one, else the default)",
        permission: "billing:write",
        rateLimit: "strict",
        transactional: false,
        params: Schema.Struct({ id: Schema.UUID }),
        body: Schema.Struct({ paymentMethodId: Schema.optional(Schema.UUID) }),
        response: Schema.Struct({ payment: PaymentJson, invoice: Invoice }),
        errors: [NotFound, Conflict, PaymentDeclined, PaymentProviderError, ServiceUnavailable],
        audit: { action: "billing.invoice.charge", target: (i) => i.params.id },
        handler: ({ params, body, actor }) =>
          Effect.catchTag(stripe.charge(params.id, actor, body.paymentMethodId), "SqlError", Effect.die)
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/webhooks/stripe",
        summary:
          "Stripe's webhook: payment_intent.succeeded / .payment_failed, verified by the Stripe-Signature header",
        permission: "public",
        body: "raw",
        response: Schema.Struct({ received: Schema.Boolean, handled: Schema.Boolean, duplicate: Schema.Boolean }),
        errors: [Unauthorized, ServiceUnavailable],
        audit: { action: "billing.stripe.webhook" },
        handler: ({ request }) =>
          Effect.gen(function* () {
            const secret = config.stripeWebhookSecret
            if (secret === undefined)
              return yield* new ServiceUnavailable({
                message: "stripe webhooks are not configured (stripeWebhookSecret)"
              })
            const header = request.headers.get("stripe-signature")
            if (!header)
              return yield* ValidationError.field("headers.stripe-signature", "the Stripe-Signature header is required")
            const raw = yield* Effect.promise(() => request.text())
            if (raw.length > 1_000_000) return yield* ValidationError.field("body", "at most 1 MB")
            const now = Math.floor((yield* Timestamps.now).getTime() / 1000)
            const check = verifySignature(header, raw, secret, now)
            if (check === "malformed")
              return yield* ValidationError.field("headers.stripe-signature", "expected t=<seconds>,v1=<hex signature>")
            if (check === "mismatch")
              return yield* new Unauthorized({ message: "the Stripe-Signature does not match the body" })
            if (check === "stale")
              return yield* new Unauthorized({ message: "the Stripe-Signature's timestamp is more than 5 minutes off" })
            let parsed: Record<string, unknown>
            try {
              parsed = record(JSON.parse(raw))
            } catch {
              return yield* ValidationError.field("body", "not JSON")
            }
            const id = str(parsed.id)
            const type = str(parsed.type)
            if (!id || id.length > 255) return yield* ValidationError.field("body.id", "the event's id is required")
            if (!type || type.length > 255)
              return yield* ValidationError.field("body.type", "the event's type is required")
            return yield* Effect.orDie(stripe.handleEvent({ id, type, object: record(record(parsed.data).object) }))
          })
      })
    )
  })
