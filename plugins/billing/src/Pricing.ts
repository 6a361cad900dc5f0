/**
 * Effective-dated prices. A rule says: from `effectiveFrom` (a whole hour)
 * on, `resource` costs `rate` per unit-hour for everyone (base), a template,
 * a group or a user. The rate of an hour of usage is the most specific rule
 * in effect at that hour's start: user, then group (the lowest rate among
 * the user's groups that have one), then template, then base. A new rule
 * never changes hours before its `effectiveFrom`, so past usage keeps its
 * price. Base rules come from the config (`pricing.*`): the first enable
 * records them from the epoch, a later change from the next whole hour.
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { Resource } from "./Money.ts"

export type Scope = "base" | "template" | "group" | "user"

export interface Rule {
  readonly id: string
  readonly scope: Scope
  readonly scopeId: string
  readonly resource: Resource | "storage"
  readonly rateNano: bigint
  readonly effectiveFrom: Date
}

export interface RateContext {
  readonly userId: string
  readonly templateId: string
  readonly groups: ReadonlyArray<string>
}

export interface Rated {
  readonly rateNano: bigint
  readonly scope: Scope
}

export const loadRules = (sql: SqlClient.SqlClient) =>
  Effect.map(
    sql<{
      id: string
      scope: Scope
      scope_id: string
      resource: Resource | "storage"
      rate_nano: string
      effective_from: Date
    }>`
      SELECT id::text AS id, scope, scope_id, resource, rate_nano::text AS rate_nano, effective_from
      FROM price_rules ORDER BY effective_from DESC, id DESC`,
    (rows): ReadonlyArray<Rule> =>
      rows.map((r) => ({
        id: r.id,
        scope: r.scope,
        scopeId: r.scope_id,
        resource: r.resource,
        rateNano: BigInt(r.rate_nano),
        effectiveFrom: new Date(r.effective_from)
      }))
  )

/** A resolver over a set of rules (newest first); `fallback` is the config's rate when no base rule applies. */
export const resolver = (rules: ReadonlyArray<Rule>, fallback: Readonly<Record<Resource, bigint>>) => {
  const index = new Map<string, Array<Rule>>()
  for (const r of rules) {
    const key = `${r.scope}|${r.scopeId}|${r.resource}`
    const list = index.get(key)
    if (list) list.push(r)
    else index.set(key, [r])
  }
  const latest = (scope: Scope, id: string, resource: Resource, at: number) =>
    index.get(`${scope}|${id}|${resource}`)?.find((r) => r.effectiveFrom.getTime() <= at)
  return (resource: Resource, ctx: RateContext, at: number): Rated => {
    const user = latest("user", ctx.userId, resource, at)
    if (user) return { rateNano: user.rateNano, scope: "user" }
    let group: Rule | undefined
    for (const g of ctx.groups) {
      const r = latest("group", g, resource, at)
      if (r && (!group || r.rateNano < group.rateNano)) group = r
    }
    if (group) return { rateNano: group.rateNano, scope: "group" }
    const template = latest("template", ctx.templateId, resource, at)
    if (template) return { rateNano: template.rateNano, scope: "template" }
    const base = latest("base", "", resource, at)
    return { rateNano: base?.rateNano ?? fallback[resource], scope: "base" }
  }
}
