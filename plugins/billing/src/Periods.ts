/** Billing periods (UTC): calendar months, quarters or years, and whole hours. */

export type BillingCycle = "monthly" | "quarterly" | "annual"
export interface Period {
  readonly start: Date
  readonly end: Date
}

export const HOUR_MS = 3_600_000
export const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS
export const isHour = (d: Date) => d.getTime() % HOUR_MS === 0

const monthsOf: Record<BillingCycle, number> = { monthly: 1, quarterly: 3, annual: 12 }

/** The period of `cycle` containing `at`. */
export const periodOf = (cycle: BillingCycle, at: Date): Period => {
  const months = monthsOf[cycle]
  const y = at.getUTCFullYear()
  const m = Math.floor(at.getUTCMonth() / months) * months
  return { start: new Date(Date.UTC(y, m, 1)), end: new Date(Date.UTC(y, m + months, 1)) }
}

/** The period before `period`. */
export const previousPeriod = (cycle: BillingCycle, period: Period): Period =>
  periodOf(cycle, new Date(period.start.getTime() - 1))

/**
 * The period whose invoices are due at `at`: the last complete period, once
 * `dayOfMonth` of the current period's first month has begun (UTC); none before.
 */
export const duePeriod = (cycle: BillingCycle, dayOfMonth: number, at: Date): Period | undefined => {
  const current = periodOf(cycle, at)
  const dueFrom = Date.UTC(current.start.getUTCFullYear(), current.start.getUTCMonth(), dayOfMonth)
  return at.getTime() >= dueFrom ? previousPeriod(cycle, current) : undefined
}
