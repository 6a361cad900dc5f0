/**
 * Priced usage: usage rows of a time range (whole hours), each hour priced by
 * the rule in effect at its start, summed into lines (template × resource ×
 * rate) rounded once each (see Money.ts). Every cost view and every invoice
 * is built from these lines, so they agree to the cent.
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { lineAmount, type Resource } from "./Money.ts"
import { loadRules, resolver } from "./Pricing.ts"

export interface PricedLine {
  readonly userId: string
  readonly templateId: string
  readonly resource: Resource
  readonly rateNano: bigint
  readonly quantity: bigint
  readonly amountMinor: bigint
  /** The user's groups (lower-case) as recorded when their sessions were created. */
  readonly groups: ReadonlyArray<string>
}

export interface UsageQuery {
  readonly from: Date
  readonly to: Date
  readonly userIds?: ReadonlyArray<string>
  readonly sessionIds?: ReadonlyArray<string>
  /** Split lines per UTC day too (for forecasts and charts). */
  readonly byDay?: boolean
}

export interface DayLine extends PricedLine {
  readonly day: number
}

export const priced = (
  sql: SqlClient.SqlClient,
  fallback: Readonly<Record<Resource, bigint>>,
  q: UsageQuery
): Effect.Effect<ReadonlyArray<DayLine>, unknown> =>
  Effect.gen(function* () {
    const rules = yield* loadRules(sql)
    const rate = resolver(rules, fallback)
    const users = q.userIds ? sql`AND u.user_id = ANY(${[...q.userIds]})` : sql``
    const sessions = q.sessionIds ? sql`AND u.session_id = ANY(${[...q.sessionIds]})` : sql``
    const rows = yield* sql<{
      user_id: string
      template_id: string
      resource: Resource
      hour_start: Date
      groups: ReadonlyArray<string> | null
      q: string
    }>`
      SELECT u.user_id, u.template_id, u.resource, u.hour_start, s.groups, sum(u.quantity)::text AS q
      FROM usage_records u LEFT JOIN meter_sessions s ON s.session_id = u.session_id
      WHERE u.hour_start >= ${q.from} AND u.hour_start < ${q.to} ${users} ${sessions}
      GROUP BY u.user_id, u.template_id, u.resource, u.hour_start, s.groups`
    const lines = new Map<string, { line: Omit<DayLine, "amountMinor">; quantity: bigint }>()
    for (const r of rows) {
      const hour = new Date(r.hour_start).getTime()
      const groups = r.groups ?? []
      const { rateNano } = rate(r.resource, { userId: r.user_id, templateId: r.template_id, groups }, hour)
      const day = q.byDay ? Math.floor(hour / 86_400_000) : 0
      const key = `${r.user_id}|${r.template_id}|${r.resource}|${rateNano}|${groups.join(",")}|${day}`
      const quantity = BigInt(r.q)
      const found = lines.get(key)
      if (found) found.quantity += quantity
      else
        lines.set(key, {
          line: {
            userId: r.user_id,
            templateId: r.template_id,
            resource: r.resource,
            rateNano,
            quantity: 0n,
            groups,
            day
          },
          quantity
        })
    }
    return [...lines.values()]
      .filter((l) => l.quantity !== 0n)
      .map(({ line, quantity }) => ({
        ...line,
        quantity,
        amountMinor: lineAmount(line.resource, quantity, line.rateNano)
      }))
  })

/**
 * Lines of one user merged across group snapshots: one per template × resource × rate (an invoice's lines);
 * storage is one line per rate whatever the template (`templateId` null).
 */
export const invoiceLines = (lines: ReadonlyArray<PricedLine>) => {
  const merged = new Map<
    string,
    { templateId: string | null; resource: Resource; rateNano: bigint; quantity: bigint }
  >()
  for (const l of lines) {
    const templateId = l.resource === "storage" ? null : l.templateId
    const key = `${templateId ?? ""}|${l.resource}|${l.rateNano}`
    const found = merged.get(key)
    if (found) found.quantity += l.quantity
    else merged.set(key, { templateId, resource: l.resource, rateNano: l.rateNano, quantity: l.quantity })
  }
  return [...merged.values()]
    .sort(
      (a, b) =>
        Number(a.templateId === null) - Number(b.templateId === null) ||
        (a.templateId ?? "").localeCompare(b.templateId ?? "") ||
        a.resource.localeCompare(b.resource) ||
        (a.rateNano < b.rateNano ? -1 : a.rateNano > b.rateNano ? 1 : 0)
    )
    .map((l) => ({ ...l, amountMinor: lineAmount(l.resource, l.quantity, l.rateNano) }))
}

export const sum = (xs: ReadonlyArray<{ readonly amountMinor: bigint }>) => xs.reduce((a, x) => a + x.amountMinor, 0n)
