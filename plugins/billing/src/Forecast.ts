/**
 * The forecast of a period's total: ordinary least squares over the daily
 * costs of the period's complete days (day index → cost), extrapolated over
 * the days left, each projected day clamped at zero, plus what is already
 * spent. With fewer than two complete days the average daily cost is used
 * (none: the cost so far). Amounts are minor units; the projection is
 * rounded half up once, at the end.
 */
import { roundDiv } from "./Money.ts"

export interface Forecast {
  readonly method: "linear-trend" | "daily-average" | "to-date"
  readonly projectedMinor: bigint
  readonly totalMinor: bigint
  readonly slopePerDayMinor: number
}

/**
 * `daily`: the cost of each complete day so far (minor units), oldest first;
 * `toDate`: everything spent in the period so far (complete days and today);
 * `remainingDays`: whole days after today, plus the rest of today as a fraction.
 */
export const forecast = (daily: ReadonlyArray<bigint>, toDate: bigint, remainingDays: number): Forecast => {
  const n = daily.length
  if (n === 0 || remainingDays <= 0)
    return { method: "to-date", projectedMinor: 0n, totalMinor: toDate, slopePerDayMinor: 0 }
  // Exact rational arithmetic in integers: x = 0..n-1, slope = Sxy/Sxx over centred sums, scaled by n.
  const ys = daily
  const sumY = ys.reduce((a, b) => a + b, 0n)
  if (n < 2) {
    const projected = roundDiv(sumY * BigInt(Math.round(remainingDays * 1_000_000)), BigInt(n) * 1_000_000n)
    return { method: "daily-average", projectedMinor: projected, totalMinor: toDate + projected, slopePerDayMinor: 0 }
  }
  const N = BigInt(n)
  let sxy = 0n
  let sxx = 0n
  for (let i = 0; i < n; i++) {
    const dx = 2n * BigInt(i) - (N - 1n) // 2(x - mean)
    sxy += dx * (ys[i]! * N - sumY) // (2dx) * (n·y - Σy)
    sxx += dx * dx
  }
  // With dx = 2(x - x̄): ŷ(x) = (Σy·sxx + sxy·dx) / (n·sxx), and the slope is 2·sxy / (n·sxx).
  // Project days x = n, n+1, …; a fractional last day counts pro rata (scale 10^6).
  const SCALE = 1_000_000n
  let projectedScaled = 0n
  const den = sxx * N
  const whole = Math.floor(remainingDays)
  const frac = BigInt(Math.round((remainingDays - whole) * 1_000_000))
  const dayValue = (x: number) => {
    const dx = 2n * BigInt(x) - (N - 1n)
    const v = sumY * sxx + sxy * dx
    return v < 0n ? 0n : v
  }
  for (let k = 0; k < whole; k++) projectedScaled += dayValue(n + k) * SCALE
  if (frac > 0n) projectedScaled += dayValue(n + whole) * frac
  const projected = roundDiv(projectedScaled, den * SCALE)
  return {
    method: "linear-trend",
    projectedMinor: projected,
    totalMinor: toDate + projected,
    slopePerDayMinor: (2 * Number(sxy)) / Number(sxx * N)
  }
}
