/** The billing plugin's config: its JSON Schema feeds the admin form; provider secrets are sealed at rest. */
import { HttpUrl } from "@streamspace/core"
import { PluginConfig } from "@streamspace/kernel"
import { Schema } from "effect"
import { toNano } from "./Money.ts"

const Rate = (def: number, description: string) =>
  Schema.optionalWith(
    Schema.Number.pipe(
      Schema.nonNegative(),
      Schema.lessThanOrEqualTo(1_000_000),
      Schema.filter((n) => toNano(n) !== undefined, { message: () => "at most 9 decimals" }),
      Schema.annotations({ description })
    ),
    { default: () => def }
  )

export const Pricing = Schema.Struct({
  cpuHourRate: Rate(0.01, "Price of one CPU core for one hour"),
  memoryGBRate: Rate(0.005, "Price of one GB (GiB) of memory for one hour"),
  storageGBRate: Rate(0.1, "Price of one GB (GiB) of storage for one month of 730 hours")
})

export const InvoiceGeneration = Schema.Struct({
  autoGenerate: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  dayOfMonth: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 28)), { default: () => 1 }),
  dueDays: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 120)), { default: () => 14 })
})

export const Quotas = Schema.Struct({
  alertThreshold: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 100)), { default: () => 80 }),
  autoSuspendOnOverage: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  gracePeriodDays: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 30)), { default: () => 7 })
})

export const BillingConfig = Schema.Struct({
  currency: Schema.optionalWith(Schema.Literal("USD", "EUR", "GBP"), { default: () => "USD" as const }),
  billingCycle: Schema.optionalWith(Schema.Literal("monthly", "quarterly", "annual"), {
    default: () => "monthly" as const
  }),
  pricing: Schema.optionalWith(Pricing, { default: () => Schema.decodeSync(Pricing)({}) }),
  invoiceGeneration: Schema.optionalWith(InvoiceGeneration, {
    default: () => Schema.decodeSync(InvoiceGeneration)({})
  }),
  quotas: Schema.optionalWith(Quotas, { default: () => Schema.decodeSync(Quotas)({}) }),
  paymentProvider: Schema.optionalWith(Schema.Literal("manual", "stripe"), { default: () => "manual" as const }),
  /** Where Stripe's REST API is (a stand-in in tests); the egress policy applies. */
  stripeApiBase: Schema.optionalWith(HttpUrl, { default: () => "https://api.stripe.com" }),
  /** Stripe's secret API key (sk_…): sealed at rest, never returned. */
  stripeSecretKey: Schema.optional(PluginConfig.secret(Schema.String.pipe(Schema.minLength(8)))),
  /** The signing secret of Stripe webhooks (whsec_…): sealed at rest, never returned. */
  stripeWebhookSecret: Schema.optional(PluginConfig.secret(Schema.String.pipe(Schema.minLength(8))))
})
export type BillingConfig = Schema.Schema.Type<typeof BillingConfig>
