/**
 * iCalendar (RFC 5545) writing: a component tree serialized with CRLF line
 * ends, lines folded at 75 octets (never inside a UTF-8 sequence), TEXT
 * values escaped, parameter values quoted when needed; VTIMEZONE
 * components built from the runtime's tz database for the years the
 * events span.
 */
import { localStamp, type Rule, toRRule, utcStamp } from "./Recurrence.ts"
import { fromFloating, type LocalDateTime, offsetMinutes, transitions, utcOf } from "./Time.ts"

export interface Property {
  readonly name: string
  readonly params?: ReadonlyArray<readonly [string, string]>
  /** Already in the property's value syntax: use `text()` for TEXT values. */
  readonly value: string
}

export interface Component {
  readonly name: string
  readonly properties: ReadonlyArray<Property>
  readonly components?: ReadonlyArray<Component>
}

/** A TEXT value: backslash, semicolon, comma and newlines escaped (RFC 5545 §3.3.11). */
export const text = (s: string): string =>
  s
    .replace(/\\/g, "\\\\")
    .replace(/;/g, "\\;")
    .replace(/,/g, "\\,")
    .replace(/\r\n|\r|\n/g, "\\n")
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "")

const paramValue = (v: string): string => {
  const clean = v.replace(/["\u0000-\u001f\u007f]/g, "")
  return /[:;,]/.test(clean) ? `"${clean}"` : clean
}

const encoder = new TextEncoder()

/** Splits a content line into lines of at most 75 octets; continuation lines start with one space. */
export const fold = (line: string): string => {
  const out: Array<string> = []
  let current = ""
  let octets = 0
  let limit = 75
  for (const ch of line) {
    const size = encoder.encode(ch).length
    if (octets + size > limit) {
      out.push(current)
      current = " "
      octets = 1
      limit = 75
    }
    current += ch
    octets += size
  }
  out.push(current)
  return out.join("\r\n")
}

const contentLine = (p: Property): string =>
  fold(`${p.name}${(p.params ?? []).map(([k, v]) => `;${k}=${paramValue(v)}`).join("")}:${p.value}`)

export const serialize = (c: Component): string => {
  const lines: Array<string> = [`BEGIN:${c.name}`]
  for (const p of c.properties) lines.push(contentLine(p))
  for (const child of c.components ?? []) lines.push(serialize(child).replace(/\r\n$/, ""))
  lines.push(`END:${c.name}`)
  return `${lines.join("\r\n")}\r\n`
}

const offset = (minutes: number): string => {
  const sign = minutes < 0 ? "-" : "+"
  const a = Math.abs(minutes)
  return `${sign}${String(Math.floor(a / 60)).padStart(2, "0")}${String(a % 60).padStart(2, "0")}`
}

/** A VTIMEZONE for `zone` covering [fromYear, toYear]: each transition of those years as its own observance. */
export const vtimezone = (zone: string, fromYear: number, toYear: number): Component => {
  const from = Date.UTC(fromYear, 0, 1)
  const to = Date.UTC(toYear + 1, 0, 1)
  const found = transitions(zone, from, to)
  const initial = offsetMinutes(from, zone)
  const observance = (kind: "STANDARD" | "DAYLIGHT", local: LocalDateTime, a: number, b: number): Component => ({
    name: kind,
    properties: [
      { name: "DTSTART", value: localStamp(local) },
      { name: "TZOFFSETFROM", value: offset(a) },
      { name: "TZOFFSETTO", value: offset(b) }
    ]
  })
  const offsets = [initial, ...found.map((t) => t.to)]
  const standard = Math.min(...offsets)
  const components: Array<Component> = [
    observance(
      initial > standard ? "DAYLIGHT" : "STANDARD",
      { year: fromYear, month: 1, day: 1, hour: 0, minute: 0, second: 0 },
      initial,
      initial
    ),
    ...found.map((t) =>
      observance(t.to > t.from ? "DAYLIGHT" : "STANDARD", fromFloating(t.at + t.from * 60_000), t.from, t.to)
    )
  ]
  return { name: "VTIMEZONE", properties: [{ name: "TZID", value: zone }], components }
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

const endLocal = (rule: Rule): LocalDateTime => {
  const start = utcOf(rule.start, rule.timeZone)
  // DTEND in the same zone: the wall-clock time at start + duration.
  const end = start + rule.durationMinutes * 60_000
  return fromFloating(end + offsetMinutes(end, rule.timeZone) * 60_000)
}

export const vevent = (e: FeedEvent, host: string): Component => {
  const tz: ReadonlyArray<readonly [string, string]> = [["TZID", e.rule.timeZone]]
  const rrule = toRRule(e.rule)
  const properties: Array<Property> = [
    { name: "UID", value: text(`${e.id}@${host}`) },
    { name: "DTSTAMP", value: utcStamp(e.updatedAt.getTime()) },
    { name: "LAST-MODIFIED", value: utcStamp(e.updatedAt.getTime()) },
    { name: "SEQUENCE", value: String(e.sequence) },
    { name: "DTSTART", params: tz, value: localStamp(e.rule.start) },
    { name: "DTEND", params: tz, value: localStamp(endLocal(e.rule)) },
    { name: "SUMMARY", value: text(e.summary) }
  ]
  if (e.description) properties.push({ name: "DESCRIPTION", value: text(e.description) })
  if (rrule) properties.push({ name: "RRULE", value: rrule })
  const exdates = [...e.rule.exceptions].sort()
  if (rrule && exdates.length > 0)
    properties.push({
      name: "EXDATE",
      params: tz,
      value: exdates.map((d) => localStamp({ ...e.rule.start, ...dateParts(d) })).join(",")
    })
  properties.push({ name: "STATUS", value: e.cancelled ? "CANCELLED" : "CONFIRMED" })
  return { name: "VEVENT", properties }
}

const dateParts = (d: string) => {
  const [year, month, day] = d.split("-").map(Number)
  return { year: year!, month: month!, day: day! }
}

/** A whole calendar: one VTIMEZONE per zone used (covering the events' years), then the events. */
export const calendar = (name: string, host: string, events: ReadonlyArray<FeedEvent>, now: Date): string => {
  const years = new Map<string, [number, number]>()
  const thisYear = now.getUTCFullYear()
  for (const e of events) {
    const y = e.rule.start.year
    const untilYear = e.rule.recurrence?.until ? Number(e.rule.recurrence.until.slice(0, 4)) : Math.max(y, thisYear) + 1
    const [a, b] = years.get(e.rule.timeZone) ?? [y, untilYear]
    years.set(e.rule.timeZone, [Math.min(a, y), Math.max(b, untilYear, y)])
  }
  return serialize({
    name: "VCALENDAR",
    properties: [
      { name: "VERSION", value: "2.0" },
      { name: "PRODID", value: "-//StreamSpace//Calendar 1.0//EN" },
      { name: "CALSCALE", value: "GREGORIAN" },
      { name: "METHOD", value: "PUBLISH" },
      { name: "X-WR-CALNAME", value: text(name) }
    ],
    components: [
      ...[...years].map(([zone, [a, b]]) => vtimezone(zone, a, Math.min(b, a + 20))),
      ...events.map((e) => vevent(e, host))
    ]
  })
}
