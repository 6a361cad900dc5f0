/**
 * Apply-on-start on real desktops (the `local` runtime: Xvnc + xterm; PGlite,
 * or PostgreSQL with TEST_DATABASE_URL): a user with a saved two-monitor
 * layout launches a session and, with no call to `activate`, its display gets
 * the layout's framebuffer and RandR monitors (read back with `xrandr` on the
 * session's display); a hibernated session woken (a new Xvnc) gets it again;
 * a user without a layout keeps the desktop's own screen; `applyOnStart: false`
 * leaves the display as it started.
 *
 * Needs Xvnc, xterm and xrandr: without them every test here fails, naming them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SessionRuntime } from "@streamspace/core"
import { TestPlatform } from "@streamspace/testing"
import { Effect } from "effect"
import multiMonitor, { Xrandr } from "@streamspace/plugin-multi-monitor"

const missing = ["Xvnc", "xterm", "xrandr"].filter((program) => !Bun.which(program))
const base = "/api/plugins/multi-monitor"
const desk = [
  { name: "LEFT", width: 1024, height: 768, x: 0, y: 0, primary: true },
  { name: "RIGHT", width: 1024, height: 768, x: 1024, y: 0, primary: false }
]
/** What `xrandr --listmonitors` reports once `desk` is applied. */
const deskListed = [
  ["LEFT", 1024, 768, 0, 0],
  ["RIGHT", 1024, 768, 1024, 0]
]
/** The local runtime's own screen: one automatic monitor on Xvnc's output. */
const untouched = { size: [1280, 800], monitors: [["VNC-0", 1280, 800, 0, 0]] }

let p: TestPlatform.TestPlatform
let admin: string
let templateId: string

beforeAll(async () => {
  if (missing.length > 0)
    throw new Error(`${missing.join(", ")} not on the PATH: apply-on-start is tested on real desktops`)
  p = await TestPlatform.make({
    plugins: [multiMonitor],
    config: { sessions: { runtime: "local" }, plugins: { enabled: ["multi-monitor"] } }
  })
  admin = await p.login("admin", p.adminPassword)
  const t = await p.http<{ id: string }>("POST", "/api/templates", {
    token: admin,
    body: { name: "xterm", displayName: "xterm", image: "streamspace/xterm:latest" }
  })
  templateId = t.body.id
}, 60_000)
afterAll(() => p?.close())

/** Waits for `state`; a session that failed or ended on the way stops the wait, with its reason. */
const reach = async (token: string, id: string, state: string) => {
  const session = await p.eventually(async () => {
    const s = (await p.http<{ state: string; reason?: string }>("GET", `/api/sessions/${id}`, { token })).body
    return s.state === state || !["pending", "running", "hibernated"].includes(s.state) ? s : undefined
  })
  expect({ state: session.state, reason: session.reason }).toMatchObject({ state })
}

const launch = async (token: string) => {
  const res = await p.http<{ id: string }>("POST", "/api/sessions", { token, body: { templateId } })
  expect(res.status).toBe(201)
  await reach(token, res.body.id, "running")
  return res.body.id
}

const end = async (token: string, id: string) => {
  expect((await p.http("DELETE", `/api/sessions/${id}`, { token })).status).toBe(202)
  await reach(token, id, "terminated")
}

/** The session's display as xrandr reads it: framebuffer size and RandR monitors. */
const screenOf = async (id: string) => {
  const desktop = await p.run(
    Effect.map(SessionRuntime.SessionRuntime, (r) => (r.kind === "local" ? r.desktop(id) : undefined))
  )
  if (!desktop) throw new Error(`session ${id} has no local desktop`)
  const xrandr = (args: ReadonlyArray<string>) =>
    Bun.spawnSync(["xrandr", ...args], {
      env: { DISPLAY: `:${desktop.display}`, PATH: process.env["PATH"] ?? "/usr/bin:/bin" }
    }).stdout.toString()
  const size = /current (\d+) x (\d+)/.exec(xrandr([]))?.slice(1).map(Number)
  const monitors = Xrandr.parseListMonitors(xrandr(["--listmonitors"])).map((m) => [
    m.name,
    m.width,
    m.height,
    m.x,
    m.y
  ])
  return { size, monitors }
}

/** Waits until the session's display has `desk`'s framebuffer and monitors. */
const showsDesk = (id: string) =>
  p.eventually(
    async () => {
      expect(await screenOf(id)).toEqual({ size: [2048, 768], monitors: deskListed })
      return true
    },
    { timeoutMs: 20_000 }
  )

describe("apply-on-start on the local runtime", () => {
  let alice: { id: string; token: string }
  let aliceSession: string

  beforeAll(async () => {
    alice = await p.makeUser("alice")
    const saved = await p.http("POST", `${base}/layouts`, {
      token: alice.token,
      body: { name: "desk", monitors: desk, isDefault: true }
    })
    expect(saved.status).toBe(201)
  })

  test("a user's saved layout is on the display once the session runs, without activate", async () => {
    aliceSession = await launch(alice.token)
    await showsDesk(aliceSession)
    // Delivered once more (at least once), the same layout leaves the same display. `activate` needs the
    // plugin's own projection of the session, fed by another subscription that may not have caught up yet.
    await p.awaitDelivered()
    const again = await p.http<{ monitors: Array<{ name: string }> }>(
      "POST",
      `${base}/sessions/${aliceSession}/activate`,
      { token: alice.token }
    )
    expect(again.status).toBe(200)
    expect(await screenOf(aliceSession)).toEqual({ size: [2048, 768], monitors: deskListed })
  }, 60_000)

  test("woken from hibernation (a new Xvnc), the session gets its layout again", async () => {
    expect((await p.http("POST", `/api/sessions/${aliceSession}/hibernate`, { token: alice.token })).status).toBe(202)
    await reach(alice.token, aliceSession, "hibernated")
    expect((await p.http("POST", `/api/sessions/${aliceSession}/wake`, { token: alice.token })).status).toBe(202)
    await reach(alice.token, aliceSession, "running")
    await showsDesk(aliceSession)
    await end(alice.token, aliceSession)
  }, 60_000)

  test("a user without a layout keeps the desktop's own screen", async () => {
    const bob = await p.makeUser("bob")
    const id = await launch(bob.token)
    await p.awaitDelivered()
    expect(await screenOf(id)).toEqual(untouched)
    await end(bob.token, id)
  }, 60_000)

  test("applyOnStart: false leaves the display as it started; activate still applies the layout", async () => {
    const configured = await p.http("PUT", "/api/admin/plugins/multi-monitor/config", {
      token: admin,
      body: { applyOnStart: false }
    })
    expect(configured.status).toBe(200)
    const id = await launch(alice.token)
    await p.awaitDelivered()
    expect(await screenOf(id)).toEqual(untouched)
    expect((await p.http("POST", `${base}/sessions/${id}/activate`, { token: alice.token })).status).toBe(200)
    expect(await screenOf(id)).toEqual({ size: [2048, 768], monitors: deskListed })
    await end(alice.token, id)
  }, 60_000)
})
