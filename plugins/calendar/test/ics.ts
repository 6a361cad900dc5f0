/**
 * Reading the feed back in tests with `node-ical` (a maintained parser),
 * after the framing checks a lenient parser does not make: CRLF line ends
 * and physical lines of at most 75 octets.
 */
import { expect } from "bun:test"
import ical, { type CalendarResponse, type TimeZoneDef, type VEvent, type VTimeZone } from "node-ical"

export interface Feed {
  readonly parsed: CalendarResponse
  readonly events: ReadonlyArray<VEvent>
  readonly timeZones: ReadonlyArray<VTimeZone>
}

const encoder = new TextEncoder()

export const readFeed = (text: string): Feed => {
  expect(text.startsWith("BEGIN:VCALENDAR\r\n")).toBe(true)
  expect(text.endsWith("END:VCALENDAR\r\n")).toBe(true)
  const lines = text.slice(0, -2).split("\r\n")
  expect(lines.filter((l) => l.includes("\n") || l.includes("\r"))).toEqual([])
  expect(lines.filter((l) => encoder.encode(l).length > 75)).toEqual([])
  const parsed = ical.sync.parseICS(text)
  const components = Object.values(parsed).filter((c) => c !== undefined)
  return {
    parsed,
    events: components.filter((c): c is VEvent => c.type === "VEVENT"),
    timeZones: components.filter((c): c is VTimeZone => c.type === "VTIMEZONE")
  }
}

/** The observances of a parsed VTIMEZONE: `[STANDARD|DAYLIGHT, local start YYYY-MM-DDTHH:MM, from, to]`. */
export const observances = (tz: VTimeZone) =>
  Object.values(tz)
    .filter((v): v is TimeZoneDef => typeof v === "object" && v !== null && "tzoffsetto" in v)
    .map((o) => [o.type, o.start.toISOString().slice(0, 16), o.tzoffsetfrom, o.tzoffsetto])

/** Instants of a parsed event's occurrences (RRULE expanded by node-ical, EXDATE removed), ISO. */
export const occurrences = (e: VEvent, from = new Date("2000-01-01"), to = new Date("2100-01-01")) =>
  ical.expandRecurringEvent(e, { from, to }).map((i) => i.start.toISOString())
