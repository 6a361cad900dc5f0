/**
 * Exact money. Amounts are integer minor units (cents, pence) in `bigint`;
 * rates are integer nano-units of the currency (10^-9) per unit-hour;
 * quantities are integer millicore-milliseconds (cpu), MiB-milliseconds
 * (memory) and byte-seconds (storage). No floating point touches an amount: a configured rate (a JSON
 * number) is read from its shortest decimal form, to at most 9 decimals.
 *
 * Rounding: one rounding per invoice line (template × resource × rate), half
 * up (away from zero), to the currency's minor unit. Totals are sums of
 * rounded lines, so an invoice always adds up.
 */

export type Resource = "cpu" | "memory" | "storage"
export const resources: ReadonlyArray<Resource> = ["cpu", "memory", "storage"]

export const NANO_PER_MINOR = 10_000_000n
const MS_PER_HOUR = 3_600_000n

/** Hours in the month storage is priced by (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730n

/**
 * Quantity units per priced unit: millicore-ms per core-hour, MiB-ms per
 * GiB-hour, byte-seconds per GiB-month (storage is priced per GB-month, the
 * legacy meaning of `storageGBRate`; a month is 730 hours).
 */
export const unitDivisor: Record<Resource, bigint> = {
  cpu: 1000n * MS_PER_HOUR,
  memory: 1024n * MS_PER_HOUR,
  storage: 1024n * 1024n * 1024n * HOURS_PER_MONTH * 3600n
}
export const unitName: Record<Resource, string> = { cpu: "core-hours", memory: "GB-hours", storage: "GB-months" }

/** A non-negative decimal (number or string) as nano-units; undefined when it has more than 9 decimals. */
export const toNano = (value: number | string): bigint | undefined => {
  const text = typeof value === "number" ? (Number.isInteger(value) ? value.toFixed(0) : shortest(value)) : value
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text)
  if (!m) return undefined
  return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"))
}

const shortest = (n: number) => {
  const s = String(n)
  return s.includes("e") ? n.toFixed(9).replace(/0+$/, "") : s
}

/** Nano-units as a decimal string without trailing zeros ("0.01"). */
export const nanoToDecimal = (nano: bigint): string => {
  const whole = nano / 1_000_000_000n
  const frac = (nano % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "")
  return frac === "" ? whole.toString() : `${whole}.${frac}`
}

/** num / den rounded half up (both non-negative, or num negative: half away from zero). */
export const roundDiv = (num: bigint, den: bigint): bigint => {
  const negative = num < 0n
  const n = negative ? -num : num
  const q = n / den
  const r = n % den
  const rounded = r * 2n >= den ? q + 1n : q
  return negative ? -rounded : rounded
}

/** The amount of one line: quantity × rate, rounded once to minor units. */
export const lineAmount = (resource: Resource, quantity: bigint, rateNano: bigint): bigint =>
  roundDiv(quantity * rateNano, unitDivisor[resource] * NANO_PER_MINOR)

/** The quantity in priced units, as a decimal string (rounded half up), for display: 4 decimals, 6 for storage. */
export const quantityDisplay = (resource: Resource, quantity: bigint): string => {
  const places = resource === "storage" ? 6 : 4
  const scale = 10n ** BigInt(places)
  const scaled = roundDiv(quantity * scale, unitDivisor[resource])
  const negative = scaled < 0n
  const n = negative ? -scaled : scaled
  return `${negative ? "-" : ""}${n / scale}.${(n % scale).toString().padStart(places, "0")}`
}

/** Minor units as a decimal string with 2 decimals ("-0.05", "12.30"). */
export const formatMinor = (minor: bigint): string => {
  const negative = minor < 0n
  const n = negative ? -minor : minor
  return `${negative ? "-" : ""}${n / 100n}.${(n % 100n).toString().padStart(2, "0")}`
}

/** "12.30" → 1230n; undefined for anything but a decimal with at most 2 places. */
export const parseMinor = (text: string): bigint | undefined => {
  const m = /^(-)?(\d+)(?:\.(\d{1,2}))?$/.exec(text)
  if (!m) return undefined
  const value = BigInt(m[2]!) * 100n + BigInt((m[3] ?? "").padEnd(2, "0"))
  return m[1] ? -value : value
}
