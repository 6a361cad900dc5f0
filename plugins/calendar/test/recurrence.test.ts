/** Recurrence expansion in wall-clock time across DST changes, and the iCalendar feed (generated with ical-generator, read back with node-ical). */
import { expect, test } from "bun:test"
import { ICalendar, Recurrence, Time } from "@streamspace/plugin-calendar"
import { observances, occurrences, readFeed } from "./ics.ts"

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

test("the feed, parsed back with node-ical: folded at 75 octets without splitting UTF-8, TEXT escaped, RRULE and EXDATE", () => {
  const description = `Notes; with, commas \\ and a\nnew line — ${"é🙂".repeat(40)}`
  const body = ICalendar.calendar(
    "Cal, one; two",
    "example.test",
    [
      {
        id: "s1",
        rule: rule({
          start: "2027-03-22T09:00",
          recurrence: { freq: "WEEKLY", interval: 1, byDay: ["MO"], count: 4 },
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
  // The long description is folded into continuation lines, none splitting a character (no lone surrogate).
  const physical = body.split("\r\n")
  expect(physical.filter((l) => l.startsWith(" ") && new TextEncoder().encode(l).length > 70).length).toBeGreaterThan(2)
  const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
  expect(physical.filter((l) => loneSurrogate.test(l))).toEqual([])
  expect(body).toContain("SUMMARY:Lab\\, week\\; 1\r\n")
  const feed = readFeed(body)
  expect(feed.parsed.vcalendar?.["WR-CALNAME"]).toBe("Cal, one; two")
  expect(feed.events).toHaveLength(1)
  const event = feed.events[0]!
  expect(event.uid).toBe("s1@example.test")
  expect(event.sequence).toBe(2)
  expect(event.description).toBe(description)
  expect(event.summary).toBe("Lab, week; 1")
  expect(event.start.tz).toBe("Europe/Paris")
  expect(event.start.toISOString()).toBe("2027-03-22T08:00:00.000Z")
  expect(event.end?.toISOString()).toBe("2027-03-22T09:00:00.000Z")
  expect(event.dtstamp.toISOString()).toBe("2026-12-01T00:00:00.000Z")
  expect(event.rrule?.options).toMatchObject({ freq: "WEEKLY", count: 4 })
  expect(Object.values(event.exdate ?? {}).map((d) => d.toISOString())).toContain("2027-03-29T07:00:00.000Z")
  // Expanded by the parser: the 09:00 Paris wall time across the spring change, the excepted Monday left out.
  expect(occurrences(event)).toEqual([
    "2027-03-22T08:00:00.000Z",
    "2027-04-05T07:00:00.000Z",
    "2027-04-12T07:00:00.000Z"
  ])
})

test("UNTIL is written as a UTC instant and the parser ends the series on the until date", () => {
  const body = ICalendar.calendar(
    "Cal",
    "example.test",
    [
      {
        id: "s2",
        rule: rule({
          timeZone: "America/New_York",
          start: "2027-03-12T18:30",
          recurrence: { freq: "DAILY", interval: 2, until: "2027-03-18" },
          exceptions: ["2027-03-14"]
        }),
        summary: "Every other day",
        description: "",
        sequence: 0,
        updatedAt: new Date("2026-12-01T00:00:00Z"),
        cancelled: false
      }
    ],
    new Date("2026-12-01T00:00:00Z")
  )
  expect(body).toContain("UNTIL=20270319T035959Z")
  const [event] = readFeed(body).events
  expect(occurrences(event!)).toEqual([
    "2027-03-12T23:30:00.000Z",
    "2027-03-16T22:30:00.000Z",
    "2027-03-18T22:30:00.000Z"
  ])
  expect(occurrences(event!)).toEqual(
    iso(
      all(
        rule({
          timeZone: "America/New_York",
          start: "2027-03-12T18:30",
          recurrence: { freq: "DAILY", interval: 2, until: "2027-03-18" },
          exceptions: ["2027-03-14"]
        })
      )
    )
  )
})

test("VTIMEZONE lists each transition with its local start and offsets", () => {
  expect(
    ICalendar.observances("Europe/Paris", 2027, 2027).map((o) => [
      o.kind,
      Recurrence.localStamp(o.start),
      o.offsetFrom,
      o.offsetTo
    ])
  ).toEqual([
    ["STANDARD", "20270101T000000", 60, 60],
    ["DAYLIGHT", "20270328T020000", 60, 120],
    ["STANDARD", "20271031T030000", 120, 60]
  ])
  const body = ICalendar.calendar(
    "Cal",
    "example.test",
    [
      {
        id: "s3",
        rule: rule({ start: "2027-03-22T09:00" }),
        summary: "once",
        description: "",
        sequence: 0,
        updatedAt: new Date("2026-12-01T00:00:00Z"),
        cancelled: false
      }
    ],
    new Date("2026-12-01T00:00:00Z")
  )
  const [tz] = readFeed(body).timeZones
  expect(tz!.tzid).toBe("Europe/Paris")
  expect(observances(tz!)).toEqual([
    ["STANDARD", "2027-01-01T00:00", "+0100", "+0100"],
    ["DAYLIGHT", "2027-03-28T02:00", "+0100", "+0200"],
    ["STANDARD", "2027-10-31T03:00", "+0200", "+0100"],
    ["DAYLIGHT", "2028-03-26T02:00", "+0100", "+0200"],
    ["STANDARD", "2028-10-29T03:00", "+0200", "+0100"]
  ])
  expect(Time.utcOf(Time.parseLocal("2027-10-31T02:30")!, "Europe/Paris")).toBe(Date.parse("2027-10-31T00:30:00Z"))
})
