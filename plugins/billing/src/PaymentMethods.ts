/**
 * Payment methods by reference only: provider tokens and display data
 * (brand, last4, expiry), never card numbers or CVV. A body carrying a
 * card number (a `number`/`cardNumber`/`pan` field, a `cvc`/`cvv` field, or
 * any 13–19 digit Luhn-valid string) is refused 400 naming the field.
 * Providers: `manual` (display data only; invoices marked paid by an admin)
 * and `stripe` (a SetupIntent the caller confirmed in the browser: see
 * Stripe.ts).
 */
import type { SqlClient } from "@effect/sql"
import {
  Actor,
  Conflict,
  HttpRoute,
  NotFound,
  ServiceUnavailable,
  Text,
  Timestamps,
  ValidationError
} from "@streamspace/core"
import type { Routes } from "@streamspace/kernel"
import { Effect, Schema } from "effect"
import { PaymentProviderError, type StripeService } from "./Stripe.ts"

const luhn = (digits: string) => {
  let total = 0
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i])
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    total += d
  }
  return total % 10 === 0
}

/** Whether a string holds a card number (13–19 digits, spaces or dashes allowed, Luhn-valid). */
export const looksLikePan = (s: string) => {
  const digits = s.replace(/[\s-]/g, "")
  return /^\d{13,19}$/.test(digits) && luhn(digits)
}

const refused = (what: string) =>
  Schema.optional(
    Schema.Unknown.pipe(
      Schema.filter(() => false, {
        message: () => `${what} are never accepted: tokenize the card with the payment provider and send its token`
      })
    )
  )
const NoPan = (schema: Schema.Schema<string>) =>
  schema.pipe(
    Schema.filter((s) => !looksLikePan(s), { message: () => "looks like a card number: send a provider token" })
  )

const Method = Schema.Struct({
  id: Schema.String,
  userId: Schema.String,
  provider: Schema.String,
  brand: Schema.NullOr(Schema.String),
  last4: Schema.NullOr(Schema.String),
  expMonth: Schema.NullOr(Schema.Number),
  expYear: Schema.NullOr(Schema.Number),
  isDefault: Schema.Boolean,
  createdAt: Schema.Date
})

interface Row {
  id: string
  user_id: string
  provider: string
  brand: string | null
  last4: string | null
  exp_month: number | null
  exp_year: number | null
  is_default: boolean
  created_at: Date
}
const toMethod = (r: Row) => ({
  id: r.id,
  userId: r.user_id,
  provider: r.provider,
  brand: r.brand,
  last4: r.last4,
  expMonth: r.exp_month,
  expYear: r.exp_year,
  isDefault: r.is_default,
  createdAt: new Date(r.created_at)
})

export const addPaymentMethodRoutes = (sql: SqlClient.SqlClient, routes: Routes["Type"], stripe: StripeService) =>
  Effect.gen(function* () {
    const self = (actor: Actor.Actor) => Actor.actorId(actor) ?? ""
    const columns = sql`id::text AS id, user_id, provider, brand, last4, exp_month, exp_year, is_default, created_at`
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/payment-methods",
        summary: "Your payment methods (display data only)",
        permission: "billing:read",
        response: Schema.Struct({ items: Schema.Array(Method) }),
        handler: ({ actor }) =>
          Effect.map(
            Effect.orDie(
              sql<Row>`SELECT ${columns} FROM payment_methods WHERE user_id = ${self(actor)} ORDER BY created_at`
            ),
            (rows) => ({ items: rows.map(toMethod) })
          )
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/payment-methods",
        summary: "Add a payment method: a provider token and display data; card numbers and CVV are refused",
        permission: "billing:write",
        rateLimit: "strict",
        body: Schema.Struct({
          provider: Schema.Literal("manual", "stripe"),
          token: Schema.optional(NoPan(Text.Line)),
          setupIntentId: Schema.optional(
            Text.Short.pipe(
              Schema.pattern(/^seti_[A-Za-z0-9_]+$/, { message: () => "a Stripe SetupIntent id (seti_…)" })
            )
          ),
          brand: Schema.optional(NoPan(Text.Short)),
          last4: Schema.optional(Schema.String.pipe(Schema.pattern(/^\d{4}$/, { message: () => "exactly 4 digits" }))),
          expMonth: Schema.optional(Schema.Int.pipe(Schema.between(1, 12))),
          expYear: Schema.optional(Schema.Int.pipe(Schema.between(2000, 2100))),
          isDefault: Schema.optionalWith(Schema.Boolean, { default: () => false }),
          number: refused("card numbers"),
          cardNumber: refused("card numbers"),
          pan: refused("card numbers"),
          cvc: refused("card security codes"),
          cvv: refused("card security codes")
        }),
        response: Method,
        successStatus: 201,
        transactional: false,
        errors: [NotFound, Conflict, PaymentProviderError, ServiceUnavailable],
        audit: { action: "billing.payment-method.add", target: (_i, m) => m.id },
        handler: ({ body, actor }) =>
          Effect.gen(function* () {
            const user = self(actor)
            if (body.provider === "stripe") {
              // The token and the display data come from Stripe, never from the request.
              for (const field of ["token", "brand", "last4", "expMonth", "expYear"] as const)
                if (body[field] !== undefined)
                  return yield* ValidationError.field(`body.${field}`, "comes from Stripe: send only setupIntentId")
              if (body.setupIntentId === undefined)
                return yield* ValidationError.field(
                  "body.setupIntentId",
                  "required for stripe: the SetupIntent confirmed in the browser"
                )
              const id = yield* stripe.attach(user, body.setupIntentId, body.isDefault)
              const [row] = yield* Effect.orDie(sql<Row>`SELECT ${columns} FROM payment_methods WHERE id = ${id}::uuid`)
              return toMethod(row!)
            }
            if (body.token !== undefined)
              return yield* ValidationError.field("body.token", "the manual provider takes no token")
            if (body.setupIntentId !== undefined)
              return yield* ValidationError.field("body.setupIntentId", "only for the stripe provider")
            const at = yield* Timestamps.now
            const id = crypto.randomUUID()
            const [row] = yield* Effect.orDie(
              sql.withTransaction(
                Effect.gen(function* () {
                  if (body.isDefault) yield* sql`UPDATE payment_methods SET is_default = false WHERE user_id = ${user}`
                  return yield* sql<Row>`
                    INSERT INTO payment_methods (id, user_id, provider, token, brand, last4, exp_month, exp_year, is_default, created_at)
                    VALUES (${id}::uuid, ${user}, 'manual', NULL, ${body.brand ?? null}, ${body.last4 ?? null}, ${body.expMonth ?? null},
                      ${body.expYear ?? null}, ${body.isDefault}, ${at})
                    RETURNING ${columns}`
                })
              )
            )
            return toMethod(row!)
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "DELETE",
        path: "/payment-methods/:id",
        summary: "Remove one of your payment methods",
        permission: "billing:write",
        params: Schema.Struct({ id: Schema.UUID }),
        errors: [NotFound],
        handler: ({ params, actor }) =>
          Effect.gen(function* () {
            const rows = yield* Effect.orDie(
              sql`DELETE FROM payment_methods WHERE id = ${params.id}::uuid AND user_id = ${self(actor)} RETURNING id`
            )
            if (rows.length === 0) return yield* new NotFound({ resource: "payment method", id: params.id })
          })
      })
    )
  })
