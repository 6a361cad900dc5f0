/**
 * The console page: listed by the platform for users who may read
 * calendars while the plugin is enabled, and what its form sends is what
 * the API takes (a weekly schedule and a once schedule created from form
 * state, read back into the same form; a refused field named as the form
 * names it). The page's module build is tested with the console
 * (`PluginUiBuild`, outside the plugin's imports).
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import calendar from "@streamspace/plugin-calendar"
import { TestPlatform } from "@streamspace/testing"
import {
  describeRecurrence,
  empty,
  type FormState,
  fromSchedule,
  type ScheduleBody,
  toBody
} from "../ui/lib/ScheduleForm.ts"

let p: TestPlatform.TestPlatform
let token: string
let templateId: string
beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [calendar],
    config: { sessions: { runtime: "simulated" }, plugins: { enabled: ["calendar"] } }
  })
  token = await p.login("admin", p.adminPassword)
  const t = await p.http<{ id: string }>("POST", "/api/templates", {
    token,
    body: { name: "desk", displayName: "Desk", image: "example/desk:1" }
  })
  templateId = t.body.id
})
afterAll(() => p?.close())

interface Extension {
  readonly plugin: string
  readonly extension: { readonly kind: string; readonly id: string; readonly path?: string; readonly nav?: string }
}
const pages = async (userToken: string) =>
  (await p.http<{ items: ReadonlyArray<Extension> }>("GET", "/api/ui/extensions", { token: userToken })).body.items
    .filter((i) => i.plugin === "calendar")
    .map((i) => i.extension)

test("the portal lists the Scheduled sessions page to users while the plugin is enabled", async () => {
  const created = await p.http("POST", "/api/users", {
    token,
    body: { username: "page-user", password: "quiet-lantern-orbit-7", roles: ["user"] }
  })
  expect(created.status).toBe(201)
  const user = await p.login("page-user", "quiet-lantern-orbit-7")
  expect(await pages(user)).toEqual([
    expect.objectContaining({ kind: "page", id: "schedules", path: "schedules", nav: "portal" })
  ])
  expect((await p.http("POST", "/api/admin/plugins/calendar/disable", { token })).status).toBe(200)
  expect(await pages(user)).toEqual([])
  expect((await p.http("POST", "/api/admin/plugins/calendar/enable", { token })).status).toBe(200)
  expect(await pages(user)).toHaveLength(1)
})

test("the form's bodies are accepted by the API and read back into the same form", async () => {
  const weekly: FormState = {
    ...empty("Europe/Paris"),
    name: "Weekly lab",
    templateId,
    start: "2031-03-17T09:00",
    durationMinutes: 90,
    frequency: "WEEKLY",
    byDay: ["MO", "TH"],
    end: "count",
    count: 6,
    exceptions: "2031-03-20, 2031-03-24",
    preWarmMinutes: 5
  }
  const once: FormState = { ...empty("UTC"), name: "Demo", templateId, start: "2031-05-02T14:30", autoStop: "delete" }
  for (const form of [weekly, once]) {
    const created = await p.http<ScheduleBody & { id: string }>("POST", "/api/plugins/calendar/schedules", {
      token,
      body: toBody(form)
    })
    expect(created.status).toBe(201)
    expect(fromSchedule(created.body)).toEqual(form)
  }
  expect(describeRecurrence(toBody(weekly))).toBe("Weekly on Mon, Thu, 6 times")
  expect(describeRecurrence(toBody(once))).toBe("Once")
  // A field the server refuses comes back under the name the form shows it by.
  const bad = await p.http<{ errors: Array<{ path: string }> }>("POST", "/api/plugins/calendar/schedules", {
    token,
    body: toBody({ ...weekly, name: "bad", timeZone: "Mars/Olympus" })
  })
  expect(bad.status).toBe(400)
  expect(bad.body.errors.map((e) => e.path)).toContain("body.timeZone")
})
