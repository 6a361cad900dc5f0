/**
 * Billing settings per user: contact e-mail, company name, tax id and address
 * lines, shown on the invoice PDF ("Bill to"). `GET /settings` (yours; an
 * admin reads anyone's with `?userId=`), `PUT /settings` (yours: the whole
 * document, a missing field is cleared). Bad input is 400 naming the field.
 */
import type { SqlClient } from "@effect/sql"
import { Actor, Forbidden, HttpRoute, Text, Timestamps } from "@streamspace/core"
import type { Routes } from "@streamspace/kernel"
import { Effect, Schema } from "effect"

const ADMIN = "billing:admin"

const Email = Schema.String.pipe(
  Schema.maxLength(254),
  Schema.pattern(/^[^\s@"<>,;]{1,64}@[^\s@"<>,;]+\.[^\s@"<>,;]{2,}$/, { message: () => "an e-mail address" })
)
const TaxId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9 .\-/]{1,31}$/, {
    message: () => "2–32 letters, digits, spaces, dots, dashes or slashes"
  })
)
const Line = Text.Short.pipe(
  Schema.minLength(1),
  Schema.maxLength(100),
  Schema.pattern(/^[^\r\n\t]*$/, { message: () => "one line (no line breaks)" })
)

export const SettingsBody = Schema.Struct({
  billingEmail: Schema.optionalWith(Schema.NullOr(Email), { default: () => null }),
  companyName: Schema.optionalWith(Schema.NullOr(Line), { default: () => null }),
  taxId: Schema.optionalWith(Schema.NullOr(TaxId), { default: () => null }),
  addressLines: Schema.optionalWith(Schema.Array(Line).pipe(Schema.maxItems(5)), { default: () => [] })
})

export const Settings = Schema.Struct({
  userId: Schema.String,
  billingEmail: Schema.NullOr(Schema.String),
  companyName: Schema.NullOr(Schema.String),
  taxId: Schema.NullOr(Schema.String),
  addressLines: Schema.Array(Schema.String),
  updatedAt: Schema.NullOr(Schema.Date)
})
export type Settings = Schema.Schema.Type<typeof Settings>

interface Row {
  user_id: string
  billing_email: string | null
  company_name: string | null
  tax_id: string | null
  address_lines: ReadonlyArray<string> | null
  updated_at: Date
}

/** A user's settings (empty when never saved). */
export const settingsOf = (sql: SqlClient.SqlClient, userId: string) =>
  Effect.map(
    sql<Row>`SELECT user_id, billing_email, company_name, tax_id, address_lines, updated_at
      FROM billing_settings WHERE user_id = ${userId}`,
    ([r]): Settings =>
      r
        ? {
            userId,
            billingEmail: r.billing_email,
            companyName: r.company_name,
            taxId: r.tax_id,
            addressLines: r.address_lines ?? [],
            updatedAt: new Date(r.updated_at)
          }
        : { userId, billingEmail: null, companyName: null, taxId: null, addressLines: [], updatedAt: null }
  )

export const addSettingsRoutes = (d: { sql: SqlClient.SqlClient; routes: Routes["Type"] }) =>
  Effect.gen(function* () {
    const { sql, routes } = d
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/settings",
        summary: "Billing settings (contact e-mail, company, tax id, address): yours; an admin's: userId's",
        permission: "billing:read",
        query: Schema.Struct({ userId: Schema.optional(Text.Id) }),
        response: Settings,
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const self = Actor.actorId(actor)
            const userId = query.userId ?? self
            if (userId === null) return yield* new Forbidden({ message: "a user is required" })
            if (userId !== self && !Actor.hasPermission(actor, ADMIN))
              return yield* new Forbidden({ message: `only ${ADMIN} reads other users' billing`, permission: ADMIN })
            return yield* Effect.orDie(settingsOf(sql, userId))
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "PUT",
        path: "/settings",
        summary: "Replace your billing settings (shown on your invoices)",
        permission: "billing:write",
        body: SettingsBody,
        response: Settings,
        audit: { action: "billing.settings.update" },
        handler: ({ body, actor }) =>
          Effect.gen(function* () {
            const userId = Actor.actorId(actor)
            if (userId === null) return yield* new Forbidden({ message: "a user is required" })
            const at = yield* Timestamps.now
            yield* Effect.orDie(sql`
              INSERT INTO billing_settings (user_id, billing_email, company_name, tax_id, address_lines, updated_at)
              VALUES (${userId}, ${body.billingEmail}, ${body.companyName}, ${body.taxId}, ${[...body.addressLines]}::text[], ${at})
              ON CONFLICT (user_id) DO UPDATE SET billing_email = EXCLUDED.billing_email, company_name = EXCLUDED.company_name,
                tax_id = EXCLUDED.tax_id, address_lines = EXCLUDED.address_lines, updated_at = EXCLUDED.updated_at`)
            return yield* Effect.orDie(settingsOf(sql, userId))
          })
      })
    )
  })
