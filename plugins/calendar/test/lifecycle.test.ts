/**
 * At runtime: install, enable, disable (routes 404 plugin_disabled), re-enable
 * with the data kept, uninstall (schema gone); routes are in OpenAPI with their
 * permissions.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import calendar from "@streamspace/plugin-calendar"
import { TestPlatform } from "@streamspace/testing"

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [calendar] })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const lifecycle = (action: string) => p.http("POST", `/api/admin/plugins/calendar/${action}`, { token: admin })

test(`install, enable, disable, re-enable and uninstall at runtime (${TestPlatform.engine()})`, async () => {
  expect((await lifecycle("install")).status).toBe(200)
  expect((await lifecycle("enable")).status).toBe(200)
  const t = await p.http<{ id: string }>("POST", "/api/templates", {
    token: admin,
    body: { name: "desk", displayName: "Desk", image: "example/desk:1" }
  })
  const created = await p.http<{ id: string }>("POST", "/api/plugins/calendar/schedules", {
    token: admin,
    body: { name: "x", templateId: t.body.id, timeZone: "UTC", start: "2030-01-01T09:00", durationMinutes: 30 }
  })
  expect(created.status).toBe(201)
  const audit = await p.query<{ action: string; plugin: string }>(
    "SELECT action, plugin FROM audit_log WHERE action = 'calendar.schedule.create'"
  )
  expect(audit).toEqual([{ action: "calendar.schedule.create", plugin: "calendar" }])

  const spec = await p.http<{ paths: Record<string, Record<string, { "x-permission"?: string }>> }>(
    "GET",
    "/api/openapi.json",
    {}
  )
  const ours = Object.entries(spec.body.paths).filter(([path]) => path.startsWith("/api/plugins/calendar/"))
  expect(ours.length).toBeGreaterThanOrEqual(12)
  for (const [, ops] of ours) for (const op of Object.values(ops)) expect(op["x-permission"]).toBeString()

  expect((await lifecycle("disable")).status).toBe(200)
  const off = await p.http<{ code: string }>("GET", "/api/plugins/calendar/schedules", { token: admin })
  expect([off.status, off.body.code]).toEqual([404, "plugin_disabled"])
  expect((await lifecycle("enable")).status).toBe(200)
  const back = await p.http<{ items: Array<{ id: string }> }>("GET", "/api/plugins/calendar/schedules", {
    token: admin
  })
  expect(back.body.items.map((s) => s.id)).toEqual([created.body.id])

  expect((await lifecycle("disable")).status).toBe(200)
  expect((await p.http("DELETE", "/api/admin/plugins/calendar", { token: admin })).status).toBe(204)
  const schemas = await p.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'plugin_calendar'")
  expect(schemas).toHaveLength(0)
})
