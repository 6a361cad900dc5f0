/** When outgoing deliveries are retried (RetryPolicy): backoff, Retry-After, dead letters, retryable statuses. */
import { describe, expect, test } from "bun:test"
import { RetryPolicy } from "@streamspace/core"

const policy = { maxAttempts: 5, backoffBaseMs: 1000, timeoutMs: 10_000 }
const t0 = Date.parse("2026-03-01T12:00:00Z")
const next = (attempts: number, extra: Partial<RetryPolicy.FailedAttempt> = {}) =>
  RetryPolicy.afterFailure(policy, { attempts, finishedAtMs: t0, ...extra })

describe("Retry-After", () => {
  test("delta-seconds become milliseconds; negative ones mean now", () => {
    expect(RetryPolicy.retryAfterMs("120", t0)).toBe(120_000)
    expect(RetryPolicy.retryAfterMs("0", t0)).toBe(0)
    expect(RetryPolicy.retryAfterMs("-5", t0)).toBe(0)
  })

  test("an HTTP date is the time until then, never negative", () => {
    expect(RetryPolicy.retryAfterMs("Sun, 01 Mar 2026 12:01:30 GMT", t0)).toBe(90_000)
    expect(RetryPolicy.retryAfterMs("Sun, 01 Mar 2026 11:00:00 GMT", t0)).toBe(0)
  })

  test("absent or unreadable headers give nothing", () => {
    expect(RetryPolicy.retryAfterMs(undefined, t0)).toBeUndefined()
    expect(RetryPolicy.retryAfterMs("", t0)).toBeUndefined()
    expect(RetryPolicy.retryAfterMs("soon", t0)).toBeUndefined()
  })
})

describe("after a failed attempt", () => {
  test("the delay doubles from the policy's base", () => {
    expect([1, 2, 3, 4].map((n) => next(n).nextAttemptAt.getTime() - t0)).toEqual([1000, 2000, 4000, 8000])
  })

  test("the delay is capped at an hour", () => {
    const slow = RetryPolicy.afterFailure(
      { ...policy, maxAttempts: 100, backoffBaseMs: 60_000 },
      { attempts: 20, finishedAtMs: t0 }
    )
    expect(slow.nextAttemptAt.getTime() - t0).toBe(3_600_000)
  })

  test("a longer Retry-After wins over the backoff; a shorter one does not", () => {
    expect(next(1, { retryAfterMs: 30_000 }).nextAttemptAt.getTime() - t0).toBe(30_000)
    expect(next(3, { retryAfterMs: 10 }).nextAttemptAt.getTime() - t0).toBe(4000)
  })

  test("the delivery is dead after the policy's attempts, or at once when the receiver said never", () => {
    expect(next(4).dead).toBe(false)
    expect(next(5).dead).toBe(true)
    expect(next(1, { permanent: true }).dead).toBe(true)
  })

  test("timeouts, throttling and server errors are retryable; other client errors are not", () => {
    expect([408, 425, 429, 500, 502, 503].every(RetryPolicy.isRetryableStatus)).toBe(true)
    expect([400, 401, 403, 404, 410, 422].some(RetryPolicy.isRetryableStatus)).toBe(false)
  })
})
