/**
 * The RFC 5545 recurrence subset schedules use — FREQ DAILY / WEEKLY /
 * MONTHLY, INTERVAL, BYDAY (weekly), BYMONTHDAY (monthly), COUNT, UNTIL —
 * expanded in the schedule's wall-clock time, then placed in UTC through
 * its time zone, so 09:00 stays 09:00 across a DST change. Exceptions
 * (EXDATE) are local dates. COUNT counts the instances the rule makes,
 * exceptions included, as RFC 5545 does.
 */
import { Schema } from "effect"
import { floating, formatDate, fromFloating, type LocalDateTime, parseDate, utcOf } from "./Time.ts"

export const weekdays = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] as const
export const Weekday = Schema.Literal(...weekdays)
export type Weekday = typeof Weekday.Type

export const LocalDate = Schema.String.pipe(
  Schema.filter((s) => parseDate(s) !== undefined || "a date YYYY-MM-DD", { identifier: "LocalDate" })
)

export const Recurrence = Schema.Struct({
  freq: Schema.Literal("DAILY", "WEEKLY", "MONTHLY"),
  interval: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 366)), { default: () => 1 }),
  /** WEEKLY only: the days of the week (default: the start's). */
  byDay: Schema.optional(Schema.Array(Weekday).pipe(Schema.minItems(1), Schema.maxItems(7))),
  /** MONTHLY only: days of the month, negative from the end (default: the start's). */
  byMonthDay: Schema.optional(
    Schema.Array(
      Schema.Int.pipe(
        Schema.between(-31, 31),
        Schema.filter((n) => n !== 0 || "not 0")
      )
    ).pipe(Schema.minItems(1), Schema.maxItems(31))
  ),
  count: Schema.optional(Schema.Int.pipe(Schema.between(1, 1000))),
  /** The last local date an occurrence may start on (inclusive). */
  until: Schema.optional(LocalDate)
})
export type Recurrence = typeof Recurrence.Type

/** Everything the expansion needs of a schedule. */
export interface Rule {
  readonly timeZone: string
  readonly start: LocalDateTime
  readonly durationMinutes: number
  readonly recurrence: Recurrence | null
  /** Local dates (YYYY-MM-DD) without an occurrence. */
  readonly exceptions: ReadonlyArray<string>
}

export interface Instance {
  readonly local: LocalDateTime
  readonly start: number
  readonly end: number
}

const DAY = 86_400_000
const weekdayOf = (floatingMs: number) => (new Date(floatingMs).getUTCDay() + 6) % 7 // MO = 0

/** The UTC instant after which no occurrence may start (`until` is inclusive, to the end of that local day). */
export const untilInstant = (rule: Rule): number | undefined => {
  const until = rule.recurrence?.until && parseDate(rule.recurrence.until)
  return until ? utcOf({ ...until, hour: 23, minute: 59, second: 59 }, rule.timeZone) : undefined
}

/** Local start times the rule makes, in order, before exceptions (at most `limit`). */
function* candidates(rule: Rule): Generator<LocalDateTime> {
  const r = rule.recurrence
  const start = floating(rule.start)
  const timeOfDay = start - Math.floor(start / DAY) * DAY
  const startDay = start - timeOfDay
  if (!r) {
    yield rule.start
    return
  }
  const at = (dayMs: number) => fromFloating(dayMs + timeOfDay)
  if (r.freq === "DAILY") {
    for (let k = 0; ; k++) yield at(startDay + k * r.interval * DAY)
  }
  if (r.freq === "WEEKLY") {
    const days = (r.byDay ?? [weekdays[weekdayOf(startDay)]!]).map((d) => weekdays.indexOf(d)).sort((a, b) => a - b)
    const weekStart = startDay - weekdayOf(startDay) * DAY
    for (let k = 0; ; k++)
      for (const d of days) {
        const day = weekStart + (k * r.interval * 7 + d) * DAY
        if (day >= startDay) yield at(day)
      }
  }
  const first = fromFloating(startDay)
  const monthDays = r.byMonthDay ?? [first.day]
  for (let k = 0; ; k++) {
    const monthIndex = first.month - 1 + k * r.interval
    const year = first.year + Math.floor(monthIndex / 12)
    const month = monthIndex % 12
    const length = new Date(Date.UTC(year, month + 1, 0)).getUTCDate()
    const days = monthDays
      .map((d) => (d > 0 ? d : length + d + 1))
      .filter((d) => d >= 1 && d <= length)
      .sort((a, b) => a - b)
    for (const d of [...new Set(days)]) {
      const day = Date.UTC(year, month, d)
      if (day >= startDay) yield at(day)
    }
  }
}

/**
 * Occurrences that overlap [fromMs, toMs), in order. Stops after `maxInstances` candidates
 * (a guard for unbounded rules asked about a wide window).
 */
export const expand = (rule: Rule, fromMs: number, toMs: number, maxInstances = 5000): ReadonlyArray<Instance> => {
  const out: Array<Instance> = []
  const count = rule.recurrence?.count
  const until = untilInstant(rule)
  const skip = new Set(rule.exceptions)
  const duration = rule.durationMinutes * 60_000
  let made = 0
  for (const local of candidates(rule)) {
    made++
    if (count !== undefined && made > count) break
    if (made > maxInstances) break
    const start = utcOf(local, rule.timeZone)
    if (until !== undefined && start > until) break
    if (start >= toMs) break
    if (skip.has(formatDate(local))) continue
    if (start + duration > fromMs) out.push({ local, start, end: start + duration })
  }
  return out
}

/** The RRULE value (`FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;UNTIL=…Z`). */
export const toRRule = (rule: Rule): string | undefined => {
  const r = rule.recurrence
  if (!r) return undefined
  const parts = [`FREQ=${r.freq}`]
  if (r.interval !== 1) parts.push(`INTERVAL=${r.interval}`)
  if (r.freq === "WEEKLY" && r.byDay) parts.push(`BYDAY=${r.byDay.join(",")}`)
  if (r.freq === "MONTHLY" && r.byMonthDay) parts.push(`BYMONTHDAY=${r.byMonthDay.join(",")}`)
  if (r.count !== undefined) parts.push(`COUNT=${r.count}`)
  const until = untilInstant(rule)
  if (until !== undefined) parts.push(`UNTIL=${utcStamp(until)}`)
  return parts.join(";")
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0")

/** `20260330T070000Z` */
export const utcStamp = (ms: number): string => {
  const d = new Date(ms)
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`
}

/** `20260330T090000` (local, for TZID= values) */
export const localStamp = (l: LocalDateTime): string =>
  `${pad(l.year, 4)}${pad(l.month)}${pad(l.day)}T${pad(l.hour)}${pad(l.minute)}${pad(l.second)}`

/** Whether the rule makes no occurrence at all (every candidate excepted, or UNTIL before the start). */
export const isEmpty = (rule: Rule): boolean =>
  expand(rule, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 2000).length === 0

export const weekdayName = (d: Weekday): string =>
  ({ MO: "monday", TU: "tuesday", WE: "wednesday", TH: "thursday", FR: "friday", SA: "saturday", SU: "sunday" })[d]

export const weekdayOfLocal = (l: LocalDateTime): Weekday => weekdays[weekdayOf(floating(l))]!
