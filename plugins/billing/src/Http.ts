/**
 * The routes under /api/plugins/billing. Users see their own costs, usage
 * and invoices (`billing:read`); `billing:admin` sees everyone's (`userId`
 * selects one), sets prices, grants credits and moves invoices through their
 * states. Every amount is a decimal string in the configured currency (and
 * `…Minor`, integer minor units).
 */
import type { SqlClient } from "@effect/sql"
import {
  Actor,
  Conflict,
  Directory,
  Forbidden,
  HttpRoute,
  NotFound,
  Text,
  Timestamps,
  ValidationError
} from "@streamspace/core"
import type { Routes } from "@streamspace/kernel"
import { Effect, Option, Schema } from "effect"
import type { BillingConfig } from "./Config.ts"
import { invoiceCsv, invoicePdf, toCsv } from "./Documents.ts"
import { forecast } from "./Forecast.ts"
import { Invoice, type InvoicesService, type Transition } from "./Invoices.ts"
import { type DayLine, priced, sum } from "./Ledger.ts"
import type { Meter } from "./Metering.ts"
import { formatMinor, nanoToDecimal, parseMinor, quantityDisplay, type Resource, toNano } from "./Money.ts"
import { type BillingCycle, floorHour, HOUR_MS, isHour, periodOf, previousPeriod } from "./Periods.ts"
import { loadRules } from "./Pricing.ts"
import { settingsOf } from "./Settings.ts"

export const ADMIN = "billing:admin"
const DAY_MS = 86_400_000

export interface HttpDeps {
  readonly sql: SqlClient.SqlClient
  readonly routes: Routes["Type"]
  readonly directory: Directory.Directory["Type"]
  readonly config: BillingConfig
  readonly fallback: Readonly<Record<Resource, bigint>>
  readonly invoices: InvoicesService
  readonly meter: Meter
}

const Amount = Schema.Struct({ amount: Schema.String, amountMinor: Schema.Number })
const money = (minor: bigint) => ({ amount: formatMinor(minor), amountMinor: Number(minor) })

/** Whose data a request reads: an admin names anyone (or everyone), a user only themself. */
const whose = (actor: Actor.Actor, userId: string | undefined): Effect.Effect<string | undefined, Forbidden> => {
  if (Actor.hasPermission(actor, ADMIN)) return Effect.succeed(userId)
  const self = Actor.actorId(actor)
  if (self === null) return Effect.fail(new Forbidden({ message: "a user is required" }))
  if (userId !== undefined && userId !== self)
    return Effect.fail(new Forbidden({ message: `only ${ADMIN} reads other users' billing`, permission: ADMIN }))
  return Effect.succeed(self)
}

const UserQuery = Schema.Struct({ userId: Schema.optional(Text.Id) })
const RangeQuery = Schema.Struct({
  userId: Schema.optional(Text.Id),
  from: Schema.optional(Text.Timestamp),
  to: Schema.optional(Text.Timestamp)
})

const ceilHour = (ms: number) => Math.ceil(ms / HOUR_MS) * HOUR_MS

export const addRoutes = (d: HttpDeps) =>
  Effect.gen(function* () {
    const { sql, routes, config, fallback, invoices } = d
    const cycle: BillingCycle = config.billingCycle
    const linesOf = (from: Date, to: Date, userId: string | undefined, byDay = false) =>
      Effect.orDie(priced(sql, fallback, { from, to, ...(userId ? { userIds: [userId] } : {}), byDay }))
    const range = (q: { from?: Date | undefined; to?: Date | undefined }) =>
      Effect.gen(function* () {
        const now = (yield* Timestamps.now).getTime()
        const current = periodOf(cycle, new Date(now))
        const from = q.from ? floorHour(q.from.getTime()) : current.start.getTime()
        const to = q.to ? ceilHour(q.to.getTime()) : current.end.getTime()
        if (to <= from) return yield* ValidationError.field("query.to", "must be after from")
        return { from: new Date(from), to: new Date(to) }
      })

    // ---- costs ----
    const ResourceTotals = Schema.Struct({ cpu: Amount, memory: Amount, storage: Amount })
    const byResource = (lines: ReadonlyArray<DayLine>) => ({
      cpu: money(sum(lines.filter((l) => l.resource === "cpu"))),
      memory: money(sum(lines.filter((l) => l.resource === "memory"))),
      storage: money(sum(lines.filter((l) => l.resource === "storage")))
    })
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/costs/current",
        summary: "Costs of the current billing period so far (usage rolled up to the last whole hour)",
        permission: "billing:read",
        query: UserQuery,
        response: Schema.Struct({
          currency: Schema.String,
          periodStart: Schema.Date,
          periodEnd: Schema.Date,
          through: Schema.Date,
          total: Amount,
          byResource: ResourceTotals
        }),
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const userId = yield* whose(actor, query.userId)
            const now = yield* Timestamps.now
            const period = periodOf(cycle, now)
            const lines = yield* linesOf(period.start, period.end, userId)
            return {
              currency: config.currency,
              periodStart: period.start,
              periodEnd: period.end,
              through: new Date(floorHour(now.getTime())),
              total: money(sum(lines)),
              byResource: byResource(lines)
            }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/costs/history",
        summary: "Totals of the last billing periods, newest first",
        permission: "billing:read",
        query: Schema.Struct({
          userId: Schema.optional(Text.Id),
          periods: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 36)), {
            default: () => 6
          })
        }),
        response: Schema.Struct({
          currency: Schema.String,
          items: Schema.Array(Schema.Struct({ periodStart: Schema.Date, periodEnd: Schema.Date, total: Amount }))
        }),
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const userId = yield* whose(actor, query.userId)
            let period = periodOf(cycle, yield* Timestamps.now)
            const items = []
            for (let i = 0; i < query.periods; i++) {
              const lines = yield* linesOf(period.start, period.end, userId)
              items.push({ periodStart: period.start, periodEnd: period.end, total: money(sum(lines)) })
              period = previousPeriod(cycle, period)
            }
            return { currency: config.currency, items }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/costs/breakdown",
        summary: "Costs by template, resource, user or group over a range (default: the current period)",
        permission: "billing:read",
        query: Schema.Struct({
          ...RangeQuery.fields,
          by: Schema.optionalWith(Schema.Literal("template", "resource", "user", "group"), {
            default: () => "template" as const
          })
        }),
        response: Schema.Struct({
          currency: Schema.String,
          from: Schema.Date,
          to: Schema.Date,
          by: Schema.String,
          total: Amount,
          items: Schema.Array(Schema.Struct({ key: Schema.String, label: Schema.String, total: Amount }))
        }),
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const userId = yield* whose(actor, query.userId)
            const { from, to } = yield* range(query)
            const lines = yield* linesOf(from, to, userId)
            const groups = new Map<string, bigint>()
            const add = (key: string, amount: bigint) => groups.set(key, (groups.get(key) ?? 0n) + amount)
            for (const l of lines) {
              if (query.by === "template") add(l.templateId, l.amountMinor)
              else if (query.by === "resource") add(l.resource, l.amountMinor)
              else if (query.by === "user") add(l.userId, l.amountMinor)
              else if (l.groups.length === 0) add("(none)", l.amountMinor)
              else for (const g of l.groups) add(g, l.amountMinor)
            }
            const items = []
            for (const [key, amount] of [...groups].sort((a, b) => (a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : 0))) {
              let label = key
              if (query.by === "template")
                label = Option.match(yield* Effect.orDie(d.directory.template(key)), {
                  onNone: () => key,
                  onSome: (t) => t.displayName
                })
              else if (query.by === "user")
                label = Option.match(yield* Effect.orDie(d.directory.user(key)), {
                  onNone: () => key,
                  onSome: (u) => u.username
                })
              items.push({ key, label, total: money(amount) })
            }
            return { currency: config.currency, from, to, by: query.by, total: money(sum(lines)), items }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/costs/comparison",
        summary: "The current period so far against the previous period (whole, and to the same point)",
        permission: "billing:read",
        query: UserQuery,
        response: Schema.Struct({
          currency: Schema.String,
          current: Amount,
          previous: Amount,
          previousToDate: Amount,
          changePercent: Schema.NullOr(Schema.Number)
        }),
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const userId = yield* whose(actor, query.userId)
            const now = yield* Timestamps.now
            const period = periodOf(cycle, now)
            const before = previousPeriod(cycle, period)
            const elapsed = floorHour(now.getTime()) - period.start.getTime()
            const current = sum(yield* linesOf(period.start, period.end, userId))
            const previous = sum(yield* linesOf(before.start, before.end, userId))
            const cut = new Date(Math.min(before.end.getTime(), before.start.getTime() + elapsed))
            const previousToDate = sum(yield* linesOf(before.start, cut, userId))
            return {
              currency: config.currency,
              current: money(current),
              previous: money(previous),
              previousToDate: money(previousToDate),
              changePercent:
                previousToDate === 0n ? null : Number(((current - previousToDate) * 10_000n) / previousToDate) / 100
            }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/costs/forecast",
        summary: "The current period's expected total: least-squares trend of its daily costs, extrapolated",
        permission: "billing:read",
        query: UserQuery,
        response: Schema.Struct({
          currency: Schema.String,
          method: Schema.String,
          periodEnd: Schema.Date,
          toDate: Amount,
          projected: Amount,
          total: Amount,
          slopePerDay: Schema.Number
        }),
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const userId = yield* whose(actor, query.userId)
            const now = yield* Timestamps.now
            const period = periodOf(cycle, now)
            const through = floorHour(now.getTime())
            const lines = yield* linesOf(period.start, new Date(through), userId, true)
            const firstDay = Math.floor(period.start.getTime() / DAY_MS)
            const today = Math.floor(now.getTime() / DAY_MS)
            const daily = Array.from({ length: Math.max(0, today - firstDay) }, (_, i) =>
              sum(lines.filter((l) => l.day === firstDay + i))
            )
            const f = forecast(daily, sum(lines), (period.end.getTime() - through) / DAY_MS)
            return {
              currency: config.currency,
              method: f.method,
              periodEnd: period.end,
              toDate: money(sum(lines)),
              projected: money(f.projectedMinor),
              total: money(f.totalMinor),
              slopePerDay: f.slopePerDayMinor / 100
            }
          })
      })
    )

    // ---- usage ----
    interface SessionUsage {
      session_id: string
      user_id: string
      template_id: string
      cpu: string
      memory: string
      storage: string
      running_ms: string
    }
    const sessionUsage = (from: Date, to: Date, userId: string | undefined) =>
      Effect.orDie(sql<SessionUsage>`
        SELECT u.session_id, u.user_id, u.template_id,
          COALESCE(sum(u.quantity) FILTER (WHERE u.resource = 'cpu'), 0)::text AS cpu,
          COALESCE(sum(u.quantity) FILTER (WHERE u.resource = 'memory'), 0)::text AS memory,
          COALESCE(sum(u.quantity) FILTER (WHERE u.resource = 'storage'), 0)::text AS storage,
          COALESCE((SELECT sum(extract(epoch FROM (LEAST(COALESCE(i.ended_at, ${to}), ${to}) - GREATEST(i.started_at, ${from}))) * 1000)
            FROM run_intervals i WHERE i.session_id = u.session_id AND i.started_at < ${to} AND COALESCE(i.ended_at, ${to}) > ${from}), 0)::bigint::text AS running_ms
        FROM usage_records u
        WHERE u.hour_start >= ${from} AND u.hour_start < ${to} ${userId ? sql`AND u.user_id = ${userId}` : sql``}
        GROUP BY u.session_id, u.user_id, u.template_id
        ORDER BY u.session_id`)
    const SessionUsageJson = Schema.Struct({
      sessionId: Schema.String,
      userId: Schema.String,
      templateId: Schema.String,
      cpuCoreHours: Schema.String,
      memoryGBHours: Schema.String,
      storageGBMonths: Schema.String
    })
    const toUsage = (r: SessionUsage) => ({
      sessionId: r.session_id,
      userId: r.user_id,
      templateId: r.template_id,
      cpuCoreHours: quantityDisplay("cpu", BigInt(r.cpu)),
      memoryGBHours: quantityDisplay("memory", BigInt(r.memory)),
      storageGBMonths: quantityDisplay("storage", BigInt(r.storage))
    })
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/usage/sessions",
        summary: "Metered usage per session over a range (default: the current period)",
        permission: "billing:read",
        query: RangeQuery,
        response: Schema.Struct({ from: Schema.Date, to: Schema.Date, items: Schema.Array(SessionUsageJson) }),
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const userId = yield* whose(actor, query.userId)
            const { from, to } = yield* range(query)
            return { from, to, items: (yield* sessionUsage(from, to, userId)).map(toUsage) }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/usage/resources",
        summary: "Metered CPU, memory and storage over a range (default: the current period)",
        permission: "billing:read",
        query: RangeQuery,
        response: Schema.Struct({
          from: Schema.Date,
          to: Schema.Date,
          sessions: Schema.Number,
          cpuCoreHours: Schema.String,
          memoryGBHours: Schema.String,
          storageGBMonths: Schema.String
        }),
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const userId = yield* whose(actor, query.userId)
            const { from, to } = yield* range(query)
            const rows = yield* sessionUsage(from, to, userId)
            const total = (k: Resource) => rows.reduce((a, r) => a + BigInt(r[k]), 0n)
            return {
              from,
              to,
              sessions: rows.filter((r) => r.cpu !== "0" || r.memory !== "0").length,
              cpuCoreHours: quantityDisplay("cpu", total("cpu")),
              memoryGBHours: quantityDisplay("memory", total("memory")),
              storageGBMonths: quantityDisplay("storage", total("storage"))
            }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/usage/storage",
        summary: "Stored bytes now (metered files) and storage GB-months over a range (default: the current period)",
        permission: "billing:read",
        query: RangeQuery,
        response: Schema.Struct({
          from: Schema.Date,
          to: Schema.Date,
          files: Schema.Number,
          bytes: Schema.Number,
          gbMonths: Schema.String,
          cost: Amount
        }),
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const userId = yield* whose(actor, query.userId)
            const { from, to } = yield* range(query)
            const [stored] = yield* Effect.orDie(sql<{ files: number; bytes: string }>`
              SELECT count(*)::int AS files, COALESCE(sum(size), 0)::text AS bytes FROM storage_files
              WHERE deleted_at IS NULL ${userId ? sql`AND user_id = ${userId}` : sql``}`)
            const lines = (yield* linesOf(from, to, userId)).filter((l) => l.resource === "storage")
            return {
              from,
              to,
              files: stored!.files,
              bytes: Number(stored!.bytes),
              gbMonths: quantityDisplay(
                "storage",
                lines.reduce((a, l) => a + l.quantity, 0n)
              ),
              cost: money(sum(lines))
            }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/usage/export",
        summary: "Metered usage per session as CSV, with a TOTAL row",
        permission: "billing:read",
        query: RangeQuery,
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const userId = yield* whose(actor, query.userId)
            const { from, to } = yield* range(query)
            const rows = yield* sessionUsage(from, to, userId)
            const lines = yield* linesOf(from, to, userId)
            const usage = rows.map(toUsage)
            const csv = toCsv([
              ["session", "user", "template", "cpu_core_hours", "memory_gb_hours", "storage_gb_months"],
              ...usage.map((u) => [
                u.sessionId,
                u.userId,
                u.templateId,
                u.cpuCoreHours,
                u.memoryGBHours,
                u.storageGBMonths
              ]),
              [
                "TOTAL",
                "",
                "",
                quantityDisplay(
                  "cpu",
                  rows.reduce((a, r) => a + BigInt(r.cpu), 0n)
                ),
                quantityDisplay(
                  "memory",
                  rows.reduce((a, r) => a + BigInt(r.memory), 0n)
                ),
                quantityDisplay(
                  "storage",
                  rows.reduce((a, r) => a + BigInt(r.storage), 0n)
                )
              ],
              ["COST", "", "", formatMinor(sum(lines)), config.currency]
            ])
            return new Response(csv, {
              headers: {
                "content-type": "text/csv; charset=utf-8",
                "content-disposition": `attachment; filename="usage-${from.toISOString().slice(0, 10)}.csv"`
              }
            })
          })
      })
    )

    // ---- pricing ----
    const RuleJson = Schema.Struct({
      id: Schema.String,
      scope: Schema.String,
      scopeId: Schema.String,
      resource: Schema.String,
      rate: Schema.String,
      effectiveFrom: Schema.Date
    })
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/pricing",
        summary: "Rates in effect now (per core-hour, GB-hour, GB-month); admins also see every rule",
        permission: "billing:read",
        response: Schema.Struct({
          currency: Schema.String,
          cpuHourRate: Schema.String,
          memoryGBRate: Schema.String,
          storageGBRate: Schema.String,
          rules: Schema.Array(RuleJson)
        }),
        handler: ({ actor }) =>
          Effect.gen(function* () {
            const now = (yield* Timestamps.now).getTime()
            const rules = yield* Effect.orDie(loadRules(sql))
            const base = (resource: Resource | "storage", def: bigint) =>
              rules.find((r) => r.scope === "base" && r.resource === resource && r.effectiveFrom.getTime() <= now)
                ?.rateNano ?? def
            return {
              currency: config.currency,
              cpuHourRate: nanoToDecimal(base("cpu", fallback.cpu)),
              memoryGBRate: nanoToDecimal(base("memory", fallback.memory)),
              storageGBRate: nanoToDecimal(base("storage", toNano(config.pricing.storageGBRate) ?? 0n)),
              rules: Actor.hasPermission(actor, ADMIN)
                ? rules.map((r) => ({
                    id: r.id,
                    scope: r.scope,
                    scopeId: r.scopeId,
                    resource: r.resource,
                    rate: nanoToDecimal(r.rateNano),
                    effectiveFrom: r.effectiveFrom
                  }))
                : []
            }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/pricing/rules",
        summary: "Add a dated rate: base, or an override for a template, group or user (from a future whole hour)",
        permission: ADMIN,
        body: Schema.Struct({
          scope: Schema.Literal("base", "template", "group", "user"),
          scopeId: Schema.optionalWith(Text.Short, { default: () => "" }),
          resource: Schema.Literal("cpu", "memory", "storage"),
          rate: Schema.String.pipe(
            Schema.pattern(/^\d{1,9}(\.\d{1,9})?$/, { message: () => 'a decimal with at most 9 decimals, e.g. "0.02"' })
          ),
          effectiveFrom: Schema.optional(Text.Timestamp)
        }),
        response: RuleJson,
        successStatus: 201,
        audit: { action: "billing.pricing.rule", target: (_i, r) => r.id },
        errors: [Conflict],
        handler: ({ body, actor }) =>
          Effect.gen(function* () {
            const now = (yield* Timestamps.now).getTime()
            const nextHour = floorHour(now) + HOUR_MS
            const from = body.effectiveFrom ? body.effectiveFrom.getTime() : nextHour
            if (!isHour(new Date(from)))
              return yield* ValidationError.field(
                "body.effectiveFrom",
                "must be a whole hour (UTC), e.g. 2026-12-01T00:00:00Z"
              )
            if (from < nextHour)
              return yield* ValidationError.field(
                "body.effectiveFrom",
                `must not be before ${new Date(nextHour).toISOString()}: a rate never changes past usage`
              )
            if (body.scope === "base" && body.scopeId !== "")
              return yield* ValidationError.field("body.scopeId", "must be empty for a base rate")
            if (body.scope !== "base" && body.scopeId === "")
              return yield* ValidationError.field("body.scopeId", `names the ${body.scope}`)
            const scopeId = body.scope === "group" ? body.scopeId.toLowerCase() : body.scopeId
            const rate = toNano(body.rate)!
            const at = yield* Timestamps.now
            const rows = yield* Effect.orDie(sql<{ id: string }>`
              INSERT INTO price_rules (scope, scope_id, resource, rate_nano, effective_from, created_at, created_by)
              VALUES (${body.scope}, ${scopeId}, ${body.resource}, ${rate.toString()}::bigint, ${new Date(from)}, ${at}, ${Actor.actorId(actor)})
              ON CONFLICT DO NOTHING RETURNING id::text AS id`)
            if (rows.length === 0)
              return yield* new Conflict({
                message: "a rule for that scope and resource already starts then",
                code: "rule_exists"
              })
            return {
              id: rows[0]!.id,
              scope: body.scope,
              scopeId,
              resource: body.resource,
              rate: nanoToDecimal(rate),
              effectiveFrom: new Date(from)
            }
          })
      })
    )

    // ---- invoices ----
    const InvoiceParams = Schema.Struct({ id: Schema.UUID })
    const readable = (id: string, actor: Actor.Actor) =>
      Effect.gen(function* () {
        const invoice = yield* invoices.get(id)
        if (!Actor.hasPermission(actor, ADMIN) && invoice.userId !== Actor.actorId(actor))
          return yield* new NotFound({ resource: "invoice", id })
        return invoice
      })
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/invoices",
        summary: "Invoices, newest period first (your own; an admin's: everyone's, or userId's)",
        permission: "billing:read",
        query: Schema.Struct({
          userId: Schema.optional(Text.Id),
          limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500)), {
            default: () => 100
          })
        }),
        response: Schema.Struct({ items: Schema.Array(Invoice) }),
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const userId = yield* whose(actor, query.userId)
            return { items: yield* Effect.orDie(invoices.list(userId, query.limit)) }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/invoices/:id",
        summary: "One invoice with its lines",
        permission: "billing:read",
        params: InvoiceParams,
        response: Invoice,
        errors: [NotFound],
        handler: ({ params, actor }) => Effect.catchTag(readable(params.id, actor), "SqlError", Effect.die)
      })
    )
    const customer = (userId: string) =>
      Effect.map(Effect.orDie(d.directory.user(userId)), (u) =>
        Option.match(u, {
          onNone: () => userId,
          onSome: (u) => (u.email ? `${u.displayName} <${u.email}>` : u.displayName)
        })
      )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/invoices/:id/pdf",
        summary: "The invoice as a PDF",
        permission: "billing:read",
        params: InvoiceParams,
        errors: [NotFound],
        handler: ({ params, actor }) =>
          Effect.gen(function* () {
            const invoice = yield* Effect.catchTag(readable(params.id, actor), "SqlError", Effect.die)
            const who = yield* customer(invoice.userId)
            const billTo = yield* Effect.orDie(settingsOf(sql, invoice.userId))
            const bytes = yield* Effect.promise(() => invoicePdf(invoice, who, billTo))
            return new Response(bytes, {
              headers: {
                "content-type": "application/pdf",
                "content-disposition": `attachment; filename="${invoice.number ?? `draft-${invoice.id}`}.pdf"`
              }
            })
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/invoices/:id/csv",
        summary: "The invoice's lines and totals as CSV",
        permission: "billing:read",
        params: InvoiceParams,
        errors: [NotFound],
        handler: ({ params, actor }) =>
          Effect.map(
            Effect.catchTag(readable(params.id, actor), "SqlError", Effect.die),
            (invoice) =>
              new Response(invoiceCsv(invoice), {
                headers: {
                  "content-type": "text/csv; charset=utf-8",
                  "content-disposition": `attachment; filename="${invoice.number ?? `draft-${invoice.id}`}.csv"`
                }
              })
          )
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/invoices/generate",
        summary:
          "Generate the invoices of a period (default: the last complete one) for every user with usage, or one user; each user and period is invoiced once",
        permission: "billing:write",
        rateLimit: "strict",
        transactional: false,
        body: Schema.Struct({
          periodStart: Schema.optional(Text.Timestamp),
          periodEnd: Schema.optional(Text.Timestamp),
          userId: Schema.optional(Text.Id),
          finalize: Schema.optionalWith(Schema.Boolean, { default: () => true })
        }),
        response: Schema.Struct({ created: Schema.Array(Invoice) }),
        successStatus: 200,
        handler: ({ body, actor }) =>
          Effect.gen(function* () {
            const admin = Actor.hasPermission(actor, ADMIN)
            const userId = yield* whose(actor, body.userId)
            if ((body.periodStart === undefined) !== (body.periodEnd === undefined))
              return yield* ValidationError.field(
                body.periodStart ? "body.periodEnd" : "body.periodStart",
                "give both periodStart and periodEnd, or neither"
              )
            const now = yield* Timestamps.now
            let period = previousPeriod(cycle, periodOf(cycle, now))
            if (body.periodStart && body.periodEnd) {
              if (!admin)
                return yield* new Forbidden({ message: `only ${ADMIN} invoices a custom period`, permission: ADMIN })
              if (!isHour(body.periodStart))
                return yield* ValidationError.field("body.periodStart", "must be a whole hour (UTC)")
              if (!isHour(body.periodEnd))
                return yield* ValidationError.field("body.periodEnd", "must be a whole hour (UTC)")
              if (body.periodEnd <= body.periodStart)
                return yield* ValidationError.field("body.periodEnd", "must be after periodStart")
              if (body.periodEnd.getTime() > floorHour(now.getTime()))
                return yield* ValidationError.field(
                  "body.periodEnd",
                  "must not be after the last whole hour: the period must be over"
                )
              period = { start: body.periodStart, end: body.periodEnd }
            }
            yield* Effect.orDie(d.meter.rollUp(new Date(floorHour(now.getTime()))))
            const ids = yield* Effect.orDie(
              invoices.generate(period, { ...(userId ? { userIds: [userId] } : {}), finalize: body.finalize })
            )
            return { created: yield* Effect.orDie(invoices.load(ids)) }
          })
      })
    )
    const transitionRoute = (name: Transition, summary: string) =>
      routes.add(
        HttpRoute.make({
          method: "POST",
          path: `/invoices/:id/${name}`,
          summary,
          permission: ADMIN,
          params: InvoiceParams,
          body: Schema.Struct({ reference: Schema.optional(Text.Short) }),
          response: Invoice,
          errors: [NotFound, Conflict],
          audit: { action: `billing.invoice.${name}`, target: (i) => i.params.id },
          handler: ({ params, body }) =>
            Effect.catchTag(invoices.transition(params.id, name, body.reference), "SqlError", Effect.die)
        })
      )
    yield* transitionRoute("finalize", "Finalize a draft: it gets its number and is open for payment")
    yield* transitionRoute("pay", "Mark an open (or uncollectible) invoice paid (manual provider)")
    yield* transitionRoute("void", "Void an invoice; credits applied to it return to the balance")
    yield* transitionRoute("mark-uncollectible", "Mark an open invoice uncollectible")

    // ---- credits ----
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/credits",
        summary: "Grant a user credit, applied to their next invoices",
        permission: ADMIN,
        body: Schema.Struct({
          userId: Text.Id,
          amount: Schema.String.pipe(
            Schema.filter((s) => (parseMinor(s) ?? 0n) > 0n, {
              message: () => 'a positive amount with at most 2 decimals, e.g. "5.00"'
            })
          ),
          reason: Text.Line.pipe(Schema.minLength(1))
        }),
        response: Schema.Struct({ userId: Schema.String, balance: Amount }),
        successStatus: 201,
        handler: ({ body, actor }) =>
          Effect.gen(function* () {
            const at = yield* Timestamps.now
            yield* Effect.orDie(sql`INSERT INTO credits (user_id, amount_minor, reason, created_at, created_by)
              VALUES (${body.userId}, ${parseMinor(body.amount)!.toString()}::bigint, ${body.reason}, ${at}, ${Actor.actorId(actor)})`)
            const [b] = yield* Effect.orDie(
              sql<{
                b: string
              }>`SELECT COALESCE(sum(amount_minor), 0)::text AS b FROM credits WHERE user_id = ${body.userId}`
            )
            return { userId: body.userId, balance: money(BigInt(b!.b)) }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/credits",
        summary: "A user's credit balance and its entries",
        permission: "billing:read",
        query: UserQuery,
        response: Schema.Struct({
          balance: Amount,
          items: Schema.Array(
            Schema.Struct({
              amount: Schema.String,
              reason: Schema.String,
              invoiceId: Schema.NullOr(Schema.String),
              at: Schema.Date
            })
          )
        }),
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const userId = (yield* whose(actor, query.userId)) ?? Actor.actorId(actor) ?? ""
            const rows = yield* Effect.orDie(sql<{
              amount_minor: string
              reason: string
              invoice_id: string | null
              created_at: Date
            }>`
              SELECT amount_minor::text AS amount_minor, reason, invoice_id::text AS invoice_id, created_at
              FROM credits WHERE user_id = ${userId} ORDER BY id`)
            return {
              balance: money(rows.reduce((a, r) => a + BigInt(r.amount_minor), 0n)),
              items: rows.map((r) => ({
                amount: formatMinor(BigInt(r.amount_minor)),
                reason: r.reason,
                invoiceId: r.invoice_id,
                at: new Date(r.created_at)
              }))
            }
          })
      })
    )
  })

/** Spend limits (admin) and a user's standing against theirs. */
export const addQuotaRoutes = (d: { sql: SqlClient.SqlClient; routes: Routes["Type"]; config: BillingConfig }) =>
  Effect.gen(function* () {
    const { sql, routes, config } = d
    const Limit = Schema.Struct({ scope: Schema.Literal("user", "group"), scopeId: Schema.String, limit: Amount })
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/quotas",
        summary: "Spend limits per user and group (per billing period)",
        permission: ADMIN,
        response: Schema.Struct({ currency: Schema.String, items: Schema.Array(Limit) }),
        handler: () =>
          Effect.map(
            Effect.orDie(
              sql<{ scope: "user" | "group"; scope_id: string; limit_minor: string }>`
                SELECT scope, scope_id, limit_minor::text AS limit_minor FROM spend_limits ORDER BY scope, scope_id`
            ),
            (rows) => ({
              currency: config.currency,
              items: rows.map((r) => ({ scope: r.scope, scopeId: r.scope_id, limit: money(BigInt(r.limit_minor)) }))
            })
          )
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "PUT",
        path: "/quotas",
        summary: "Set the spend limit of a user or group (per billing period)",
        permission: ADMIN,
        body: Schema.Struct({
          scope: Schema.Literal("user", "group"),
          scopeId: Text.Short.pipe(Schema.minLength(1)),
          limit: Schema.String.pipe(
            Schema.filter((s) => (parseMinor(s) ?? 0n) > 0n, {
              message: () => 'a positive amount with at most 2 decimals, e.g. "50.00"'
            })
          )
        }),
        response: Limit,
        handler: ({ body }) =>
          Effect.gen(function* () {
            const scopeId = body.scope === "group" ? body.scopeId.toLowerCase() : body.scopeId
            const limit = parseMinor(body.limit)!
            const at = yield* Timestamps.now
            yield* Effect.orDie(sql`
              INSERT INTO spend_limits (scope, scope_id, limit_minor, updated_at)
              VALUES (${body.scope}, ${scopeId}, ${limit.toString()}::bigint, ${at})
              ON CONFLICT (scope, scope_id) DO UPDATE SET limit_minor = EXCLUDED.limit_minor, updated_at = EXCLUDED.updated_at`)
            return { scope: body.scope, scopeId, limit: money(limit) }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/quotas/status",
        summary: "Spend against the limit this period (as of the last roll-up)",
        permission: "billing:read",
        query: UserQuery,
        response: Schema.Struct({
          limit: Schema.NullOr(Amount),
          spent: Schema.NullOr(Amount),
          warnedAt: Schema.NullOr(Schema.Date),
          exceededAt: Schema.NullOr(Schema.Date)
        }),
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const userId = (yield* whose(actor, query.userId)) ?? Actor.actorId(actor) ?? ""
            const period = periodOf(config.billingCycle, yield* Timestamps.now)
            const [row] = yield* Effect.orDie(sql<{
              spent_minor: string
              limit_minor: string
              warned_at: Date | null
              exceeded_at: Date | null
            }>`SELECT spent_minor::text AS spent_minor, limit_minor::text AS limit_minor, warned_at, exceeded_at
               FROM spend_state WHERE user_id = ${userId} AND period_start = ${period.start}`)
            return {
              limit: row ? money(BigInt(row.limit_minor)) : null,
              spent: row ? money(BigInt(row.spent_minor)) : null,
              warnedAt: row?.warned_at ? new Date(row.warned_at) : null,
              exceededAt: row?.exceeded_at ? new Date(row.exceeded_at) : null
            }
          })
      })
    )
  })
