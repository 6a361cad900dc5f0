/**
 * Billing (`streamspace-billing` in the migration plan): meters sessions
 * from the core's session events (durable, idempotent), prices usage with
 * effective-dated rules in exact integer money, and issues invoices (PDF,
 * CSV) with gapless numbers per year. See docs/plugins/billing.md.
 */
import { HttpClient } from "@effect/platform"
import { Directory, Timestamps } from "@streamspace/core"
import {
  definePlugin,
  Events,
  Hooks,
  method,
  PluginConfig,
  PluginSql,
  PluginStorage,
  Routes,
  Scheduler
} from "@streamspace/kernel"
import { Effect, Layer, Option, Schema } from "effect"
import schema from "../migrations/0001_billing.sql" with { type: "text" }
import spendLimits from "../migrations/0002_spend_limits.sql" with { type: "text" }
import legacy from "../migrations/0003_legacy.sql" with { type: "text" }
import storageStripeSettings from "../migrations/0004_storage_stripe_settings.sql" with { type: "text" }
import { BillingConfig } from "./Config.ts"
import { addQuotaRoutes, addRoutes } from "./Http.ts"
import { addPaymentMethodRoutes } from "./PaymentMethods.ts"
import { InvoiceCreated, InvoicePaid, makeInvoices } from "./Invoices.ts"
import { priced, sum } from "./Ledger.ts"
import { makeMeter, SessionPayload } from "./Metering.ts"
import { formatMinor, quantityDisplay, type Resource, toNano } from "./Money.ts"
import { duePeriod, floorHour, HOUR_MS } from "./Periods.ts"
import { makeQuotas, QuotaExceeded, QuotaWarning } from "./Quotas.ts"
import { addSettingsRoutes } from "./Settings.ts"
import { FilePayload, makeStorageMeter } from "./Storage.ts"
import { addStripeRoutes, makeStripe, PaymentFailed } from "./Stripe.ts"

export { BillingConfig } from "./Config.ts"
export { parseCsv, toCsv } from "./Documents.ts"
export * as Forecast from "./Forecast.ts"
export { InvoiceCreated, InvoicePaid } from "./Invoices.ts"
export * as Money from "./Money.ts"
export * as Periods from "./Periods.ts"
export { QuotaExceeded, QuotaWarning } from "./Quotas.ts"
export { PaymentFailed, signatureHeader, stripeForm, verifySignature } from "./Stripe.ts"

const fallbackOf = (config: BillingConfig): Record<Resource, bigint> => ({
  cpu: toNano(config.pricing.cpuHourRate) ?? 0n,
  memory: toNano(config.pricing.memoryGBRate) ?? 0n,
  storage: toNano(config.pricing.storageGBRate) ?? 0n
})

/** For workflows: the cost of one session so far (usage rolled up to the last whole hour). */
export const calculateCost = method("calculateCost", {
  input: Schema.Struct({ sessionId: Schema.String }),
  output: Schema.Struct({
    sessionId: Schema.String,
    currency: Schema.String,
    cpuCoreHours: Schema.String,
    memoryGBHours: Schema.String,
    storageGBMonths: Schema.String,
    total: Schema.String,
    totalMinor: Schema.Number
  }),
  handler: ({ sessionId }) =>
    Effect.gen(function* () {
      const config = yield* PluginConfig.get(BillingConfig)
      const sql = yield* PluginSql
      const lines = yield* priced(sql, fallbackOf(config), {
        from: new Date(0),
        to: new Date(floorHour((yield* Timestamps.now).getTime()) + HOUR_MS),
        sessionIds: [sessionId]
      })
      const q = (r: Resource) => lines.filter((l) => l.resource === r).reduce((a, l) => a + l.quantity, 0n)
      return {
        sessionId,
        currency: config.currency,
        cpuCoreHours: quantityDisplay("cpu", q("cpu")),
        memoryGBHours: quantityDisplay("memory", q("memory")),
        storageGBMonths: quantityDisplay("storage", q("storage")),
        total: formatMinor(sum(lines)),
        totalMinor: Number(sum(lines))
      }
    })
})

const RecordedRates = Schema.Struct({ cpu: Schema.String, memory: Schema.String, storage: Schema.String })

const BillingLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    const config = yield* PluginConfig.get(BillingConfig)
    const sql = yield* PluginSql
    const events = yield* Events
    const storage = yield* PluginStorage
    const directory = yield* Directory.Directory
    const fallback = fallbackOf(config)
    const meter = makeMeter(sql, directory)
    const storageMeter = makeStorageMeter(sql)
    const invoices = makeInvoices(sql, events, directory, config, fallback)
    const quotas = makeQuotas(sql, events, directory, config, fallback)

    // The config's base rates as dated rules: from the epoch the first time, from the next whole hour after a change.
    const rates = {
      cpu: (toNano(config.pricing.cpuHourRate) ?? 0n).toString(),
      memory: (toNano(config.pricing.memoryGBRate) ?? 0n).toString(),
      storage: (toNano(config.pricing.storageGBRate) ?? 0n).toString()
    }
    const recorded = yield* Effect.orDie(storage.get("config-rates", RecordedRates))
    const changed = Option.match(recorded, {
      onNone: () => ["cpu", "memory", "storage"] as const,
      onSome: (r) => (["cpu", "memory", "storage"] as const).filter((k) => r[k] !== rates[k])
    })
    if (changed.length > 0) {
      const now = yield* Timestamps.now
      const from = Option.isNone(recorded) ? new Date(0) : new Date(floorHour(now.getTime()) + HOUR_MS)
      yield* sql.withTransaction(
        Effect.gen(function* () {
          for (const resource of changed)
            yield* sql`INSERT INTO price_rules (scope, scope_id, resource, rate_nano, effective_from, created_at, created_by)
              VALUES ('base', '', ${resource}, ${rates[resource]}::bigint, ${from}, ${now}, 'config')
              ON CONFLICT (scope, scope_id, resource, effective_from) DO UPDATE SET rate_nano = EXCLUDED.rate_nano`
          yield* storage.set("config-rates", rates, RecordedRates)
        })
      )
    }

    yield* events.subscribeBatch(
      { name: "metering", types: ["session.*"], schema: SessionPayload, maxBatch: 200, maxAttempts: 8 },
      meter.handle
    )
    yield* events.subscribeBatch(
      {
        name: "storage-metering",
        types: ["file.uploaded", "file.deleted"],
        schema: FilePayload,
        maxBatch: 200,
        maxAttempts: 8
      },
      storageMeter.handle
    )
    // Last of the hooks, so the size it records is the one the session gets; refuses users suspended for overage.
    yield* (yield* Hooks).intercept(
      "session.beforeCreate",
      (input) => Effect.zipRight(quotas.gate(input.userId), Effect.as(Effect.orDie(meter.recordSizing(input)), input)),
      { order: 10_000 }
    )

    const scheduler = yield* Scheduler
    // Usage rows up to the last whole hour, then spend against limits.
    yield* scheduler.schedule(
      "rollup",
      { every: "1 hour" },
      Effect.gen(function* () {
        const now = yield* Timestamps.now
        yield* meter.rollUp(new Date(floorHour(now.getTime())))
        yield* quotas.check
      })
    )
    yield* scheduler.schedule(
      "generate-invoices",
      { every: "1 hour" },
      Effect.gen(function* () {
        if (!config.invoiceGeneration.autoGenerate) return
        const now = yield* Timestamps.now
        const due = duePeriod(config.billingCycle, config.invoiceGeneration.dayOfMonth, now)
        if (!due) return
        yield* meter.rollUp(new Date(floorHour(now.getTime())))
        yield* invoices.generate(due, { finalize: true })
      })
    )

    yield* addRoutes({ sql, routes: yield* Routes, directory, config, fallback, invoices, meter })
    yield* addQuotaRoutes({ sql, routes: yield* Routes, config })
    const routes = yield* Routes
    const stripeDeps = { sql, routes, config, invoices, events, http: yield* HttpClient.HttpClient }
    const stripe = makeStripe(stripeDeps)
    yield* addPaymentMethodRoutes(sql, routes, stripe)
    yield* addStripeRoutes(stripeDeps, stripe)
    yield* addSettingsRoutes({ sql, routes })
  })
)

export default definePlugin({
  id: "billing",
  name: "Billing",
  version: "1.0.0",
  type: "extension",
  category: "enterprise",
  description: "Metering from session events, exact money, effective-dated pricing, invoices (PDF/CSV), forecasts",
  permissions: [
    { name: "billing:read", description: "See your own costs, usage and invoices", roles: ["user", "operator"] },
    { name: "billing:write", description: "Generate your own invoices for a past period", roles: ["user", "operator"] },
    { name: "billing:admin", description: "See everyone's billing, set prices, grant credits, settle invoices" }
  ],
  config: BillingConfig,
  migrations: [
    { id: 1, name: "billing", sql: schema },
    { id: 2, name: "spend-limits", sql: spendLimits },
    { id: 3, name: "payment-methods-and-legacy", sql: legacy },
    { id: 4, name: "storage-stripe-settings", sql: storageStripeSettings }
  ],
  events: Events.declare(InvoiceCreated, InvoicePaid, PaymentFailed, QuotaWarning, QuotaExceeded),
  layer: BillingLive,
  ui: [
    {
      kind: "widget",
      id: "billing-summary",
      title: "Billing",
      component: "ui/BillingWidget.tsx",
      width: "small",
      permissions: ["billing:admin"]
    },
    {
      kind: "page",
      id: "billing-admin",
      title: "Billing",
      path: "admin",
      nav: "admin",
      permissions: ["billing:admin"],
      component: "ui/AdminPage.tsx"
    },
    {
      kind: "page",
      id: "billing-usage",
      title: "Billing & usage",
      path: "usage",
      nav: "portal",
      permissions: ["billing:read"],
      component: "ui/UsagePage.tsx"
    }
  ],
  methods: { calculateCost }
})
