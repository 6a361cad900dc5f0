/** Recurrence expansion in wall-clock time across DST changes, and iCalendar writing (folding, escaping, VTIMEZONE). */
import { expect, test } from "bun:test"
import { ICalendar, Recurrence, Time } from "@streamspace/plugin-calendar"
import { parse, prop, unescapeText } from "./ics-parser.ts"

const rule = (over: Partial<Omit<Recurrence.Rule, "start">> & { start: string }): Recurrence.Rule => ({
  timeZone: "Europe/Paris",
  durationMinutes: 60,
  recurrence: null,
  exceptions: [],
  ...over,
  start: Time.parseLocal(over.start)!
})
const iso = (xs: ReadonlyArray<Recurrence.Instance>) => xs.map((i) => new Date(i.start).toISOString())
const all = (r: Recurrence.Rule) => Recurrence.expand(r, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 100)

test("a weekly 09:00 in Paris stays 09:00 local across the spring change (08:00Z, then 07:00Z)", () => {
  const r = rule({ start: "2027-03-22T09:00", recurrence: { freq: "WEEKLY", interval: 1, byDay: ["MO"], count: 3 } })
  expect(iso(all(r))).toEqual(["2027-03-22T08:00:00.000Z", "2027-03-29T07:00:00.000Z", "2027-04-05T07:00:00.000Z"])
})

test("a daily 02:30 in New York: the gap night takes the offset before it, the ambiguous night its first instant", () => {
  const spring = rule({
    timeZone: "America/New_York",
    start: "2027-03-13T02:30",
    recurrence: { freq: "DAILY", interval: 1, count: 3 }
  })
  // 2027-03-14 02:30 does not exist: 02:30 EST = 07:30Z (03:30 EDT).
  expect(iso(all(spring))).toEqual(["2027-03-13T07:30:00.000Z", "2027-03-14T07:30:00.000Z", "2027-03-15T06:30:00.000Z"])
  const fall = rule({
    timeZone: "America/New_York",
    start: "2027-11-06T01:30",
    recurrence: { freq: "DAILY", interval: 1, count: 2 }
  })
  // 2027-11-07 01:30 happens twice: the first (EDT, 05:30Z).
  expect(iso(all(fall))).toEqual(["2027-11-06T05:30:00.000Z", "2027-11-07T05:30:00.000Z"])
})

test("INTERVAL, BYDAY, COUNT counting excepted dates, UNTIL inclusive, monthly day 31 and -1", () => {
  const weekly = rule({
    timeZone: "UTC",
    start: "2026-12-01T10:00",
    recurrence: { freq: "WEEKLY", interval: 2, byDay: ["TU", "TH"], count: 4 },
    exceptions: ["2026-12-03"]
  })
  expect(iso(all(weekly))).toEqual(["2026-12-01T10:00:00.000Z", "2026-12-15T10:00:00.000Z", "2026-12-17T10:00:00.000Z"])
  const until = rule({
    timeZone: "UTC",
    start: "2026-12-01T10:00",
    recurrence: { freq: "DAILY", interval: 1, until: "2026-12-03" }
  })
  expect(all(until)).toHaveLength(3)
  const monthly = rule({
    timeZone: "UTC",
    start: "2027-01-31T08:00",
    recurrence: { freq: "MONTHLY", interval: 1, byMonthDay: [31], count: 3 }
  })
  expect(iso(all(monthly))).toEqual([
    "2027-01-31T08:00:00.000Z",
    "2027-03-31T08:00:00.000Z",
    "2027-05-31T08:00:00.000Z"
  ])
  const last = rule({
    timeZone: "UTC",
    start: "2027-01-15T08:00",
    recurrence: { freq: "MONTHLY", interval: 1, byMonthDay: [-1], count: 2 }
  })
  expect(iso(all(last))).toEqual(["2027-01-31T08:00:00.000Z", "2027-02-28T08:00:00.000Z"])
  expect(Recurrence.toRRule(weekly)).toBe("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=4")
  expect(Recurrence.toRRule(until)).toBe("FREQ=DAILY;UNTIL=20261203T235959Z")
})

test("content lines are folded at 75 octets without splitting a UTF-8 character, and TEXT is escaped", () => {
  const description = `Notes; with, commas \\ and a\nnew line — ${"é🙂".repeat(40)}`
  const body = ICalendar.calendar(
    "Cal, one; two",
    "example.test",
    [
      {
        id: "s1",
        rule: rule({
          start: "2027-03-22T09:00",
          recurrence: { freq: "WEEKLY", interval: 1, byDay: ["MO"] },
          exceptions: ["2027-03-29"]
        }),
        summary: "Lab, week; 1",
        description,
        sequence: 2,
        updatedAt: new Date("2026-12-01T00:00:00Z"),
        cancelled: false
      }
    ],
    new Date("2026-12-01T00:00:00Z")
  )
  expect(body.split("\r\n").some((l) => new TextEncoder().encode(l).length === 75)).toBe(true)
  const cal = parse(body)
  const event = cal.components.find((c) => c.name === "VEVENT")!
  expect(unescapeText(prop(event, "DESCRIPTION")!.value)).toBe(description)
  expect(unescapeText(prop(event, "SUMMARY")!.value)).toBe("Lab, week; 1")
  expect(prop(event, "DTSTART")).toEqual({
    name: "DTSTART",
    params: { TZID: "Europe/Paris" },
    value: "20270322T090000"
  })
  expect(prop(event, "DTEND")!.value).toBe("20270322T100000")
  expect(prop(event, "RRULE")!.value).toBe("FREQ=WEEKLY;BYDAY=MO")
  expect(prop(event, "EXDATE")).toEqual({ name: "EXDATE", params: { TZID: "Europe/Paris" }, value: "20270329T090000" })
  expect(prop(event, "DTSTAMP")!.value).toBe("20261201T000000Z")
})

test("VTIMEZONE lists each transition with its local start and offsets", () => {
  const tz = ICalendar.vtimezone("Europe/Paris", 2027, 2027)
  const observances = (tz.components ?? []).map((c) => [c.name, ...c.properties.map((p) => p.value)])
  expect(observances).toEqual([
    ["STANDARD", "20270101T000000", "+0100", "+0100"],
    ["DAYLIGHT", "20270328T020000", "+0100", "+0200"],
    ["STANDARD", "20271031T030000", "+0200", "+0100"]
  ])
  expect(Time.utcOf(Time.parseLocal("2027-10-31T02:30")!, "Europe/Paris")).toBe(Date.parse("2027-10-31T00:30:00Z"))
})
