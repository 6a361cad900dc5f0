/**
 * When an outgoing delivery (webhook, integration) is tried again: doubling
 * backoff from the policy's base, capped at an hour, never sooner than the
 * receiver's `Retry-After`; dead after the policy's attempts, or at once when
 * the receiver said the request can never succeed.
 */
import type { DeliveryPolicy } from "./ServerConfig.ts"

/** Milliseconds from a Retry-After header (delta-seconds or HTTP date), if any. */
export const retryAfterMs = (header: string | null | undefined, nowMs: number): number | undefined => {
  if (!header) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs)
}

export interface FailedAttempt {
  /** Attempts so far, this one included. */
  readonly attempts: number
  readonly finishedAtMs: number
  readonly retryAfterMs?: number | undefined
  /** The receiver rejected the request for good (e.g. HTTP 400, 401, 404): do not retry. */
  readonly permanent?: boolean | undefined
}

export const afterFailure = (
  policy: DeliveryPolicy,
  attempt: FailedAttempt
): { readonly dead: boolean; readonly nextAttemptAt: Date } => {
  const backoff = Math.min(3_600_000, policy.backoffBaseMs * 2 ** (attempt.attempts - 1))
  return {
    dead: attempt.permanent === true || attempt.attempts >= policy.maxAttempts,
    nextAttemptAt: new Date(attempt.finishedAtMs + Math.max(backoff, attempt.retryAfterMs ?? 0))
  }
}

/** Whether an HTTP status means "try again later" (timeouts, throttling, server errors) rather than "never". */
export const isRetryableStatus = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500
