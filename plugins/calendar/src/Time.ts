/**
 * Wall-clock time in IANA time zones, from the runtime's own tz database
 * (Intl): local → UTC (a time in a spring-forward gap takes the offset from
 * before the gap, an ambiguous fall-back time its first instant, as RFC 5545
 * §3.3.5 says), UTC → local, and the offset transitions of a zone.
 */

export interface LocalDateTime {
  readonly year: number
  readonly month: number // 1–12
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()
const formatter = (zone: string): Intl.DateTimeFormat => {
  let f = formatters.get(zone)
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric"
    })
    formatters.set(zone, f)
  }
  return f
}

export const isTimeZone = (zone: string): boolean => {
  if (zone.length === 0 || zone.length > 100) return false
  try {
    formatter(zone)
    return true
  } catch {
    return false
  }
}

export const localOf = (ms: number, zone: string): LocalDateTime => {
  const parts: Record<string, number> = {}
  for (const p of formatter(zone).formatToParts(ms)) if (p.type !== "literal") parts[p.type] = Number(p.value)
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: (parts.hour ?? 0) % 24,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0
  }
}

/** The calendar fields as if they were UTC (a "floating" instant, for date arithmetic). */
export const floating = (l: LocalDateTime): number => Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second)

export const fromFloating = (ms: number): LocalDateTime => {
  const d = new Date(ms)
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds()
  }
}

/** Minutes east of UTC at instant `ms`. */
export const offsetMinutes = (ms: number, zone: string): number =>
  Math.round((floating(localOf(ms, zone)) - Math.floor(ms / 1000) * 1000) / 60_000)

const same = (a: LocalDateTime, b: LocalDateTime) =>
  a.year === b.year &&
  a.month === b.month &&
  a.day === b.day &&
  a.hour === b.hour &&
  a.minute === b.minute &&
  a.second === b.second

/** The UTC instant of a wall-clock time in `zone`. */
export const utcOf = (local: LocalDateTime, zone: string): number => {
  const guess = floating(local)
  const before = offsetMinutes(guess - 14 * 3_600_000, zone)
  const after = offsetMinutes(guess + 14 * 3_600_000, zone)
  for (const offset of before === after ? [before] : [before, after]) {
    const t = guess - offset * 60_000
    if (same(localOf(t, zone), local)) return t
  }
  // In a gap: the offset from before the gap (02:30 on a spring-forward night is 03:30 of the new offset).
  return guess - before * 60_000
}

export interface Transition {
  readonly at: number
  readonly from: number
  readonly to: number
}

/** Offset changes of `zone` between two instants (found hourly, then to the minute). */
export const transitions = (zone: string, fromMs: number, toMs: number): ReadonlyArray<Transition> => {
  const out: Array<Transition> = []
  const step = 3_600_000
  let t = Math.floor(fromMs / step) * step
  let prev = offsetMinutes(t, zone)
  for (; t < toMs; t += step) {
    const next = offsetMinutes(t + step, zone)
    if (next !== prev) {
      let lo = t
      let hi = t + step
      while (hi - lo > 60_000) {
        const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000
        if (offsetMinutes(mid, zone) === prev) lo = mid
        else hi = mid
      }
      out.push({ at: hi, from: prev, to: next })
      prev = next
    }
  }
  return out
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0")

/** `2026-03-29T02:00` */
export const formatLocal = (l: LocalDateTime): string =>
  `${pad(l.year, 4)}-${pad(l.month)}-${pad(l.day)}T${pad(l.hour)}:${pad(l.minute)}`

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** A `YYYY-MM-DDTHH:MM` wall-clock time, or undefined when it is not a real calendar time. */
export const parseLocal = (s: string): LocalDateTime | undefined => {
  const m = LOCAL.exec(s)
  if (!m) return undefined
  const l = { year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +m[4]!, minute: +m[5]!, second: 0 }
  return same(fromFloating(floating(l)), l) && l.hour < 24 ? l : undefined
}

/** A `YYYY-MM-DD` date (as midnight), or undefined. */
export const parseDate = (s: string): LocalDateTime | undefined => {
  const m = DATE.exec(s)
  if (!m) return undefined
  const l = { year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: 0, minute: 0, second: 0 }
  return same(fromFloating(floating(l)), l) ? l : undefined
}

export const formatDate = (l: LocalDateTime): string => `${pad(l.year, 4)}-${pad(l.month)}-${pad(l.day)}`
