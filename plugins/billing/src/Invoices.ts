/**
 * Invoices: draft → open → paid | void | uncollectible (uncollectible → paid |
 * void). Numbers are given when an invoice is finalized (draft → open), from
 * a counter per year held in the same transaction, so they have no gaps
 * (a voided invoice keeps its number). One invoice per user and period:
 * a partial unique index makes concurrent generation (two replicas, the job
 * and the route) create it once.
 */
import type { SqlClient } from "@effect/sql"
import { Conflict, Directory, NotFound, Timestamps } from "@streamspace/core"
import { Events } from "@streamspace/kernel"
import { Effect, Option, Schema } from "effect"
import type { BillingConfig } from "./Config.ts"
import { invoiceLines, priced, sum } from "./Ledger.ts"
import { formatMinor, quantityDisplay, type Resource, unitName } from "./Money.ts"

export type InvoiceStatus = "draft" | "open" | "paid" | "void" | "uncollectible"

export const InvoiceCreated = Events.define(
  "billing.invoice.created",
  Schema.Struct({
    invoiceId: Schema.String,
    number: Schema.NullOr(Schema.String),
    userId: Schema.String,
    status: Schema.String,
    currency: Schema.String,
    total: Schema.String,
    periodStart: Schema.String,
    periodEnd: Schema.String
  }),
  "billing created an invoice (total in the currency's units as a decimal string)"
)
export const InvoicePaid = Events.define(
  "billing.invoice.paid",
  Schema.Struct({
    invoiceId: Schema.String,
    number: Schema.NullOr(Schema.String),
    userId: Schema.String,
    currency: Schema.String,
    total: Schema.String
  }),
  "an invoice was paid"
)

export const InvoiceLine = Schema.Struct({
  position: Schema.Number,
  templateId: Schema.NullOr(Schema.String),
  description: Schema.String,
  resource: Schema.String,
  quantity: Schema.String,
  unit: Schema.String,
  rate: Schema.String,
  amount: Schema.String,
  amountMinor: Schema.Number
})
export const Invoice = Schema.Struct({
  id: Schema.String,
  number: Schema.NullOr(Schema.String),
  userId: Schema.String,
  status: Schema.Literal("draft", "open", "paid", "void", "uncollectible"),
  periodStart: Schema.Date,
  periodEnd: Schema.Date,
  currency: Schema.String,
  subtotal: Schema.String,
  credits: Schema.String,
  total: Schema.String,
  totalMinor: Schema.Number,
  dueAt: Schema.NullOr(Schema.Date),
  issuedAt: Schema.NullOr(Schema.Date),
  paidAt: Schema.NullOr(Schema.Date),
  createdAt: Schema.Date,
  legacyId: Schema.NullOr(Schema.String),
  lines: Schema.Array(InvoiceLine)
})
export type Invoice = Schema.Schema.Type<typeof Invoice>

interface InvoiceRow {
  id: string
  number: string | null
  user_id: string
  status: InvoiceStatus
  period_start: Date
  period_end: Date
  currency: string
  subtotal_minor: string
  credits_minor: string
  total_minor: string
  due_at: Date | null
  issued_at: Date | null
  paid_at: Date | null
  created_at: Date
  legacy_id: string | null
}
interface LineRow {
  invoice_id: string
  position: number
  template_id: string | null
  description: string
  resource: string
  quantity: string
  unit: string
  rate_nano: string
  amount_minor: string
}

const columns = (sql: SqlClient.SqlClient) =>
  sql`id::text AS id, number, user_id, status, period_start, period_end, currency, subtotal_minor::text AS subtotal_minor,
      credits_minor::text AS credits_minor, total_minor::text AS total_minor, due_at, issued_at, paid_at, created_at, legacy_id`

const nanoRate = (nano: string) => {
  const n = BigInt(nano)
  const whole = n / 1_000_000_000n
  const frac = (n % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "")
  return frac === "" ? whole.toString() : `${whole}.${frac}`
}

const toInvoice = (r: InvoiceRow, lines: ReadonlyArray<LineRow>): Invoice => ({
  id: r.id,
  number: r.number,
  userId: r.user_id,
  status: r.status,
  periodStart: new Date(r.period_start),
  periodEnd: new Date(r.period_end),
  currency: r.currency,
  subtotal: formatMinor(BigInt(r.subtotal_minor)),
  credits: formatMinor(BigInt(r.credits_minor)),
  total: formatMinor(BigInt(r.total_minor)),
  totalMinor: Number(r.total_minor),
  dueAt: r.due_at ? new Date(r.due_at) : null,
  issuedAt: r.issued_at ? new Date(r.issued_at) : null,
  paidAt: r.paid_at ? new Date(r.paid_at) : null,
  createdAt: new Date(r.created_at),
  legacyId: r.legacy_id,
  lines: lines.map((l) => ({
    position: l.position,
    templateId: l.template_id,
    description: l.description,
    resource: l.resource,
    quantity:
      l.resource === "cpu" || l.resource === "memory" || l.resource === "storage"
        ? quantityDisplay(l.resource, BigInt(l.quantity))
        : l.quantity,
    unit: l.unit,
    rate: nanoRate(l.rate_nano),
    amount: formatMinor(BigInt(l.amount_minor)),
    amountMinor: Number(l.amount_minor)
  }))
})

const transitions: Record<string, { readonly from: ReadonlyArray<InvoiceStatus>; readonly to: InvoiceStatus }> = {
  finalize: { from: ["draft"], to: "open" },
  pay: { from: ["open", "uncollectible"], to: "paid" },
  void: { from: ["draft", "open", "uncollectible"], to: "void" },
  "mark-uncollectible": { from: ["open"], to: "uncollectible" }
}
export type Transition = "finalize" | "pay" | "void" | "mark-uncollectible"

export const makeInvoices = (
  sql: SqlClient.SqlClient,
  events: Events["Type"],
  directory: Directory.Directory["Type"],
  config: BillingConfig,
  fallback: Readonly<Record<Resource, bigint>>
) => {
  const load = (ids: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      if (ids.length === 0) return []
      const rows = yield* sql<InvoiceRow>`SELECT ${columns(sql)} FROM invoices WHERE id = ANY(${[...ids]}::uuid[])`
      const lines = yield* sql<LineRow>`
        SELECT invoice_id::text AS invoice_id, position, template_id, description, resource, quantity::text AS quantity, unit,
          rate_nano::text AS rate_nano, amount_minor::text AS amount_minor
        FROM invoice_lines WHERE invoice_id = ANY(${[...ids]}::uuid[]) ORDER BY position`
      const byId = new Map(rows.map((r) => [r.id, r]))
      return ids.flatMap((id) => {
        const r = byId.get(id)
        return r
          ? [
              toInvoice(
                r,
                lines.filter((l) => l.invoice_id === id)
              )
            ]
          : []
      })
    })

  const get = (id: string) =>
    Effect.flatMap(load([id]), ([inv]) =>
      inv ? Effect.succeed(inv) : Effect.fail(new NotFound({ resource: "invoice", id }))
    )

  const list = (userId: string | undefined, limit: number) =>
    Effect.flatMap(
      userId
        ? sql<{
            id: string
          }>`SELECT id::text AS id FROM invoices WHERE user_id = ${userId} ORDER BY period_start DESC, created_at DESC LIMIT ${limit}`
        : sql<{
            id: string
          }>`SELECT id::text AS id FROM invoices ORDER BY period_start DESC, created_at DESC LIMIT ${limit}`,
      (rows) => load(rows.map((r) => r.id))
    )

  const assignNumber = (id: string, at: Date) =>
    Effect.gen(function* () {
      const year = at.getUTCFullYear()
      const [counter] = yield* sql<{ last: number }>`
        INSERT INTO invoice_counters (year, last) VALUES (${year}, 1)
        ON CONFLICT (year) DO UPDATE SET last = invoice_counters.last + 1 RETURNING last`
      const seq = counter!.last
      const number = `INV-${year}-${String(seq).padStart(6, "0")}`
      const due = new Date(at.getTime() + config.invoiceGeneration.dueDays * 86_400_000)
      yield* sql`UPDATE invoices SET status = 'open', number = ${number}, number_year = ${year}, number_seq = ${seq},
        issued_at = ${at}, due_at = ${due} WHERE id = ${id}::uuid`
      return number
    })

  const templateNames = new Map<string, string>()
  const templateName = (id: string) =>
    Effect.gen(function* () {
      const known = templateNames.get(id)
      if (known) return known
      const t = yield* directory.template(id)
      const name = Option.match(t, { onNone: () => id, onSome: (t) => t.displayName })
      templateNames.set(id, name)
      return name
    })

  /**
   * Creates the invoice of each user with usage in the period (or of `userIds`), once:
   * returns the ids of the invoices this call created.
   */
  const generate = (
    period: { start: Date; end: Date },
    options: { userIds?: ReadonlyArray<string>; finalize: boolean }
  ) =>
    Effect.gen(function* () {
      const lines = yield* priced(sql, fallback, {
        from: period.start,
        to: period.end,
        ...(options.userIds ? { userIds: options.userIds } : {})
      })
      const users = [...new Set(lines.map((l) => l.userId))].sort()
      const created: Array<string> = []
      for (const userId of users) {
        const own = invoiceLines(lines.filter((l) => l.userId === userId))
        const id = yield* sql.withTransaction(
          Effect.gen(function* () {
            const at = yield* Timestamps.now
            const id = crypto.randomUUID()
            const subtotal = sum(own)
            // One generation per user at a time (any replica), and never two invoices over the same hours.
            yield* sql`SELECT pg_advisory_xact_lock(7340002, hashtext(${userId}))`
            const overlapping = yield* sql<{ id: string }>`
              SELECT id::text AS id FROM invoices WHERE user_id = ${userId} AND status <> 'void'
                AND period_start < ${period.end} AND period_end > ${period.start} LIMIT 1`
            if (overlapping.length > 0) return undefined
            const inserted = yield* sql<{ id: string }>`
              INSERT INTO invoices (id, user_id, period_start, period_end, currency, subtotal_minor, credits_minor, total_minor, status, created_at)
              VALUES (${id}::uuid, ${userId}, ${period.start}, ${period.end}, ${config.currency}, ${subtotal.toString()}::bigint, 0, ${subtotal.toString()}::bigint, 'draft', ${at})
              ON CONFLICT (user_id, period_start, period_end) WHERE status <> 'void' DO NOTHING
              RETURNING id::text AS id`
            if (inserted.length === 0) return undefined
            const rows = yield* Effect.forEach(own, (l, i) =>
              Effect.map(l.templateId === null ? Effect.succeed("") : templateName(l.templateId), (name) => ({
                invoice_id: id,
                position: i + 1,
                template_id: l.templateId,
                description: l.templateId === null ? "Storage" : `${name}: ${l.resource === "cpu" ? "CPU" : "memory"}`,
                resource: l.resource,
                quantity: l.quantity.toString(),
                unit: unitName[l.resource],
                rate_nano: l.rateNano.toString(),
                amount_minor: l.amountMinor.toString()
              }))
            )
            if (rows.length > 0)
              yield* sql`
                INSERT INTO invoice_lines (invoice_id, position, template_id, description, resource, quantity, unit, rate_nano, amount_minor)
                SELECT invoice_id, position, template_id, description, resource, quantity, unit, rate_nano, amount_minor
                FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(invoice_id uuid, position integer, template_id text,
                  description text, resource text, quantity bigint, unit text, rate_nano bigint, amount_minor bigint)`
            // Credits: as much of the user's balance as the subtotal takes.
            const [balance] = yield* sql<{
              b: string
            }>`SELECT COALESCE(sum(amount_minor), 0)::text AS b FROM credits WHERE user_id = ${userId}`
            const available = BigInt(balance!.b)
            const applied = available > 0n ? (available < subtotal ? available : subtotal) : 0n
            if (applied > 0n) {
              yield* sql`INSERT INTO credits (user_id, amount_minor, reason, invoice_id, created_at)
                VALUES (${userId}, ${(-applied).toString()}::bigint, 'applied to invoice', ${id}::uuid, ${at})`
              yield* sql`UPDATE invoices SET credits_minor = ${applied.toString()}::bigint,
                total_minor = ${(subtotal - applied).toString()}::bigint WHERE id = ${id}::uuid`
            }
            const number = options.finalize ? yield* assignNumber(id, at) : null
            yield* events.publish(InvoiceCreated, {
              invoiceId: id,
              number,
              userId,
              status: options.finalize ? "open" : "draft",
              currency: config.currency,
              total: formatMinor(subtotal - applied),
              periodStart: period.start.toISOString(),
              periodEnd: period.end.toISOString()
            })
            return id
          })
        )
        if (id) created.push(id)
      }
      return created
    })

  const transition = (id: string, name: Transition, reference?: string) =>
    sql.withTransaction(
      Effect.gen(function* () {
        const [row] = yield* sql<{ status: InvoiceStatus; user_id: string }>`
          SELECT status, user_id FROM invoices WHERE id = ${id}::uuid FOR UPDATE`
        if (!row) return yield* new NotFound({ resource: "invoice", id })
        const t = transitions[name]!
        if (!t.from.includes(row.status))
          return yield* new Conflict({
            message: `an invoice that is ${row.status} cannot ${name === "mark-uncollectible" ? "be marked uncollectible" : name === "pay" ? "be paid" : name === "void" ? "be voided" : "be finalized"}`,
            code: "invalid_transition"
          })
        const at = yield* Timestamps.now
        if (name === "finalize") yield* assignNumber(id, at)
        else if (name === "pay")
          yield* sql`UPDATE invoices SET status = 'paid', paid_at = ${at}, closed_at = ${at},
            payment_reference = ${reference ?? null} WHERE id = ${id}::uuid`
        else if (name === "void") {
          yield* sql`UPDATE invoices SET status = 'void', closed_at = ${at} WHERE id = ${id}::uuid`
          // Credits applied to it go back to the user's balance.
          yield* sql`INSERT INTO credits (user_id, amount_minor, reason, invoice_id, created_at)
            SELECT user_id, -amount_minor, 'returned from a voided invoice', invoice_id, ${at}
            FROM credits WHERE invoice_id = ${id}::uuid AND amount_minor < 0`
        } else yield* sql`UPDATE invoices SET status = 'uncollectible' WHERE id = ${id}::uuid`
        const invoice = yield* get(id)
        if (name === "pay")
          yield* events.publish(InvoicePaid, {
            invoiceId: id,
            number: invoice.number,
            userId: invoice.userId,
            currency: invoice.currency,
            total: invoice.total
          })
        return invoice
      })
    )

  return { get, list, load, generate, transition }
}
export type InvoicesService = ReturnType<typeof makeInvoices>
