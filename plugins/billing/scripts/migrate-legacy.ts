/**
 * `bun run billing:migrate-legacy --from postgres://legacy… [--to postgres://ours…] [--dry-run]`
 *
 * Brings an upstream-era StreamSpace database's billing data into the billing
 * plugin's schema (`plugin_billing`, which must be installed: enable the
 * plugin once first). `--to` defaults to DATABASE_URL. Per
 * docs/plugins/billing.md ("Migrating from upstream"):
 *
 * - `invoices` → `invoices`: amount → subtotal = total (exact, from the
 *   decimal text), credits 0, `pending` → `open`, `paid` → `paid`, due at the
 *   period's end, the legacy number kept as the number (it does not use this
 *   year's counter), the legacy id in `legacy_id`;
 * - `payment_methods` → `payment_methods`: tokenless, `provider = 'legacy'`,
 *   last4 and default kept, `legacy_id`;
 * - `billing_config` (only if it exists: upstream never created it): its
 *   `cpu_rate`, `memory_rate`, `storage_rate` become base rules from the
 *   epoch unless base rules from the epoch exist already (reported);
 * - `sessions` → usage backfill: each session's created_at →
 *   COALESCE(terminated_at, updated_at) at its cpu/memory (Kubernetes
 *   quantities: `1000m`, `2`, `2Gi`, `512Mi`), as usage rows per hour
 *   (revision 1) and a `meter_sessions` row with `sizing = 'legacy'`.
 *
 * Idempotent: every row is keyed by its legacy id (usage by session, hour
 * and resource), so a second run inserts nothing. A dry run does the same
 * work in a transaction it rolls back. Prints a summary table.
 */
import { Money } from "@streamspace/plugin-billing"
import { SQL } from "bun"

export interface Options {
  readonly from: string
  readonly to: string
  readonly dryRun: boolean
  readonly log?: (line: string) => void
}

export interface SummaryRow {
  readonly source: string
  readonly found: number
  readonly inserted: number
  readonly skipped: number
  readonly note: string
}

const HOUR = 3_600_000

/** Kubernetes CPU quantity → millicores. */
export const millicores = (q: string | null): number | undefined => {
  if (!q) return undefined
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q.trim())
  if (!m) return undefined
  return Math.round(Number(m[1]) * (m[2] === "m" ? 1 : 1000))
}

/** Kubernetes memory quantity → MiB. */
export const mebibytes = (q: string | null): number | undefined => {
  if (!q) return undefined
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q.trim())
  if (!m) return undefined
  const bytes: Record<string, number> = {
    "": 1,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12
  }
  return Math.round((Number(m[1]) * bytes[m[2] ?? ""]!) / 1024 ** 2)
}

/** A deterministic uuid for a legacy id (so reruns find the same row). */
const uuidOf = (kind: string, id: string) => {
  const hex = new Bun.CryptoHasher("sha256").update(`${kind}:${id}`).digest("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

class DryRun extends Error {}

export const migrate = async (options: Options): Promise<ReadonlyArray<SummaryRow>> => {
  const legacy = new SQL(options.from)
  const ours = new SQL(options.to)
  const summary: Array<SummaryRow> = []
  try {
    const [schema] = await ours`SELECT to_regclass('plugin_billing.payment_methods')::text AS t`
    if (!(schema as { t: string | null }).t)
      throw new Error(
        "plugin_billing is not installed at --to (or older than 1.0.0): enable the billing plugin once first"
      )
    const exists = async (table: string) =>
      ((await legacy`SELECT to_regclass(${`public.${table}`})::text AS t`)[0] as { t: string | null }).t !== null
    const columns = async (table: string) =>
      new Set(
        (
          (await legacy`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ${table}`) as Array<{
            column_name: string
          }>
        ).map((c) => c.column_name)
      )

    await ours
      .begin(async (tx) => {
        const now = new Date()
        // invoices
        if (await exists("invoices")) {
          const rows = (await legacy`
            SELECT id, user_id, invoice_number, period_start, period_end, amount::text AS amount, status, created_at, paid_at
            FROM invoices ORDER BY created_at, id`) as Array<{
            id: string
            user_id: string
            invoice_number: string
            period_start: Date
            period_end: Date
            amount: string
            status: string | null
            created_at: Date | null
            paid_at: Date | null
          }>
          let inserted = 0
          let skipped = 0
          for (const r of rows) {
            const minor = Money.parseMinor(r.amount)
            const status =
              r.status === "paid" ? "paid" : r.status === "pending" || r.status === null ? "open" : undefined
            if (minor === undefined || status === undefined) {
              skipped++
              continue
            }
            const done = await tx`
              INSERT INTO plugin_billing.invoices (id, number, user_id, period_start, period_end, currency, subtotal_minor,
                credits_minor, total_minor, status, due_at, issued_at, paid_at, closed_at, legacy_id, created_at)
              VALUES (${uuidOf("invoice", r.id)}::uuid, ${r.invoice_number}, ${r.user_id}, ${r.period_start}, ${r.period_end}, 'USD',
                ${minor.toString()}::bigint, 0, ${minor.toString()}::bigint, ${status}, ${r.period_end}, ${r.created_at ?? now},
                ${r.paid_at}, ${status === "paid" ? (r.paid_at ?? now) : null}, ${r.id}, ${r.created_at ?? now})
              ON CONFLICT DO NOTHING RETURNING id`
            inserted += done.length
          }
          summary.push({
            source: "invoices",
            found: rows.length,
            inserted,
            skipped,
            note: skipped > 0 ? "skipped: unknown status or amount" : ""
          })
        } else summary.push({ source: "invoices", found: 0, inserted: 0, skipped: 0, note: "table absent" })

        // payment methods
        if (await exists("payment_methods")) {
          const rows = (await legacy`
            SELECT id, user_id, type, last4, is_default, created_at FROM payment_methods ORDER BY created_at, id`) as Array<{
            id: string
            user_id: string
            type: string
            last4: string
            is_default: boolean | null
            created_at: Date | null
          }>
          let inserted = 0
          let skipped = 0
          for (const r of rows) {
            const last4 = /^\d{4}$/.test(r.last4 ?? "") ? r.last4 : null
            const done = await tx`
              INSERT INTO plugin_billing.payment_methods (id, user_id, provider, token, brand, last4, is_default, legacy_id, created_at)
              VALUES (${uuidOf("payment-method", r.id)}::uuid, ${r.user_id}, 'legacy', NULL, ${r.type}, ${last4},
                ${r.is_default ?? false}, ${r.id}, ${r.created_at ?? now})
              ON CONFLICT DO NOTHING RETURNING id`
            inserted += done.length
            if (last4 === null) skipped++
          }
          summary.push({
            source: "payment_methods",
            found: rows.length,
            inserted,
            skipped: 0,
            note: `tokenless (provider legacy)${skipped > 0 ? `; ${skipped} without a valid last4` : ""}`
          })
        } else summary.push({ source: "payment_methods", found: 0, inserted: 0, skipped: 0, note: "table absent" })

        // billing_config (never created upstream; guarded)
        if (await exists("billing_config")) {
          const rows = (await legacy`SELECT key, value::text AS value FROM billing_config`) as Array<{
            key: string
            value: string
          }>
          const resourceOf: Record<string, string> = { cpu_rate: "cpu", memory_rate: "memory", storage_rate: "storage" }
          let inserted = 0
          let skipped = 0
          for (const r of rows) {
            const resource = resourceOf[r.key]
            const nano = Money.toNano(r.value.trim())
            if (!resource || nano === undefined) {
              skipped++
              continue
            }
            const done = await tx`
              INSERT INTO plugin_billing.price_rules (scope, scope_id, resource, rate_nano, effective_from, created_at, created_by)
              VALUES ('base', '', ${resource}, ${nano.toString()}::bigint, '1970-01-01T00:00:00Z', ${now}, 'legacy')
              ON CONFLICT DO NOTHING RETURNING id`
            inserted += done.length
            if (done.length === 0) skipped++
          }
          summary.push({
            source: "billing_config",
            found: rows.length,
            inserted,
            skipped,
            note: skipped > 0 ? "skipped: unknown keys, or base rates from the epoch already set (by the config)" : ""
          })
        } else
          summary.push({
            source: "billing_config",
            found: 0,
            inserted: 0,
            skipped: 0,
            note: "table absent (as upstream)"
          })

        // sessions → usage backfill
        if (await exists("sessions")) {
          const cols = await columns("sessions")
          const end = cols.has("terminated_at") ? "COALESCE(terminated_at, updated_at)" : "updated_at"
          const template = cols.has("template_name")
            ? "template_name"
            : cols.has("template_id")
              ? "template_id::text"
              : "''"
          const rows = (await legacy.unsafe(
            `SELECT id::text AS id, user_id::text AS user_id, ${template} AS template, cpu::text AS cpu, memory::text AS memory,
               created_at, ${end} AS ended_at FROM sessions ORDER BY created_at, id`
          )) as Array<{
            id: string
            user_id: string
            template: string | null
            cpu: string | null
            memory: string | null
            created_at: Date
            ended_at: Date | null
          }>
          let inserted = 0
          let skipped = 0
          for (const r of rows) {
            const cpu = millicores(r.cpu)
            const memory = mebibytes(r.memory)
            const start = new Date(r.created_at).getTime()
            const stop = r.ended_at ? new Date(r.ended_at).getTime() : Number.NaN
            if (cpu === undefined || memory === undefined || !(stop > start)) {
              skipped++
              continue
            }
            const sessionId = `legacy:${r.id}`
            const fresh = await tx`
              INSERT INTO plugin_billing.meter_sessions (session_id, user_id, template_id, groups, cpu, memory, sizing, created_at, ended_at)
              VALUES (${sessionId}, ${r.user_id}, ${r.template ?? ""}, '{}', ${cpu}, ${memory}, 'legacy', ${new Date(start)}, ${new Date(stop)})
              ON CONFLICT DO NOTHING RETURNING session_id`
            if (fresh.length === 0) continue
            inserted++
            const usage: Array<Record<string, unknown>> = []
            for (let h = Math.floor(start / HOUR) * HOUR; h < stop; h += HOUR) {
              const ms = Math.min(stop, h + HOUR) - Math.max(start, h)
              for (const [resource, size] of [
                ["cpu", cpu],
                ["memory", memory]
              ] as const)
                usage.push({
                  session_id: sessionId,
                  user_id: r.user_id,
                  template_id: r.template ?? "",
                  hour_start: new Date(h).toISOString(),
                  resource,
                  quantity: (BigInt(ms) * BigInt(size)).toString(),
                  revision: 1,
                  created_at: now.toISOString()
                })
            }
            await tx.unsafe(
              `INSERT INTO plugin_billing.usage_records (session_id, user_id, template_id, hour_start, resource, quantity, revision, created_at)
               SELECT session_id, user_id, template_id, hour_start, resource, quantity, revision, created_at
               FROM jsonb_to_recordset($1::text::jsonb) AS x(session_id text, user_id text, template_id text,
                 hour_start timestamptz, resource text, quantity bigint, revision integer, created_at timestamptz)
               ON CONFLICT DO NOTHING`,
              [JSON.stringify(usage)]
            )
          }
          summary.push({
            source: "sessions (usage backfill)",
            found: rows.length,
            inserted,
            skipped,
            note: skipped > 0 ? "skipped: no end time or unreadable cpu/memory" : ""
          })
        } else
          summary.push({ source: "sessions (usage backfill)", found: 0, inserted: 0, skipped: 0, note: "table absent" })

        if (options.dryRun) throw new DryRun()
      })
      .catch((e) => {
        if (!(e instanceof DryRun)) throw e
      })
  } finally {
    await legacy.close()
    await ours.close()
  }
  const log = options.log ?? console.log
  const pad = (s: string | number, n: number) => String(s).padEnd(n)
  log(options.dryRun ? "DRY RUN: nothing was written; this is what a real run would insert." : "Migrated.")
  log(`${pad("source", 28)}${pad("found", 8)}${pad("inserted", 10)}${pad("skipped", 9)}note`)
  for (const r of summary)
    log(`${pad(r.source, 28)}${pad(r.found, 8)}${pad(r.inserted, 10)}${pad(r.skipped, 9)}${r.note}`)
  return summary
}

const argOf = (name: string) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

if (import.meta.main) {
  const from = argOf("--from")
  const to = argOf("--to") ?? process.env["DATABASE_URL"]
  if (!from || !to) {
    console.error("usage: bun run billing:migrate-legacy --from postgres://legacy… [--to postgres://ours…] [--dry-run]")
    console.error("--to defaults to DATABASE_URL")
    process.exit(2)
  }
  await migrate({ from, to, dryRun: process.argv.includes("--dry-run") }).catch((e: unknown) => {
    console.error(`migration failed: ${e instanceof Error ? e.message : String(e)}`)
    process.exit(1)
  })
}
