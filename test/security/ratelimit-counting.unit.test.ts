/** RateLimiter's counting, without a database: sliding minutes, Retry-After, failed authentications, sharing between replicas. */
import { describe, expect, test } from "bun:test"
import { RateLimiter } from "@streamspace/server"
import fc from "fast-check"

/** A limiter on a clock the test moves; starts at a minute's beginning. */
const limiterAt = (startMs = 1_700_000_040_000, enabled = true) => {
  let at = startMs
  const limiter = RateLimiter.make({ enabled, now: () => at })
  return {
    limiter,
    move: (ms: number) => void (at += ms)
  }
}

const strict = RateLimiter.budgets.strict

describe("request budgets", () => {
  test("a caller gets its budget, then 429 with a Retry-After; refused requests do not count", () => {
    const { limiter } = limiterAt()
    const decisions = Array.from({ length: strict + 3 }, () => limiter.check("strict", "ip:203.0.113.1"))
    expect(decisions.slice(0, strict).every((d) => d.allowed)).toBe(true)
    expect(decisions.slice(strict).every((d) => !d.allowed && d.retryAfterSeconds > 0)).toBe(true)
    // Another caller, and another class, have budgets of their own.
    expect(limiter.check("strict", "ip:203.0.113.2").allowed).toBe(true)
    expect(limiter.check("standard", "ip:203.0.113.1").allowed).toBe(true)
  })

  test("a burst across a minute's edge cannot take twice the budget", () => {
    const { limiter, move } = limiterAt()
    move(59_500)
    for (let i = 0; i < strict; i++) expect(limiter.check("strict", "u:alice").allowed).toBe(true)
    move(1000) // half a second into the next minute: a fixed window would start again from zero
    expect(limiter.check("strict", "u:alice").allowed).toBe(false)
  })

  test("Retry-After is exactly when the caller is let through again (any history, any timing)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 59_999 }),
        (gaps, offset) => {
          const { limiter, move } = limiterAt(1_700_000_040_000 + offset)
          for (const gap of gaps) {
            move(gap)
            limiter.check("strict", "u:bob")
          }
          // Whatever came before: drive it over budget, then wait as told.
          let d = limiter.check("strict", "u:bob")
          while (d.allowed) d = limiter.check("strict", "u:bob")
          // A second earlier is still too soon (Retry-After is not longer than needed)…
          move((d.retryAfterSeconds - 1) * 1000)
          expect(limiter.check("strict", "u:bob").allowed).toBe(false)
          // …at Retry-After it is not.
          move(1000)
          expect(limiter.check("strict", "u:bob").allowed).toBe(true)
        }
      ),
      { seed: 21, numRuns: 500 }
    )
  })

  test("with limits off every request is allowed", () => {
    const { limiter } = limiterAt(undefined, false)
    expect(Array.from({ length: 50 }, () => limiter.check("strict", "ip:x").allowed).every(Boolean)).toBe(true)
    expect(limiter.authFailuresLeft("x").allowed).toBe(true)
  })
})

describe("failed authentications", () => {
  test("counted per address; the first is marked, so is the first refused; the peek counts nothing", () => {
    const { limiter } = limiterAt()
    const failures = Array.from({ length: RateLimiter.authFailureBudget + 3 }, () =>
      limiter.authFailure("198.51.100.7")
    )
    expect(failures.map((f) => f.first).filter(Boolean)).toHaveLength(2)
    expect(failures[0]).toMatchObject({ allowed: true, first: true })
    expect(failures[RateLimiter.authFailureBudget]).toMatchObject({ allowed: false, first: true })
    expect(failures.slice(RateLimiter.authFailureBudget).every((f) => !f.allowed)).toBe(true)
    expect(limiter.authFailuresLeft("198.51.100.7").allowed).toBe(false)
    expect(limiter.authFailuresLeft("198.51.100.8").allowed).toBe(true)
    expect(limiter.authFailure("198.51.100.8").first).toBe(true)
  })

  test("with limits off failures are still counted (first per minute) but never refused", () => {
    const { limiter, move } = limiterAt(undefined, false)
    const failures = Array.from({ length: 100 }, () => limiter.authFailure("198.51.100.9"))
    expect(failures.every((f) => f.allowed)).toBe(true)
    expect(failures.filter((f) => f.first)).toHaveLength(1)
    move(60_000)
    expect(limiter.authFailure("198.51.100.9").first).toBe(true)
  })
})

describe("sharing between replicas", () => {
  /** What rate_limit_counters does: add deltas, return totals; `busy` returns rows at half their budget or more. */
  const table = () => {
    const rows = new Map<string, RateLimiter.Pending["deltas"][number]>()
    const key = (c: { bucket: string; window: number }) => `${c.window}|${c.bucket}`
    return {
      exchange: (limiter: RateLimiter.SharedLimiter) => {
        const pending = limiter.drain()
        const added = pending.deltas.map((d) => {
          const total = { ...d, hits: (rows.get(key(d))?.hits ?? 0) + d.hits }
          rows.set(key(d), total)
          return total
        })
        limiter.absorb(added)
        limiter.absorb([...rows.values()].filter((r) => r.hits * 2 >= r.budget))
      }
    }
  }

  test("a caller spread over two replicas is held once the total reaches the budget", () => {
    const shared = table()
    const a = limiterAt()
    const b = limiterAt()
    for (let i = 0; i < 6; i++) expect(a.limiter.check("strict", "u:carol").allowed).toBe(true)
    shared.exchange(a.limiter)
    shared.exchange(b.limiter)
    // b learned of a's six: four left between them.
    for (let i = 0; i < 4; i++) expect(b.limiter.check("strict", "u:carol").allowed).toBe(true)
    expect(b.limiter.check("strict", "u:carol").allowed).toBe(false)
    shared.exchange(b.limiter)
    shared.exchange(a.limiter)
    expect(a.limiter.check("strict", "u:carol").allowed).toBe(false)
  })

  test("exchanging again counts nothing twice, and a failed send is sent again", () => {
    const shared = table()
    const { limiter } = limiterAt()
    for (let i = 0; i < 5; i++) limiter.check("strict", "u:dave")
    shared.exchange(limiter)
    shared.exchange(limiter)
    shared.exchange(limiter)
    const failed = (() => {
      limiter.check("strict", "u:dave")
      const pending = limiter.drain()
      pending.restore()
      return pending.deltas
    })()
    expect(failed).toEqual([expect.objectContaining({ bucket: "strict:u:dave", hits: 1 })])
    const resent = limiter.drain().deltas
    expect(resent).toEqual([expect.objectContaining({ bucket: "strict:u:dave", hits: 1 })])
    // Six counted, four left.
    for (let i = 0; i < 4; i++) expect(limiter.check("strict", "u:dave").allowed).toBe(true)
    expect(limiter.check("strict", "u:dave").allowed).toBe(false)
  })
})
