/**
 * When failed logins are throttled, pure.
 *
 * An account is held after `maxFailedLogins` failures since its last success
 * within the window, whoever tries it, from wherever, the right password
 * included: that is the price of stopping a guesser who changes addresses,
 * and it means a guesser can hold one account (never more than the accounts
 * it targets) for a window.
 *
 * A client address is held only after `maxUnknownUserFailuresPerIp` failures
 * against usernames that do not exist (a spray), and then not for accounts
 * that have logged in from that address before: failures against real
 * accounts count against those accounts alone, so a user behind the same NAT
 * or ingress cannot lock the others out, and made-up usernames cannot lock
 * out the admin who works from there. The hold refuses before the password
 * is checked and whatever the username, so it reveals nothing about which
 * usernames exist.
 *
 * The wait runs until the oldest counted failure leaves the window (at least
 * one second).
 */

/** Failed attempts counted in the window and when the oldest of them was. */
export interface Failures {
  readonly count: number
  readonly firstAtMs: number | null
}

export interface ThrottlePolicy {
  readonly maxFailedLogins: number
  readonly failedLoginWindowSeconds: number
  readonly maxUnknownUserFailuresPerIp: number
}

export interface LoginFailures {
  /** The account's failures since its last success. */
  readonly byUser: Failures
  /**
   * Failures for unknown usernames from the client's address; leave out when
   * the address is unknown or the account has logged in from it before.
   */
  readonly unknownUsersByIp?: Failures | undefined
}

/** Seconds to wait before trying again, or undefined when neither the account nor the address is held. */
export const retryAfterSeconds = (
  policy: ThrottlePolicy,
  failures: LoginFailures,
  atMs: number
): number | undefined => {
  const over = [
    { failures: failures.byUser, max: policy.maxFailedLogins },
    ...(failures.unknownUsersByIp
      ? [{ failures: failures.unknownUsersByIp, max: policy.maxUnknownUserFailuresPerIp }]
      : [])
  ].find((c) => c.failures.count >= c.max)
  if (!over) return undefined
  const first = over.failures.firstAtMs ?? atMs
  return Math.max(1, Math.ceil((first + policy.failedLoginWindowSeconds * 1000 - atMs) / 1000))
}
