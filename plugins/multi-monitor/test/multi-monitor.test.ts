/**
 * The multi-monitor plugin on a real platform (PGlite, or PostgreSQL with
 * TEST_DATABASE_URL): layouts CRUD with validation naming the field, user
 * layouts overriding template layouts, presets; and the xrandr builder
 * against a real Xvnc started here (the framebuffer becomes the bounding
 * box, `--listmonitors` reports the layout's monitors).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { LocalRuntime, XvncDesktop } from "@streamspace/core"
import { DesktopReaper, TestPlatform } from "@streamspace/testing"
import { Effect, Exit, Scope } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import multiMonitor, { Layout, Xrandr } from "@streamspace/plugin-multi-monitor"

const { presetOf } = Layout

const base = "/api/plugins/multi-monitor"
const dual = presetOf("dual-horizontal")!.monitors

let p: TestPlatform.TestPlatform
let admin: string
let alice: { id: string; token: string }
let bob: { id: string; token: string }
let templateId: string

beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [multiMonitor], config: { plugins: { enabled: ["multi-monitor"] } } })
  admin = await p.login("admin", p.adminPassword)
  alice = await p.makeUser("alice")
  bob = await p.makeUser("bob")
  const t = await p.http<{ id: string }>("POST", "/api/templates", {
    token: admin,
    body: { name: "xterm", displayName: "xterm", image: "streamspace/xterm:latest" }
  })
  templateId = t.body.id
}, 60_000)
afterAll(() => p?.close())

describe("layouts", () => {
  test("bad layouts are 400s naming the field", async () => {
    const post = (monitors: unknown) =>
      p.http<{ errors: Array<{ path: string; message: string }> }>("POST", `${base}/layouts`, {
        token: alice.token,
        body: { name: "x", monitors }
      })
    const cases: Array<[unknown, string]> = [
      [
        [
          { ...dual[0], x: 100 },
          { ...dual[1], x: 1000 }
        ],
        "body.monitors.1"
      ],
      [[{ ...dual[0], width: 20000 }], "body.monitors.0.width"],
      [[{ ...dual[0], x: 15000 }], "body.monitors.0.width"],
      [[dual[0], { ...dual[1], name: "M1" }], "body.monitors.1.name"],
      [
        [
          { ...dual[0], primary: true },
          { ...dual[1], primary: true }
        ],
        "body.monitors.1.primary"
      ],
      [
        Array.from({ length: 9 }, (_, i) => ({ name: `M${i}`, width: 800, height: 600, x: i * 800, y: 0 })),
        "body.monitors"
      ],
      [[], "body.monitors"],
      [[{ ...dual[0], name: "bad name!" }], "body.monitors.0.name"]
    ]
    for (const [monitors, path] of cases) {
      const res = await post(monitors)
      expect(res.status).toBe(400)
      expect(res.body.errors.map((e) => e.path)).toContain(path)
    }
    // Mirrored: the same rectangle twice is allowed.
    const mirrored = await post(presetOf("mirrored")!.monitors)
    expect(mirrored.status).toBe(201)
  })

  test("CRUD, permissions, and a user's layout overrides the template's", async () => {
    // Before anything is saved: the configured default preset.
    const initial = await p.http<{ id: string }>("GET", `${base}/effective?templateId=${templateId}`, {
      token: alice.token
    })
    expect(initial.body.id).toBe("preset:single")

    // Template layouts need multi-monitor:admin.
    const refused = await p.http("POST", `${base}/layouts`, {
      token: alice.token,
      body: { name: "t", monitors: dual, templateId, isDefault: true }
    })
    expect(refused.status).toBe(403)
    const quad = presetOf("quad-grid")!.monitors
    const tpl = await p.http<{ id: string; width: number; height: number }>("POST", `${base}/layouts`, {
      token: admin,
      body: { name: "quad", monitors: quad, templateId, isDefault: true }
    })
    expect(tpl.status).toBe(201)
    expect(tpl.body).toMatchObject({ width: 3840, height: 2160 })
    const viaTemplate = await p.http<{ id: string }>("GET", `${base}/effective?templateId=${templateId}`, {
      token: bob.token
    })
    expect(viaTemplate.body.id).toBe(tpl.body.id)

    const mine = await p.http<{ id: string; monitors: Array<{ primary: boolean }> }>("POST", `${base}/layouts`, {
      token: alice.token,
      body: { name: "desk", monitors: dual, isDefault: true }
    })
    expect(mine.status).toBe(201)
    expect(mine.body.monitors.map((m) => m.primary)).toEqual([true, false])
    expect(
      (await p.http("POST", `${base}/layouts`, { token: alice.token, body: { name: "desk", monitors: dual } })).status
    ).toBe(409)
    expect(
      (await p.http<{ id: string }>("GET", `${base}/effective?templateId=${templateId}`, { token: alice.token })).body
        .id
    ).toBe(mine.body.id)
    // Bob still gets the template's.
    expect(
      (await p.http<{ id: string }>("GET", `${base}/effective?templateId=${templateId}`, { token: bob.token })).body.id
    ).toBe(tpl.body.id)

    // Others cannot see, change or delete it; the template's is read-only to users.
    expect((await p.http("GET", `${base}/layouts/${mine.body.id}`, { token: bob.token })).status).toBe(404)
    expect((await p.http("DELETE", `${base}/layouts/${mine.body.id}`, { token: bob.token })).status).toBe(404)
    expect(
      (
        await p.http("PUT", `${base}/layouts/${tpl.body.id}`, {
          token: alice.token,
          body: { name: "quad", monitors: dual }
        })
      ).status
    ).toBe(403)

    const updated = await p.http<{ width: number }>("PUT", `${base}/layouts/${mine.body.id}`, {
      token: alice.token,
      body: { name: "desk", monitors: presetOf("triple-horizontal")!.monitors, isDefault: true }
    })
    expect(updated.status).toBe(200)
    expect(updated.body.width).toBe(5760)
    const list = await p.http<{ items: Array<{ name: string; scope: string }> }>("GET", `${base}/layouts`, {
      token: alice.token
    })
    expect(list.body.items.map((l) => `${l.scope}:${l.name}`).sort()).toEqual(["template:quad", "user:desk", "user:x"])

    expect((await p.http("DELETE", `${base}/layouts/${mine.body.id}`, { token: alice.token })).status).toBe(204)
    expect(
      (await p.http<{ id: string }>("GET", `${base}/effective?templateId=${templateId}`, { token: alice.token })).body
        .id
    ).toBe(tpl.body.id)
    const presets = await p.http<{ items: Array<{ id: string }> }>("GET", `${base}/presets`, { token: alice.token })
    expect(presets.body.items.map((i) => i.id)).toContain("preset:dual-horizontal")
  })

  test("a session's layout is its owner's for its template, with the xrandr invocations", async () => {
    const s = await p.http<{ id: string }>("POST", "/api/sessions", { token: bob.token, body: { templateId } })
    expect(s.status).toBe(201)
    const layout = await p.eventually(async () => {
      const res = await p.http<{ layout: { width: number }; xrandr: Array<Array<string>> }>(
        "GET",
        `${base}/sessions/${s.body.id}/layout`,
        { token: bob.token }
      )
      expect(res.status).toBe(200)
      return res.body
    })
    expect(layout.layout.width).toBe(3840)
    expect(layout.xrandr).toEqual([
      ["--newmode", "mm-3840x2160", "0", "3840", "3840", "3840", "3840", "2160", "2160", "2160", "2160"],
      ["--addmode", "VNC-0", "mm-3840x2160"],
      ["--fb", "3840x2160", "--output", "VNC-0", "--mode", "mm-3840x2160", "--pos", "0x0"],
      ["--setmonitor", "M1", "1920/508x1080/286+0+0", "VNC-0"],
      ["--setmonitor", "M2", "1920/508x1080/286+1920+0", "none"],
      ["--setmonitor", "M3", "1920/508x1080/286+0+1080", "none"],
      ["--setmonitor", "M4", "1920/508x1080/286+1920+1080", "none"]
    ])
    expect((await p.http("GET", `${base}/sessions/${s.body.id}/layout`, { token: alice.token })).status).toBe(404)
  })

  test("activating a layout on the simulated runtime is refused with 501, naming the runtime", async () => {
    const s = await p.http<{ id: string }>("POST", "/api/sessions", { token: bob.token, body: { templateId } })
    await p.eventually(
      async () => {
        const res = await p.http<{ detail: string }>("POST", `${base}/sessions/${s.body.id}/activate`, {
          token: bob.token
        })
        expect(res.status).toBe(501)
        expect(res.text).toContain("simulated runtime")
        return true
      },
      { timeoutMs: 20_000 }
    )
    expect((await p.http("POST", `${base}/sessions/${s.body.id}/activate`, { token: alice.token })).status).toBe(404)
  })

  test("apply-on-start on the simulated runtime (501) is skipped: no failed attempt, no dead letter", async () => {
    // Bob's effective layout is the template's quad, which apply-on-start would apply on a local desktop.
    const s = await p.http<{ id: string }>("POST", "/api/sessions", { token: bob.token, body: { templateId } })
    await p.eventually(async () => {
      const res = await p.http<{ state: string }>("GET", `/api/sessions/${s.body.id}`, { token: bob.token })
      return res.body.state === "running"
    })
    await p.awaitDelivered()
    const [subscription] = await p.query<{ attempts: number; last_error: string | null }>(
      "SELECT attempts, last_error FROM plugin_subscriptions WHERE plugin_id = 'multi-monitor' AND name = 'apply-on-start'"
    )
    expect(subscription).toEqual({ attempts: 0, last_error: null })
    expect(await p.query("SELECT id FROM plugin_dead_letters WHERE plugin_id = 'multi-monitor'")).toEqual([])
  })

  test("routes need the plugin's permissions", async () => {
    expect((await p.http("GET", `${base}/presets`)).status).toBe(401)
  })
})

describe("xrandr on a real Xvnc", () => {
  // The local runtime's own desktop start (a free display, marked with a data directory the kit's reaper
  // watches), so an Xvnc of a failed or killed test does not outlive it.
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-xrandr-"))
  let display = 0
  let scope: Scope.CloseableScope | undefined
  beforeAll(async () => {
    const xvnc = Bun.which("Xvnc")
    if (!xvnc || !Bun.which("xrandr"))
      throw new Error("Xvnc and xrandr are needed (apt-get install tigervnc-standalone-server x11-xserver-utils)")
    DesktopReaper.watch(dir)
    scope = await Effect.runPromise(Scope.make())
    const desktop = await Effect.runPromise(
      Scope.extend(
        XvncDesktop.start({
          xvnc,
          name: "xrandr test",
          width: 1280,
          height: 800,
          depth: 24,
          home: dir,
          logFile: Path.join(dir, "desktop.log"),
          windowManager: undefined,
          program: undefined,
          env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", [LocalRuntime.dataDirMark]: dir },
          startTimeout: "10 seconds"
        }),
        scope
      )
    )
    display = desktop.display
  })
  afterAll(async () => {
    if (scope) await Effect.runPromise(Scope.close(scope, Exit.void))
    DesktopReaper.reap(dir)
    Fs.rmSync(dir, { recursive: true, force: true })
  })

  test("applying dual-horizontal, then quad, then single: the framebuffer and the monitors follow", async () => {
    const run = (monitors: typeof dual) => Effect.runPromise(Xrandr.apply(`:${display}`, monitors))
    const screen = () =>
      /current (\d+) x (\d+)/
        .exec(Bun.spawnSync(["xrandr"], { env: { DISPLAY: `:${display}` } }).stdout.toString())
        ?.slice(1)

    // Smaller than the desktop's 1280×800 in height: the output's CRTC must shrink with the framebuffer.
    const small = await run([
      { name: "L", width: 1024, height: 768, x: 0, y: 0, primary: true },
      { name: "R", width: 1024, height: 768, x: 1024, y: 0, primary: false }
    ])
    expect(small.map((m) => [m.name, m.width, m.x])).toEqual([
      ["L", 1024, 0],
      ["R", 1024, 1024]
    ])
    expect(screen()).toEqual(["2048", "768"])
    const two = await run(dual)
    expect(two.map((m) => [m.name, m.width, m.height, m.x, m.y])).toEqual([
      ["M1", 1920, 1080, 0, 0],
      ["M2", 1920, 1080, 1920, 0]
    ])
    expect(screen()).toEqual(["3840", "1080"])
    const four = await run(presetOf("quad-grid")!.monitors)
    expect(four.map((m) => m.name)).toEqual(["M1", "M2", "M3", "M4"])
    expect(screen()).toEqual(["3840", "2160"])
    const custom = await run([
      { name: "wide", width: 2560, height: 1440, x: 0, y: 0, primary: true },
      { name: "side", width: 1080, height: 1920, x: 2560, y: 0, primary: false }
    ])
    expect(custom.map((m) => [m.name, m.width, m.height, m.x])).toEqual([
      ["wide", 2560, 1440, 0],
      ["side", 1080, 1920, 2560]
    ])
    expect(screen()).toEqual(["3640", "1920"])
    const one = await run(presetOf("single")!.monitors)
    expect(one.map((m) => m.name)).toEqual(["M1"])
    expect(screen()).toEqual(["1920", "1080"])
  }, 30_000)

  test("applies at the same time to one display take turns: each ends with its layout, none fails", async () => {
    // Sizes no earlier apply made: each apply must create its mode, the step two interleaved applies trip over.
    const layouts = [1000, 1010, 1020].map((width) => [
      { name: "A", width, height: 700, x: 0, y: 0, primary: true },
      { name: "B", width, height: 700, x: width, y: 0, primary: false }
    ])
    for (const layout of layouts) {
      const [first, second] = await Promise.all([
        Effect.runPromise(Xrandr.apply(`:${display}`, layout)),
        Effect.runPromise(Xrandr.apply(`:${display}`, layout))
      ])
      expect(first.map((m) => [m.name, m.width, m.x])).toEqual([
        ["A", layout[0]!.width, 0],
        ["B", layout[0]!.width, layout[0]!.width]
      ])
      expect(second).toEqual(first)
    }
  }, 30_000)

  test("the listing parser reads the automatic monitor and primary flags", () => {
    expect(Xrandr.parseListMonitors("Monitors: 1\n 0: +*VNC-0 1280/339x800/212+0+0  VNC-0\n")).toEqual([
      { index: 0, automatic: true, primary: true, name: "VNC-0", width: 1280, height: 800, x: 0, y: 0 }
    ])
  })
})
