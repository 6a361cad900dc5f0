/**
 * The iCalendar (RFC 5545) feed, generated with `ical-generator`: it writes
 * the content lines (CRLF, folding at 75 octets without splitting a UTF-8
 * character, TEXT escaping), the events, RRULE and EXDATE. What the library
 * has no data for is here: the VTIMEZONE of each zone used (built from the
 * runtime's tz database for the years the events span, the library's
 * `timezone.generator` hook) and wall-clock times in the schedule's zone.
 */
import ical, {
  escape,
  type ICalDayJsStub,
  ICalCalendarMethod,
  ICalEventRepeatingFreq,
  ICalEventStatus,
  type ICalRepeatingOptions,
  ICalWeekday
} from "ical-generator"
import { localStamp, type Rule, untilInstant, type Weekday } from "./Recurrence.ts"
import { fromFloating, type LocalDateTime, offsetMinutes, transitions, utcOf } from "./Time.ts"

export interface Observance {
  readonly kind: "STANDARD" | "DAYLIGHT"
  /** Local time (before the change) at which the observance starts. */
  readonly start: LocalDateTime
  readonly offsetFrom: number
  readonly offsetTo: number
}

/** The observances of `zone` over [fromYear, toYear]: the offset on 1 January, then each transition of those years. */
export const observances = (zone: string, fromYear: number, toYear: number): ReadonlyArray<Observance> => {
  const from = Date.UTC(fromYear, 0, 1)
  const found = transitions(zone, from, Date.UTC(toYear + 1, 0, 1))
  const initial = offsetMinutes(from, zone)
  const standard = Math.min(initial, ...found.map((t) => t.to))
  return [
    {
      kind: initial > standard ? "DAYLIGHT" : "STANDARD",
      start: { year: fromYear, month: 1, day: 1, hour: 0, minute: 0, second: 0 },
      offsetFrom: initial,
      offsetTo: initial
    },
    ...found.map(
      (t): Observance => ({
        kind: t.to > t.from ? "DAYLIGHT" : "STANDARD",
        start: fromFloating(t.at + t.from * 60_000),
        offsetFrom: t.from,
        offsetTo: t.to
      })
    )
  ]
}

const offset = (minutes: number): string => {
  const sign = minutes < 0 ? "-" : "+"
  const a = Math.abs(minutes)
  return `${sign}${String(Math.floor(a / 60)).padStart(2, "0")}${String(a % 60).padStart(2, "0")}`
}

/** A VTIMEZONE component for `zone` covering [fromYear, toYear] (short lines: the library folds the whole feed). */
export const vtimezone = (zone: string, fromYear: number, toYear: number): string =>
  [
    "BEGIN:VTIMEZONE",
    `TZID:${zone}`,
    ...observances(zone, fromYear, toYear).flatMap((o) => [
      `BEGIN:${o.kind}`,
      `DTSTART:${localStamp(o.start)}`,
      `TZOFFSETFROM:${offset(o.offsetFrom)}`,
      `TZOFFSETTO:${offset(o.offsetTo)}`,
      `END:${o.kind}`
    ]),
    "END:VTIMEZONE"
  ].join("\r\n")

/**
 * A wall-clock time of the schedule's zone in the shape ical-generator reads (its Day.js-like value): with
 * an event time zone it writes `format("YYYYMMDD")T format("HHmmss")` as given. A JS Date would be read
 * in the server's own zone, and a time a DST gap skips in the server's zone would come out shifted.
 */
const wallClock = (local: LocalDateTime, zone: string): ICalDayJsStub => {
  const stamp = localStamp(local)
  const instant = new Date(utcOf(local, zone))
  return {
    format: (pattern) =>
      pattern === "YYYYMMDD" ? stamp.slice(0, 8) : pattern === "HHmmss" ? stamp.slice(9) : instant.toISOString(),
    isValid: () => true,
    toDate: () => new Date(instant),
    toJSON: () => instant.toISOString()
  }
}

export interface FeedEvent {
  readonly id: string
  readonly rule: Rule
  readonly summary: string
  readonly description: string
  readonly sequence: number
  readonly updatedAt: Date
  readonly cancelled: boolean
}

/** Control characters have no escape in TEXT values (RFC 5545 §3.3.11): they are dropped. */
const clean = (s: string) => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "")

const endLocal = (rule: Rule): LocalDateTime => {
  // DTEND in the same zone: the wall-clock time at start + duration.
  const end = utcOf(rule.start, rule.timeZone) + rule.durationMinutes * 60_000
  return fromFloating(end + offsetMinutes(end, rule.timeZone) * 60_000)
}

const weekday: Record<Weekday, ICalWeekday> = {
  MO: ICalWeekday.MO,
  TU: ICalWeekday.TU,
  WE: ICalWeekday.WE,
  TH: ICalWeekday.TH,
  FR: ICalWeekday.FR,
  SA: ICalWeekday.SA,
  SU: ICalWeekday.SU
}

const freq = {
  DAILY: ICalEventRepeatingFreq.DAILY,
  WEEKLY: ICalEventRepeatingFreq.WEEKLY,
  MONTHLY: ICalEventRepeatingFreq.MONTHLY
} as const

/** The schedule's RRULE and EXDATE as ical-generator options (UNTIL as a UTC instant, as RFC 5545 asks with a TZID start). */
export const repeating = (rule: Rule): ICalRepeatingOptions | null => {
  const r = rule.recurrence
  if (!r) return null
  const until = untilInstant(rule)
  const exceptions = [...rule.exceptions].sort()
  return {
    freq: freq[r.freq],
    ...(r.interval !== 1 ? { interval: r.interval } : {}),
    ...(r.freq === "WEEKLY" && r.byDay ? { byDay: r.byDay.map((d) => weekday[d]) } : {}),
    ...(r.freq === "MONTHLY" && r.byMonthDay ? { byMonthDay: [...r.byMonthDay] } : {}),
    ...(r.count !== undefined ? { count: r.count } : {}),
    ...(until !== undefined ? { until: new Date(until) } : {}),
    ...(exceptions.length > 0
      ? {
          exclude: exceptions.map((d) => {
            const [year, month, day] = d.split("-").map(Number)
            return wallClock({ ...rule.start, year: year!, month: month!, day: day! }, rule.timeZone)
          })
        }
      : {})
  }
}

/** Years each zone's VTIMEZONE covers: from the first start to the last UNTIL (or a year past now), 20 at most. */
const zoneYears = (events: ReadonlyArray<FeedEvent>, now: Date): ReadonlyMap<string, readonly [number, number]> => {
  const years = new Map<string, readonly [number, number]>()
  const thisYear = now.getUTCFullYear()
  for (const e of events) {
    const y = e.rule.start.year
    const untilYear = e.rule.recurrence?.until ? Number(e.rule.recurrence.until.slice(0, 4)) : Math.max(y, thisYear) + 1
    const [a, b] = years.get(e.rule.timeZone) ?? [y, untilYear]
    const first = Math.min(a, y)
    years.set(e.rule.timeZone, [first, Math.min(Math.max(b, untilYear, y), first + 20)])
  }
  return years
}

/** A whole calendar (ends with CRLF): one VTIMEZONE per zone used, then one VEVENT per schedule. */
export const calendar = (name: string, host: string, events: ReadonlyArray<FeedEvent>, now: Date): string => {
  const years = zoneYears(events, now)
  const cal = ical({
    // The library writes the calendar name as given: it is escaped here.
    name: escape(clean(name), false),
    prodId: "//StreamSpace//Calendar 1.0//EN",
    method: ICalCalendarMethod.PUBLISH,
    scale: "GREGORIAN",
    timezone: {
      name: null,
      generator: (zone) => {
        const span = years.get(zone)
        return span ? vtimezone(zone, span[0], span[1]) : null
      }
    }
  })
  for (const e of events) {
    const zone = e.rule.timeZone
    cal.createEvent({
      id: `${e.id}@${host}`,
      sequence: e.sequence,
      stamp: e.updatedAt,
      lastModified: e.updatedAt,
      timezone: zone,
      start: wallClock(e.rule.start, zone),
      end: wallClock(endLocal(e.rule), zone),
      summary: clean(e.summary),
      ...(e.description ? { description: clean(e.description) } : {}),
      repeating: repeating(e.rule),
      status: e.cancelled ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED
    })
  }
  return `${cal.toString()}\r\n`
}
