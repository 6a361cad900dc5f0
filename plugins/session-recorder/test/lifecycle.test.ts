/**
 * The recorder installed, enabled, disabled and uninstalled at runtime: a
 * recording running when the plugin is disabled ends `failed` with what it
 * wrote kept (and playable after re-enabling), the proxy has no tap on the
 * session while the plugin is disabled, its routes answer 404, and an
 * uninstall drops its data (rows; its blobs stay, see the docs).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import recorder from "@streamspace/plugin-session-recorder"
import { ClientMessages, RfbTap, RfbVersion } from "@streamspace/rfb"
import { TestPlatform, VncClient } from "@streamspace/testing"
import { Effect } from "effect"

let p: TestPlatform.TestPlatform
let admin: string
let template: string
const api = "/api/plugins/session-recorder"

beforeAll(async () => {
  p = await TestPlatform.make({ listen: true, plugins: [recorder], config: { sessions: { simulatedDelayMs: 20 } } })
  admin = await p.login("admin", p.adminPassword)
  template = (
    await p.http<{ id: string }>("POST", "/api/templates", {
      token: admin,
      body: { name: "life-desktop", displayName: "Lifecycle desktop", image: "streamspace/xterm:latest" }
    })
  ).body.id
}, 60_000)
afterAll(() => p.close())

const adminCall = (method: string, path: string) =>
  p.http(method, `/api/admin/plugins/session-recorder${path}`, { token: admin })
const watched = () => p.run(Effect.map(RfbTap.TapHub, (hub) => hub.watched()))
const launch = async () => {
  const id = (await p.http<{ id: string }>("POST", "/api/sessions", { token: admin, body: { templateId: template } }))
    .body.id
  await p.eventually(
    async () =>
      (await p.http<{ state: string }>("GET", `/api/sessions/${id}`, { token: admin })).body.state === "running"
  )
  return id
}

describe(`session recorder lifecycle (${TestPlatform.engine()})`, () => {
  test("install, enable, disable mid-recording, enable again, uninstall", async () => {
    expect((await p.http("GET", `${api}/recordings`, { token: admin })).status).toBe(404)
    expect((await adminCall("POST", "/install")).status).toBeLessThan(300)
    expect((await adminCall("POST", "/enable")).status).toBeLessThan(300)
    await p.eventually(async () => (await p.http("GET", `${api}/recordings`, { token: admin })).status === 200)

    const sessionId = await launch()
    expect(await watched()).not.toContain(sessionId)
    const started = await p.http<{ id: string }>("POST", `${api}/sessions/${sessionId}/recording/start`, {
      token: admin,
      body: {}
    })
    expect(started.status).toBe(201)
    const c = VncClient.open(p, sessionId, { ticket: await VncClient.ticket(p, sessionId, admin) })
    await c.opened
    await p.eventually(() => c.received().length >= 12)
    for (const bytes of [RfbVersion.encode("3.8"), ClientMessages.securityType(1), ClientMessages.clientInit(true)])
      c.send(bytes)
    await p.eventually(() => c.received().length > 12 + 2 + 4 + 24)
    c.send(ClientMessages.pointerEvent(0, 3, 3))
    c.send(ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, width: 8, height: 8 }))
    await p.eventually(async () => (await watched()).includes(sessionId))
    await Bun.sleep(300)

    // Disabled mid-recording: the tap goes, the routes go, the recording ends failed with its data kept.
    expect((await adminCall("POST", "/disable")).status).toBeLessThan(300)
    await p.eventually(async () => !(await watched()).includes(sessionId))
    expect((await p.http("GET", `${api}/recordings`, { token: admin })).status).toBe(404)
    // The user's stream goes on without the recorder.
    const before = c.received().length
    c.send(ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, width: 4, height: 4 }))
    await p.eventually(() => c.received().length >= before + 4 + 12 + 4 * 4 * 4)
    c.close()

    expect((await adminCall("POST", "/enable")).status).toBeLessThan(300)
    const rec = await p.eventually(async () => {
      const res = await p.http<{ recording: { status: string; error: string | null }; input: Array<[number, string]> }>(
        "GET",
        `${api}/recordings/${started.body.id}`,
        { token: admin }
      )
      return res.status === 200 ? res.body : undefined
    })
    expect(rec.recording.status).toBe("failed")
    expect(rec.recording.error).toContain("interrupted")
    expect(rec.input.map(([, k]) => k)).toContain("pointer")
    const stream = await fetch(`${p.url}${api}/recordings/${started.body.id}/stream`, {
      headers: { authorization: `Bearer ${admin}` }
    })
    expect(stream.status).toBe(200)
    expect((await stream.arrayBuffer()).byteLength).toBeGreaterThan(100)

    // Uninstalled without keeping data: routes gone; reinstalled, no recordings remain.
    expect((await adminCall("DELETE", "")).status).toBeLessThan(300)
    expect((await p.http("GET", `${api}/recordings`, { token: admin })).status).toBe(404)
    expect((await adminCall("POST", "/install")).status).toBeLessThan(300)
    expect((await adminCall("POST", "/enable")).status).toBeLessThan(300)
    const after = await p.eventually(async () => {
      const res = await p.http<{ items: Array<unknown> }>("GET", `${api}/recordings`, { token: admin })
      return res.status === 200 ? res.body : undefined
    })
    expect(after.items).toEqual([])
  }, 60_000)
})
