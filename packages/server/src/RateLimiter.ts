/**
 * Per-caller request budgets by route class, as fixed one-minute windows in
 * this process. (Each API replica counts on its own; with N replicas behind
 * a balancer the effective budget is up to N times higher.)
 */
import type { HttpRoute } from "@streamspace/core"

export const budgets: Record<HttpRoute.RateLimitClass, number> = {
  standard: 100,
  strict: 10,
  none: Number.POSITIVE_INFINITY
}

export interface RateLimitDecision {
  readonly allowed: boolean
  readonly retryAfterSeconds: number
}

export const make = (enabled = true, now: () => number = Date.now) => {
  const windows = new Map<string, { start: number; count: number }>()
  let lastSweep = now()
  return {
    check: (cls: HttpRoute.RateLimitClass, caller: string): RateLimitDecision => {
      const limit = budgets[cls]
      if (!enabled || !Number.isFinite(limit)) return { allowed: true, retryAfterSeconds: 0 }
      const t = now()
      if (t - lastSweep > 60_000) {
        for (const [key, w] of windows) if (t - w.start >= 60_000) windows.delete(key)
        lastSweep = t
      }
      const key = `${cls}:${caller}`
      const w = windows.get(key)
      if (!w || t - w.start >= 60_000) {
        windows.set(key, { start: t, count: 1 })
        return { allowed: true, retryAfterSeconds: 0 }
      }
      w.count++
      return w.count <= limit
        ? { allowed: true, retryAfterSeconds: 0 }
        : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((w.start + 60_000 - t) / 1000)) }
    }
  }
}

export type RateLimiter = ReturnType<typeof make>
