/**
 * When failed logins are throttled, pure: an account is held after
 * `maxFailedLogins` failures since its last success within the window, an
 * IP after four times as many; the wait runs until the oldest counted
 * failure leaves the window (at least one second).
 */

/** Failed attempts counted in the window and when the oldest of them was. */
export interface Failures {
  readonly count: number
  readonly firstAtMs: number | null
}

export interface ThrottlePolicy {
  readonly maxFailedLogins: number
  readonly failedLoginWindowSeconds: number
}

/** Seconds to wait before trying again, or undefined when neither the account nor the IP (when known) is held. */
export const retryAfterSeconds = (
  policy: ThrottlePolicy,
  failures: { readonly byUser: Failures; readonly byIp?: Failures | undefined },
  atMs: number
): number | undefined => {
  const over = [
    { failures: failures.byUser, max: policy.maxFailedLogins },
    ...(failures.byIp ? [{ failures: failures.byIp, max: policy.maxFailedLogins * 4 }] : [])
  ].find((c) => c.failures.count >= c.max)
  if (!over) return undefined
  const first = over.failures.firstAtMs ?? atMs
  return Math.max(1, Math.ceil((first + policy.failedLoginWindowSeconds * 1000 - atMs) / 1000))
}
