/**
 * The multi-monitor plugin in Chromium on a real desktop (the `local`
 * runtime: Xvnc + xterm). A dual-horizontal layout (2 × 1024×768) is
 * applied to the session's display through the platform's `desktops` grant
 * (on start, and again by `activate`; docs/plugins/multi-monitor.md), and
 * `xrandr --listmonitors` reports both monitors. From "Monitor layouts"
 * the user opens the desktop window (the one stream) and one window per
 * monitor: each monitor window shows its half of the desktop (pixel check:
 * xterm, moved onto the right monitor, appears only in the right window),
 * and a click in the right window lands at the right desktop coordinate
 * (read back with xdotool). Screenshots and axe on both pages.
 *
 * Needs Xvnc, xterm, xrandr, xsetroot and xdotool; without them it fails naming them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SessionRuntime } from "@streamspace/core"
import multiMonitor from "@streamspace/plugin-multi-monitor"
import { BrowserKit } from "@streamspace/testing"
import { Effect } from "effect"
import type { Page } from "playwright-core"
import * as ConsoleTest from "./fixtures/ConsoleTest.ts"

const missing = ["Xvnc", "xterm", "xrandr", "xsetroot", "xdotool"].filter((program) => !Bun.which(program))
const password = "quiet-lantern-orbit-7"
const monitors = [
  { name: "LEFT", width: 1024, height: 768, x: 0, y: 0, primary: true },
  { name: "RIGHT", width: 1024, height: 768, x: 1024, y: 0, primary: false }
]
/** The root window's colour, set with xsetroot: what a monitor without windows shows. */
const root = { r: 0x20, g: 0x40, b: 0x80 }

let kit: BrowserKit.BrowserKit
let alice: { id: string; token: string }
let sessionId: string
let display: string
const pages = ConsoleTest.pageTracker(() => kit)

const x = (args: ReadonlyArray<string>) => {
  const out = Bun.spawnSync([...args], { env: { DISPLAY: display, PATH: process.env["PATH"] ?? "/usr/bin:/bin" } })
  return out.stdout.toString().trim()
}

/** The colour of canvas pixel (px, py) of the page's monitor canvas (run in the page: the tests have no DOM types). */
const pixelInPage = new Function(
  `return (([px, py]) => { const c = document.querySelector("canvas[data-monitor]"); const d = c.getContext("2d").getImageData(px, py, 1, 1).data; return { r: d[0], g: d[1], b: d[2] } })`
)() as (at: [number, number]) => { r: number; g: number; b: number }
const pixel = (page: Page, px: number, py: number) => page.evaluate(pixelInPage, [px, py] as [number, number])

const near = (a: { r: number; g: number; b: number }, b: { r: number; g: number; b: number }) =>
  Math.abs(a.r - b.r) + Math.abs(a.g - b.g) + Math.abs(a.b - b.b) < 24

describe("multi-monitor on the local runtime", () => {
  beforeAll(async () => {
    if (missing.length > 0)
      throw new Error(`${missing.join(", ")} not on the PATH: the multi-monitor browser test needs them`)
    kit = await BrowserKit.start({
      plugins: [multiMonitor],
      config: { sessions: { runtime: "local" }, plugins: { enabled: ["multi-monitor"] } }
    })
    const admin = await kit.platform.login("admin", kit.platform.adminPassword)
    const id = await ConsoleTest.createUser(kit, admin, { username: "alice", password, roles: ["user"] })
    alice = { id, token: await kit.platform.login("alice", password) }
    const template = await ConsoleTest.request<{ id: string }>(kit, "POST", "/api/templates", admin, {
      name: "xterm",
      displayName: "xterm",
      image: "streamspace/xterm:latest"
    })
    await ConsoleTest.request(kit, "POST", "/api/plugins/multi-monitor/layouts", alice.token, {
      name: "desk",
      monitors,
      isDefault: true
    })
    sessionId = (
      await ConsoleTest.request<{ id: string }>(kit, "POST", "/api/sessions", alice.token, { templateId: template.id })
    ).id
    await kit.platform.eventually(
      async () => {
        const s = await ConsoleTest.request<{ state: string }>(kit, "GET", `/api/sessions/${sessionId}`, alice.token)
        expect(s.state).toBe("running")
        return true
      },
      { timeoutMs: 30_000 }
    )
    const desktop = await kit.platform.run(
      Effect.map(SessionRuntime.SessionRuntime, (r) => (r.kind === "local" ? r.desktop(sessionId) : undefined))
    )
    if (!desktop) throw new Error("the session has no local desktop")
    display = `:${desktop.display}`
    await kit.platform.eventually(() => x(["xdotool", "search", "--class", "xterm"]) !== "", { timeoutMs: 30_000 })
  }, 150_000)
  afterAll(async () => {
    await pages.closeAll()
    await kit?.close()
  })

  test("the layout applied to the desktop: two RandR monitors, each browser window shows its half, clicks land there", async () => {
    // The platform applies the session's layout (the `desktops` grant): framebuffer and RandR monitors.
    const applied = await ConsoleTest.request<{
      layout: { width: number }
      monitors: Array<{ name: string; width: number; height: number; x: number; y: number }>
    }>(kit, "POST", `/api/plugins/multi-monitor/sessions/${sessionId}/activate`, alice.token)
    expect(applied.layout.width).toBe(2048)
    expect(applied.monitors.map((m) => [m.name, m.width, m.height, m.x, m.y])).toEqual([
      ["LEFT", 1024, 768, 0, 0],
      ["RIGHT", 1024, 768, 1024, 0]
    ])
    expect(x(["xrandr", "--listmonitors"])).toContain("Monitors: 2")
    x(["xsetroot", "-solid", "#204080"])
    const xterm = x(["xdotool", "search", "--class", "xterm"]).split("\n")[0]!
    x(["xdotool", "windowmove", "--sync", xterm, "1124", "100"])

    const { page: hub } = await pages.loggedIn("/plugins/multi-monitor/layouts", { username: "alice", password })
    await hub.getByRole("button", { name: "Open desktop" }).waitFor()
    await kit.screenshot(hub, "multi-monitor-layouts")
    await ConsoleTest.expectAccessible(kit, hub, { settle: true })

    const [viewer] = await Promise.all([
      hub.waitForEvent("popup"),
      hub.getByRole("button", { name: "Open desktop" }).click()
    ])
    await viewer.locator("[data-first-frame]").waitFor({ timeout: 30_000 })
    const [left] = await Promise.all([
      hub.waitForEvent("popup"),
      hub.getByRole("button", { name: /^Open monitor 1/ }).click()
    ])
    const [right] = await Promise.all([
      hub.waitForEvent("popup"),
      hub.getByRole("button", { name: /^Open monitor 2/ }).click()
    ])
    for (const page of [left, right]) await page.getByText("Live").waitFor({ timeout: 30_000 })

    // xterm (white) sits at +100+100 of the right monitor; the left one shows only the root colour there.
    await kit.platform.eventually(
      async () => {
        expect(near(await pixel(right, 150, 150), { r: 255, g: 255, b: 255 })).toBe(true)
        expect(near(await pixel(right, 20, 20), root)).toBe(true)
        expect(near(await pixel(left, 150, 150), root)).toBe(true)
        expect(near(await pixel(left, 1000, 700), root)).toBe(true)
        return true
      },
      { timeoutMs: 30_000 }
    )
    await kit.screenshot(right, "multi-monitor-right")
    await ConsoleTest.expectAccessible(kit, right, { settle: true })

    // A click at canvas point (700, 600) of the right window is desktop point (1024 + 700, 600).
    const canvas = right.locator("canvas[data-monitor]")
    const box = await canvas.boundingBox()
    if (!box) throw new Error("no monitor canvas")
    const at = { x: 700 * (box.width / 1024), y: 600 * (box.height / 768) }
    await canvas.click({ position: at })
    await kit.platform.eventually(
      async () => {
        const where = /x:(\d+) y:(\d+)/.exec(x(["xdotool", "getmouselocation"]))
        expect(Math.abs(Number(where?.[1]) - 1724)).toBeLessThanOrEqual(2)
        expect(Math.abs(Number(where?.[2]) - 600)).toBeLessThanOrEqual(2)
        return true
      },
      { timeoutMs: 10_000 }
    )
    for (const page of [viewer, left, right]) await page.close()
  }, 150_000)
})
