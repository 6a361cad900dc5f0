/**
 * The session recorder end to end in Chromium: an admin installs and
 * enables the recorder on the plugins page and adds an auto-record policy;
 * a user's session on the simulated runtime (the real RFB stand-in desktop
 * behind the real VNC proxy) is recorded while a VNC client works on it
 * (pointer input, updates in noVNC's pixel format); the recording is
 * stopped; the user opens it in the player page, which feeds the decrypted
 * stream to noVNC in the browser with no desktop involved: the canvas goes
 * from blank to the desktop's picture, the timeline marks the pointer
 * input, and a seek fast-forwards to the end. Screenshot "recorder-player";
 * axe on the player.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test"
import recorder from "@streamspace/plugin-session-recorder"
import { ClientMessages, PixelFormat } from "@streamspace/rfb"
import { BrowserKit, VncClient } from "@streamspace/testing"
import type { Page } from "playwright-core"
import * as ConsoleTest from "./fixtures/ConsoleTest.ts"
import * as DesktopCanvas from "./fixtures/DesktopCanvas.ts"

const password = "tape-deck-replay-42"
let kit: BrowserKit.BrowserKit
let admin: string

beforeAll(async () => {
  kit = await BrowserKit.start({ plugins: [recorder], config: { sessions: { simulatedDelayMs: 20 } } })
  admin = await kit.platform.login("admin", kit.platform.adminPassword)
  await ConsoleTest.createUser(kit, admin, { username: "rita", password, roles: ["user"] })
}, 180_000)
afterAll(async () => {
  await kit?.close()
})

const pages = ConsoleTest.pageTracker(() => kit)
afterEach(() => pages.closeAll())

/** noVNC's own pixel format (what the console's viewer asks for): the player decodes with it. */
const novncFormat: PixelFormat.PixelFormat = { ...PixelFormat.rgb888, redShift: 0, greenShift: 8, blueShift: 16 }

/** A VNC client working on the session: handshake, noVNC's pixel format, raw updates, pointer moves and clicks. */
const work = async (sessionId: string, token: string) => {
  const client = VncClient.open(kit.platform, sessionId, {
    ticket: await VncClient.ticket(kit.platform, sessionId, token)
  })
  try {
    await client.opened
    const atLeast = (bytes: number) => kit.platform.eventually(() => client.received().length >= bytes)
    await atLeast(12)
    client.send(ClientMessages.protocolVersion())
    await atLeast(12 + 2)
    client.send(ClientMessages.securityType(1))
    await atLeast(12 + 2 + 4)
    client.send(ClientMessages.clientInit())
    await atLeast(12 + 2 + 4 + 24)
    client.send(ClientMessages.setPixelFormat(novncFormat))
    client.send(ClientMessages.setEncodings([0]))
    const size = { x: 0, y: 0, width: 64, height: 48 }
    client.send(ClientMessages.framebufferUpdateRequest({ incremental: false, ...size }))
    await atLeast(12 + 2 + 4 + 24 + 16 + 64 * 48 * 4)
    for (let i = 0; i < 6; i++) {
      await Bun.sleep(150)
      client.send(ClientMessages.framebufferUpdateRequest({ incremental: true, ...size }))
      client.send(ClientMessages.pointerEvent(i % 2, 5 * i, 4 * i))
    }
    await Bun.sleep(300)
  } finally {
    client.close()
  }
}

const canvasOf = (page: Page) => page.getByRole("img", { name: "Recorded desktop" }).locator("canvas")
/** noVNC's canvas before any picture: no size yet, or one colour. */
const blank = async (page: Page) =>
  (await canvasOf(page).evaluate((c: { width: number }) => c.width)) === 0 ||
  (await DesktopCanvas.stats(canvasOf(page))).colours <= 1

test("a recorded session plays back in the browser: picture, input marks, speed and seek", async () => {
  // The admin installs and enables the recorder, and records every session.
  const { page: adminPage, errors: adminErrors } = await pages.loggedIn("/admin/plugins")
  const row = adminPage.getByTestId("plugin-row-session-recorder")
  await row.getByRole("button", { name: "Install Session recorder" }).click()
  await adminPage
    .getByRole("dialog", { name: /^Install Session recorder/ })
    .getByRole("button", { name: "Install" })
    .click()
  await row.getByText("installed", { exact: true }).waitFor()
  await row.getByRole("button", { name: "Enable Session recorder" }).click()
  await adminPage
    .getByRole("dialog", { name: "Enable Session recorder?" })
    .getByRole("button", { name: "Enable" })
    .click()
  await row.getByText("enabled", { exact: true }).waitFor()
  expect(adminErrors).toEqual([])
  await ConsoleTest.request(kit, "POST", "/api/plugins/session-recorder/policies", admin, {
    name: "record everything",
    autoRecord: true
  })

  // Rita's session is recorded from its start (the policy), while a client works on it.
  const rita = await kit.platform.login("rita", password)
  const template = await ConsoleTest.request<{ id: string }>(kit, "POST", "/api/templates", admin, {
    name: "recorded-desktop",
    displayName: "Recorded desktop",
    image: "streamspace/xterm:latest"
  })
  const session = await ConsoleTest.request<{ id: string }>(kit, "POST", "/api/sessions", rita, {
    templateId: template.id
  })
  const recording = await kit.platform.eventually(
    async () => {
      const state = await ConsoleTest.request<{ state: string }>(kit, "GET", `/api/sessions/${session.id}`, rita)
      const list = await ConsoleTest.request<{ items: Array<{ id: string; status: string }> }>(
        kit,
        "GET",
        `/api/plugins/session-recorder/recordings?sessionId=${session.id}`,
        rita
      )
      return state.state === "running" && list.items[0]?.status === "recording" ? list.items[0] : undefined
    },
    { timeoutMs: 30_000 }
  )
  await work(session.id, rita)
  const stopped = await ConsoleTest.request<{ stopped: boolean }>(
    kit,
    "POST",
    `/api/plugins/session-recorder/sessions/${session.id}/recording/stop`,
    rita
  )
  expect(stopped.stopped).toBe(true)
  const detail = await ConsoleTest.request<{
    recording: { status: string; durationMs: number }
    input: Array<[number, string]>
  }>(kit, "GET", `/api/plugins/session-recorder/recordings/${recording.id}`, rita)
  expect(detail.recording.status).toBe("completed")
  expect(detail.input.filter(([, k]) => k === "pointer")).toHaveLength(6)

  // Rita plays it back: the portal's Recordings page, then Play.
  const { page, errors } = await pages.loggedIn("/", { username: "rita", password })
  await page.getByRole("link", { name: "Recordings" }).click()
  await page.getByRole("button", { name: /^Play recording of / }).click()
  const play = page.getByRole("button", { name: "Play", exact: true })
  await play.waitFor()
  // Nothing played yet: a blank canvas.
  expect(await blank(page)).toBe(true)
  // Input marks on the timeline, one per recorded pointer event.
  expect(await page.locator('[data-input-mark="pointer"]').count()).toBe(6)
  await page.getByRole("img", { name: "Input activity: 6 pointer" }).waitFor()

  await page.getByRole("group", { name: "Speed" }).getByRole("button", { name: "8×" }).click()
  await play.click()
  await page.getByRole("button", { name: "Pause", exact: true }).waitFor()
  const shown = await kit.platform.eventually(async () => {
    const stats = await DesktopCanvas.stats(canvasOf(page))
    // The stand-in desktop: 64 × 48, a diagonal gradient.
    expect(stats).toMatchObject({ width: 64, height: 48 })
    expect(stats.colours).toBeGreaterThan(100)
    return stats
  })
  expect(shown.varied).toBeGreaterThan(0.5)
  // At 8× the whole recording plays within its length / 8 (plus the machine's slack); then Play shows again.
  await play.waitFor({ timeout: Math.max(10_000, detail.recording.durationMs) })
  const end = Number(await page.locator("[data-playback-position]").getAttribute("data-playback-position"))
  expect(end).toBeGreaterThanOrEqual(Math.floor(detail.recording.durationMs) - 1)
  await kit.screenshot(page, "recorder-player")
  await ConsoleTest.expectAccessible(kit, page, { settle: true })

  // A seek restarts the connection and fast-forwards: from a fresh page, straight to the end without playing.
  await page.reload()
  await page.getByRole("button", { name: "Play", exact: true }).waitFor()
  expect(await blank(page)).toBe(true)
  await page.getByRole("slider", { name: "Position" }).fill(String(Math.round(detail.recording.durationMs)))
  await kit.platform.eventually(async () => {
    const stats = await DesktopCanvas.stats(canvasOf(page))
    expect(stats.colours).toBeGreaterThan(100)
    return true
  })
  expect(errors).toEqual([])

  // Opening the recording was logged: a view and a playback per opening.
  const log = await ConsoleTest.request<{ items: Array<{ action: string; userAgent: string }> }>(
    kit,
    "GET",
    `/api/plugins/session-recorder/recordings/${recording.id}/access-log`,
    rita
  )
  expect(log.items.filter((i) => i.action === "playback").length).toBeGreaterThanOrEqual(2)
  expect(log.items.find((i) => i.action === "playback")?.userAgent).toContain("Chrome")
}, 240_000)
