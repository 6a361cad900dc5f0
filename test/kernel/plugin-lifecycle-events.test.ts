/**
 * Every step of a plugin's lifecycle driven through the admin API publishes
 * its core event (`plugin.installed`, `.enabled`, `.configured`,
 * `.disabled`, `.uninstalled`) with `{ plugin }` and the admin as actor, in
 * the transaction that changed the plugin's row; a step that changes
 * nothing or fails publishes nothing. The console's live stream relies on
 * these to add and remove plugin pages without a reload.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { CoreEvents } from "@streamspace/core"
import hello from "@streamspace/plugin-hello"
import { TestPlatform } from "@streamspace/testing"
import { Schema } from "effect"

let p: TestPlatform.TestPlatform
let admin: string
let adminId: string

beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [hello] })
  admin = await p.login("admin", p.adminPassword)
  adminId = (await p.http<{ id: string }>("GET", "/api/auth/me", { token: admin })).body.id
})
afterAll(() => p.close())

interface EventRow {
  readonly type: string
  readonly source: string
  readonly payload: unknown
  readonly actor_id: string | null
  readonly tx: string
}

const pluginEvents = () =>
  p.query<EventRow>(
    "SELECT type, source, payload, actor_id, tx_id::text AS tx FROM events WHERE type LIKE 'plugin.%' ORDER BY tx_id, position"
  )
/** The transaction that last wrote hello's row (xmin; the test database's xid epoch is 0). */
const rowTransaction = async () =>
  (await p.query<{ tx: string }>("SELECT xmin::text AS tx FROM plugins WHERE id = 'hello'"))[0]?.tx
const call = (method: string, path: string, body?: unknown) =>
  p.http(method, path, { token: admin, ...(body === undefined ? {} : { body }) })

describe(`plugin lifecycle events (${TestPlatform.engine()})`, () => {
  test("install, enable, configure, disable, uninstall: one event each, with the row's change", async () => {
    const before = (await pluginEvents()).length
    const step = async (method: string, path: string, type: string, body?: unknown) => {
      const res = await call(method, path, body)
      expect(res.status).toBeLessThan(300)
      const events = (await pluginEvents()).slice(before)
      const last = events.at(-1)!
      expect(last).toMatchObject({ type, source: "core", payload: { plugin: "hello" }, actor_id: adminId })
      // The catalogue's Schema reads it.
      expect(Schema.decodeUnknownSync(CoreEvents.PluginEvent)(last.payload)).toEqual({ plugin: "hello" })
      return { events, last }
    }

    const installed = await step("POST", "/api/admin/plugins/hello/install", "plugin.installed")
    expect(installed.last.tx).toBe((await rowTransaction())!)
    const enabled = await step("POST", "/api/admin/plugins/hello/enable", "plugin.enabled")
    expect(enabled.last.tx).toBe((await rowTransaction())!)
    const configured = await step("PUT", "/api/admin/plugins/hello/config", "plugin.configured", {
      greeting: "Howdy"
    })
    // The restart that follows a config change of an enabled plugin is not a new enable.
    expect(configured.events.map((e) => e.type)).toEqual(["plugin.installed", "plugin.enabled", "plugin.configured"])
    await step("POST", "/api/admin/plugins/hello/disable", "plugin.disabled")
    const uninstalled = await step("DELETE", "/api/admin/plugins/hello", "plugin.uninstalled")
    expect(uninstalled.events.map((e) => e.type)).toEqual([
      "plugin.installed",
      "plugin.enabled",
      "plugin.configured",
      "plugin.disabled",
      "plugin.uninstalled"
    ])
  }, 60_000)

  test("a step that fails or changes nothing publishes nothing", async () => {
    expect((await call("POST", "/api/admin/plugins/hello/install")).status).toBe(200)
    expect((await call("POST", "/api/admin/plugins/hello/enable")).status).toBe(200)
    const before = (await pluginEvents()).length

    // Refused by the config Schema: nothing stored, no event.
    const invalid = await call("PUT", "/api/admin/plugins/hello/config", { tickSeconds: 0 })
    expect(invalid.status).toBe(400)
    // Already enabled / already installed: no change.
    expect((await call("POST", "/api/admin/plugins/hello/enable")).status).toBe(200)
    expect((await call("POST", "/api/admin/plugins/hello/install")).status).toBe(409)
    expect((await pluginEvents()).length).toBe(before)

    // Uninstalling an enabled plugin disables it first: both events, in that order.
    expect((await call("DELETE", "/api/admin/plugins/hello")).status).toBe(204)
    expect((await pluginEvents()).slice(before).map((e) => e.type)).toEqual(["plugin.disabled", "plugin.uninstalled"])
  }, 60_000)
})
