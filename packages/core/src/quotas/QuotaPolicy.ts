/**
 * Quota arithmetic, pure: a request must fit every quota that binds the
 * user (their own and each of their groups'); the first limit it breaks is
 * reported, the user's own before a group's. A limit the request does not
 * add to (0) never refuses it, so a user already over a lowered limit can
 * still act on what they have.
 */
import type { Quota, Request, Scope, ScopedQuota, Usage } from "./QuotaModel.ts"

export type LimitName = "sessions" | "cpu" | "memory" | "storage"

const limits: ReadonlyArray<{ readonly limit: LimitName; readonly max: (q: Quota) => number | null }> = [
  { limit: "sessions", max: (q) => q.maxSessions },
  { limit: "cpu", max: (q) => q.maxCpu },
  { limit: "memory", max: (q) => q.maxMemory },
  { limit: "storage", max: (q) => q.maxStorage }
]

export interface Exceeded {
  readonly scope: Scope
  readonly scopeId: string
  readonly limit: LimitName
  readonly max: number
  /** Usage plus the request: what the limit would become. */
  readonly requested: number
}

/** The first limit `request` on top of `used` would break, or undefined when it fits them all. */
export const exceeded = (quotas: ReadonlyArray<ScopedQuota>, used: Usage, request: Request): Exceeded | undefined => {
  const ordered = [...quotas.filter((q) => q.scope === "user"), ...quotas.filter((q) => q.scope !== "user")]
  for (const { scope, scopeId, quota } of ordered) {
    for (const { limit, max } of limits) {
      const cap = max(quota)
      const wanted = used[limit] + request[limit]
      if (cap === null || request[limit] === 0 || wanted <= cap) continue
      return { scope, scopeId, limit, max: cap, requested: wanted }
    }
  }
  return undefined
}

export const exceededMessage = (e: Exceeded): string =>
  `${e.scope} quota exceeded: ${e.limit} would be ${e.requested}, the limit is ${e.max}`

/** Bytes a user may still store under `limit` (`null`: no limit). */
export const storageRoom = (limit: number | null, used: number): number =>
  limit === null ? Number.POSITIVE_INFINITY : Math.max(0, limit - used)
