/**
 * The Scheduled sessions page in Chromium: a user opens it from the
 * portal's menu, creates a weekly schedule with the form (a bad time zone
 * first: the server's error under the field), sees it listed, changes it,
 * and makes a subscribe URL that serves the schedule as iCalendar.
 * Screenshot "calendar-schedules"; axe on the page.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import calendar from "@streamspace/plugin-calendar"
import { BrowserKit } from "@streamspace/testing"
import { readFeed } from "./ics.ts"

const password = "quiet-lantern-orbit-7"
let kit: BrowserKit.BrowserKit
let templateId: string

beforeAll(async () => {
  kit = await BrowserKit.start({
    plugins: [calendar],
    config: { sessions: { runtime: "simulated" }, plugins: { enabled: ["calendar"] } }
  })
  const admin = await kit.platform.login("admin", kit.platform.adminPassword)
  const t = await kit.platform.http<{ id: string }>("POST", "/api/templates", {
    token: admin,
    body: { name: "desk", displayName: "Desk", image: "example/desk:1" }
  })
  expect(t.status).toBe(201)
  templateId = t.body.id
  const u = await kit.platform.http("POST", "/api/users", {
    token: admin,
    body: { username: "cleo", password, roles: ["user"] }
  })
  expect(u.status).toBe(201)
}, 300_000)
afterAll(async () => {
  await kit?.close()
})

test("a user schedules a weekly session with the form and subscribes to the feed", async () => {
  const page = await kit.newPage()
  const errors: Array<string> = []
  page.on("pageerror", (e) => errors.push(e.message))
  await kit.login(page, "cleo", password)
  await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Scheduled sessions" }).click()
  await page.getByRole("heading", { name: "Scheduled sessions", level: 2 }).waitFor()

  const form = page.getByRole("region", { name: "Schedule form" })
  await form.getByLabel(/^Name/).fill("Weekly lab")
  await form.getByLabel(/^Template id/).fill(templateId)
  await form.getByLabel(/^Starts/).fill("2031-03-17T09:00")
  await form.getByLabel(/^Time zone/).fill("Mars/Olympus")
  await form.getByLabel(/^Repeats/).click()
  await page.getByRole("option", { name: "Weekly" }).click()
  await form.getByRole("checkbox", { name: "MO" }).check()
  await form.getByRole("checkbox", { name: "TH" }).check()
  await form.getByRole("button", { name: "Create schedule" }).click()
  // The server's error for the field, under the field.
  await form.getByText("an IANA time zone (Europe/Paris)").waitFor()
  await form.getByLabel(/^Time zone/).fill("Europe/Paris")
  await form.getByRole("button", { name: "Create schedule" }).click()
  await page.getByText("Schedule created").waitFor()
  const table = page.getByRole("table", { name: "My schedules" })
  await table.getByRole("cell", { name: "Weekly lab" }).waitFor()
  await table.getByRole("cell", { name: "Weekly on Mon, Thu" }).waitFor()

  // Change it: the form comes back filled in.
  await table.getByRole("button", { name: "Edit" }).click()
  await form.getByRole("heading", { name: "Change the schedule" }).waitFor()
  expect(await form.getByLabel(/^Name/).inputValue()).toBe("Weekly lab")
  await form.getByLabel(/^Name/).fill("Weekly lab (room 2)")
  await form.getByRole("button", { name: "Save changes" }).click()
  await page.getByText("Schedule changed").waitFor()
  await table.getByRole("cell", { name: "Weekly lab (room 2)" }).waitFor()

  const feed = page.getByRole("region", { name: "Calendar feed" })
  await feed.getByRole("button", { name: "Make a subscribe URL" }).click()
  const url = (await feed.locator("pre").textContent())?.trim() ?? ""
  expect(url).toContain("/api/plugins/calendar/feeds/")
  const ics = await fetch(url)
  expect(ics.status).toBe(200)
  const [event] = readFeed(await ics.text()).events
  expect(event?.summary).toBe("Weekly lab (room 2)")
  expect(event?.rrule?.options).toMatchObject({ freq: "WEEKLY" })
  await feed.getByRole("button", { name: "Rotate the URL" }).waitFor()

  await kit.screenshot(page, "calendar-schedules")
  expect(await kit.accessibilityViolations(page)).toEqual([])
  expect(errors).toEqual([])
}, 120_000)
