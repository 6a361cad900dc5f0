/** Exact money, billing periods and the forecast, on synthetic data with known answers. */
import { describe, expect, test } from "bun:test"
import { Forecast, Money, Periods } from "@streamspace/plugin-billing"

const { forecast } = Forecast
const { formatMinor, lineAmount, parseMinor, quantityDisplay, roundDiv, toNano } = Money
const { duePeriod, periodOf } = Periods

describe("money", () => {
  test("config rates are read from their decimal form, exactly", () => {
    expect(toNano(0.01)).toBe(10_000_000n)
    expect(toNano(0.005)).toBe(5_000_000n)
    expect(toNano(0.1)).toBe(100_000_000n)
    expect(toNano(0.3)).toBe(300_000_000n) // 0.1 + 0.2 is not 0.3 in floats; 0.3 read as text is
    expect(toNano(12)).toBe(12_000_000_000n)
    expect(toNano("0.0000000001")).toBeUndefined()
  })

  test("one rounding per line, half up", () => {
    expect(roundDiv(5n, 10n)).toBe(1n)
    expect(roundDiv(4n, 10n)).toBe(0n)
    expect(roundDiv(-5n, 10n)).toBe(-1n)
    // 2 cores for 90 minutes at 0.01 per core-hour = 0.03 exactly
    expect(lineAmount("cpu", 2000n * 5_400_000n, 10_000_000n)).toBe(3n)
    // 1 core for 30 minutes at 0.01 = 0.005 → 0.01 (half up)
    expect(lineAmount("cpu", 1000n * 1_800_000n, 10_000_000n)).toBe(1n)
    // 1 GiB (1024 MiB) for 1 hour at 0.005 = 0.005 → 0.01; 1023 MiB → 0.00499… → 0.00
    expect(lineAmount("memory", 1024n * 3_600_000n, 5_000_000n)).toBe(1n)
    expect(lineAmount("memory", 1023n * 3_600_000n, 5_000_000n)).toBe(0n)
    expect(quantityDisplay("cpu", 2000n * 5_400_000n)).toBe("3.0000")
  })

  test("amounts format and parse with two decimals", () => {
    expect(formatMinor(1230n)).toBe("12.30")
    expect(formatMinor(-5n)).toBe("-0.05")
    expect(parseMinor("12.3")).toBe(1230n)
    expect(parseMinor("1.005")).toBeUndefined()
  })
})

describe("periods (UTC)", () => {
  test("months, quarters and years; invoices due from dayOfMonth", () => {
    const at = new Date("2026-05-17T10:00:00Z")
    expect(periodOf("monthly", at)).toEqual({
      start: new Date("2026-05-01T00:00:00Z"),
      end: new Date("2026-06-01T00:00:00Z")
    })
    expect(periodOf("quarterly", at)).toEqual({
      start: new Date("2026-04-01T00:00:00Z"),
      end: new Date("2026-07-01T00:00:00Z")
    })
    expect(periodOf("annual", at)).toEqual({
      start: new Date("2026-01-01T00:00:00Z"),
      end: new Date("2027-01-01T00:00:00Z")
    })
    expect(duePeriod("monthly", 3, new Date("2026-05-02T23:59:59Z"))).toBeUndefined()
    expect(duePeriod("monthly", 3, new Date("2026-05-03T00:00:00Z"))).toEqual({
      start: new Date("2026-04-01T00:00:00Z"),
      end: new Date("2026-05-01T00:00:00Z")
    })
    expect(duePeriod("quarterly", 1, at)).toEqual({
      start: new Date("2026-01-01T00:00:00Z"),
      end: new Date("2026-04-01T00:00:00Z")
    })
  })
})

describe("forecast: least-squares trend of the daily costs", () => {
  test("a straight line is continued exactly", () => {
    // 1.00, 2.00, 3.00 a day; two more days → 4.00 + 5.00
    const f = forecast([100n, 200n, 300n], 600n, 2)
    expect(f).toEqual({ method: "linear-trend", projectedMinor: 900n, totalMinor: 1500n, slopePerDayMinor: 100 })
  })

  test("a flat series with noise projects its mean; half a day counts half", () => {
    // y = 10, 14, 10, 14 → slope 0.8, fit at x=4: 12 + 0.8·2.5 = 14.0; half of it: 7
    const f = forecast([10n, 14n, 10n, 14n], 48n, 0.5)
    expect(f.projectedMinor).toBe(7n)
    expect(f.totalMinor).toBe(55n)
  })

  test("a falling trend never projects negative days", () => {
    // 300, 200, 100 → 0, -100 → clamped: 0 + 0
    expect(forecast([300n, 200n, 100n], 600n, 2).projectedMinor).toBe(0n)
  })

  test("one day: its average; none: the cost so far", () => {
    expect(forecast([250n], 300n, 4)).toMatchObject({
      method: "daily-average",
      projectedMinor: 1000n,
      totalMinor: 1300n
    })
    expect(forecast([], 42n, 10)).toMatchObject({ method: "to-date", totalMinor: 42n })
  })
})
