/**
 * The recorder's "done when" on a real desktop: the `local` runtime (TigerVNC
 * Xvnc running xterm), recorded by an auto-record policy from the session's
 * start while the user's viewer (noVNC in Chromium, Tight encoding as the
 * console asks) types into xterm for 20 s; stopped; then the player page
 * seeks to 10 s — drawing from the keyframe before it, not from the start —
 * and shows the frame the live viewer showed at 10 s, and a seek to the end
 * shows the typed text as the live viewer's final frame does.
 *
 * The live viewer shows the "Recording" indicator and the policy's consent
 * notice (acknowledged once), and drops the indicator after the stop.
 *
 * Frames are compared as the canvases' own pixels (full 1280 × 800, not the
 * scaled page), both decoded by noVNC from the same bytes: the threshold is
 * 0.1 % of the pixels differing (by more than 48 in summed RGB). The screen
 * is kept still for a second either side of 10 s (typing stops), so the
 * few ms between the test's clock and the recorder's do not matter.
 * Screenshots (live and played, at 10 s and at the end) are written to the
 * test's temporary directory, printed at the end.
 *
 * Needs Xvnc and xterm (`.ci/run` installs them): without them the test
 * fails naming the packages; never skipped.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import recorder from "@streamspace/plugin-session-recorder"
import { BrowserKit } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { Locator, Page } from "playwright-core"
import * as ConsoleTest from "../../../test/web/fixtures/ConsoleTest.ts"
import * as DesktopCanvas from "../../../test/web/fixtures/DesktopCanvas.ts"

const missing = ["Xvnc", "xterm"].filter((program) => !Bun.which(program))
const password = "reel-to-reel-xvnc-9"
/** The length: 20 s recorded, the comparison at 10 s. */
const recordMs = 20_000
const checkAtMs = 10_000
const keyframeSeconds = 3
/** Differing pixels allowed between a played and a live frame: 0.1 % of 1280 × 800. */
const maxDiffPixels = Math.round(0.001 * 1280 * 800)

const shots = Fs.mkdtempSync(Path.join(Os.tmpdir(), "recorder-xvnc-"))
let kit: BrowserKit.BrowserKit
let admin: string

beforeAll(async () => {
  if (missing.length > 0)
    throw new Error(
      `${missing.join(" and ")} not on the PATH: this test needs a real desktop (apt-get install tigervnc-standalone-server xterm)`
    )
  kit = await BrowserKit.start({
    plugins: [recorder],
    config: { sessions: { runtime: "local" }, plugins: { enabled: ["session-recorder"] } }
  })
  admin = await kit.platform.login("admin", kit.platform.adminPassword)
  await ConsoleTest.createUser(kit, admin, { username: "tess", password, roles: ["user"] })
}, 180_000)
afterAll(async () => {
  await kit?.close()
  console.log(`recorder screenshots: ${shots}`)
})

/** The canvas's own pixels as a PNG (full resolution, whatever the page's scaling). */
const pixels = async (canvas: Locator, name: string) => {
  const url = await canvas.evaluate((c: { toDataURL: (type: string) => string }) => c.toDataURL("image/png"))
  const png = Buffer.from(url.slice(url.indexOf(",") + 1), "base64")
  Fs.writeFileSync(Path.join(shots, `${name}.png`), png)
  return png
}

/** The canvas once two reads 300 ms apart are the same (nothing is still drawing). */
const settled = (page: Page, canvas: Locator, name: string) =>
  kit.platform.eventually(
    async () => {
      const first = await pixels(canvas, name)
      await page.waitForTimeout(300)
      const second = await pixels(canvas, name)
      expect(await DesktopCanvas.pixelDiff(page, first, second)).toBe(0)
      return second
    },
    { timeoutMs: 15_000 }
  )

test("a real Xvnc session recorded for 20 s plays back: the frame at 10 s, and the typed text at the end", async () => {
  const configured = await ConsoleTest.request(kit, "PUT", "/api/admin/plugins/session-recorder/config", admin, {
    keyframeSeconds,
    chunkSeconds: 2
  })
  expect(configured).toBeDefined()
  await ConsoleTest.request(kit, "POST", "/api/plugins/session-recorder/policies", admin, {
    name: "record every session",
    autoRecord: true,
    consentNotice: true
  })
  const tess = await kit.platform.login("tess", password)
  const template = await ConsoleTest.request<{ id: string }>(kit, "POST", "/api/templates", admin, {
    name: "xterm",
    displayName: "xterm",
    image: "streamspace/xterm:latest"
  })
  const session = await ConsoleTest.request<{ id: string }>(kit, "POST", "/api/sessions", tess, {
    templateId: template.id
  })
  const recording = await kit.platform.eventually(
    async () => {
      const list = await ConsoleTest.request<{ items: Array<{ id: string; status: string; startedAt: string }> }>(
        kit,
        "GET",
        `/api/plugins/session-recorder/recordings?sessionId=${session.id}`,
        tess
      )
      return list.items[0]?.status === "recording" ? list.items[0] : undefined
    },
    { timeoutMs: 30_000 }
  )
  // Recording time as the recorder counts it (its start is stamped with the same clock, in this process).
  const startedAt = Date.parse(recording.startedAt)
  const at = () => Date.now() - startedAt
  const until = async (ms: number) => {
    if (at() > ms) throw new Error(`the test fell behind: ${at()} ms into the recording, wanted ${ms} ms`)
    await Bun.sleep(ms - at())
  }

  // Tess opens her desktop; the viewer's connection is what gets recorded.
  const live = await kit.newPage()
  await kit.login(live, "tess", password)
  await live.goto(`${kit.url}/sessions/${session.id}/view`)
  const liveCanvas = live.getByRole("application", { name: /^Desktop of / }).locator("canvas")
  // The viewer says the session is recorded, and the policy's consent notice asks to be acknowledged.
  await live.getByRole("status", { name: "This session is being recorded" }).waitFor({ timeout: 30_000 })
  const consent = live.getByTestId("recording-consent")
  await consent.waitFor()
  expect(await consent.textContent()).toContain("everything you type")
  await consent.getByRole("button", { name: "I understand" }).click()
  await consent.waitFor({ state: "detached" })
  const point = await kit.platform.eventually(() => DesktopCanvas.xtermPoint(liveCanvas), { timeoutMs: 60_000 })
  const connectedAt = at()
  await live.screenshot({ path: Path.join(shots, "viewer-recording.png") })
  console.log(`viewer showed xterm ${connectedAt} ms into the recording`)
  // The frame is checked at 10 s, which must fall after a keyframe of the viewer's connection.
  expect(connectedAt).toBeLessThan(checkAtMs - 1000 - keyframeSeconds * 1000)

  await live.mouse.click(point.x, point.y)
  // xterm's shell may still be starting: typed keys wait for a prompt.
  await live.waitForTimeout(500)
  await live.keyboard.type("echo first-half-of-the-recording", { delay: 20 })
  await live.keyboard.press("Enter")
  // Still from 9 s to 11 s: the live frame at 10 s is what was recorded at 10 s.
  await until(checkAtMs - 1000)
  await until(checkAtMs)
  const liveAtCheck = await pixels(liveCanvas, "live-at-10s")
  await until(checkAtMs + 1000)
  for (let line = 0; at() < recordMs - 1500; line++) {
    await live.keyboard.type(`echo second-half-line-${line}`, { delay: 20 })
    await live.keyboard.press("Enter")
  }
  await until(recordMs)
  const stopped = await ConsoleTest.request<{ stopped: boolean }>(
    kit,
    "POST",
    `/api/plugins/session-recorder/sessions/${session.id}/recording/stop`,
    tess
  )
  expect(stopped.stopped).toBe(true)
  const liveFinal = await settled(live, liveCanvas, "live-final")
  expect(await DesktopCanvas.pixelDiff(live, liveAtCheck, liveFinal)).toBeGreaterThan(maxDiffPixels)

  const detail = await ConsoleTest.request<{
    recording: { status: string; durationMs: number }
    keyframes: Array<number>
    input: Array<[number, string]>
  }>(kit, "GET", `/api/plugins/session-recorder/recordings/${recording.id}`, tess)
  expect(detail.recording.status).toBe("completed")
  expect(detail.recording.durationMs).toBeGreaterThanOrEqual(recordMs)
  // A keyframe every 3 s of the connection: at least five in its ~15 s.
  expect(detail.keyframes.length).toBeGreaterThanOrEqual(
    Math.floor((recordMs - connectedAt) / 1000 / keyframeSeconds) - 1
  )
  expect(detail.input.filter(([, k]) => k === "key").length).toBeGreaterThan(100)

  // The player: seek to 10 s draws from the keyframe before it and shows the live frame of 10 s.
  const { page, errors } = await (async () => {
    const p = await kit.newPage()
    const errs = ConsoleTest.watchErrors(p)
    await kit.login(p, "tess", password)
    return { page: p, errors: errs }
  })()
  await page.goto(`${kit.url}/plugins/session-recorder/recordings?recording=${recording.id}`)
  await page.getByRole("button", { name: "Play", exact: true }).waitFor({ timeout: 30_000 })
  const played = page.getByRole("img", { name: "Recorded desktop" }).locator("canvas")
  await page.getByRole("slider", { name: "Position" }).fill(String(checkAtMs))
  const seekInfo = page.locator("[data-seek-keyframe]")
  await seekInfo.waitFor()
  expect(await seekInfo.getAttribute("data-seek-keyframe")).toBe("true")
  const drawnFrom = Number(await seekInfo.getAttribute("data-seek-drawn-from"))
  expect(drawnFrom).toBeGreaterThan(connectedAt - 1000)
  expect(drawnFrom).toBeLessThanOrEqual(checkAtMs - 1000)
  // The updates before the keyframe were parsed (zlib state) but not drawn.
  expect(Number(await seekInfo.getAttribute("data-seek-undrawn"))).toBeGreaterThan(0)
  const playedAtCheck = await settled(page, played, "played-at-10s")
  const diffAtCheck = await DesktopCanvas.pixelDiff(page, playedAtCheck, liveAtCheck)
  console.log(
    `10 s: played vs live differ in ${diffAtCheck} pixels (allowed ${maxDiffPixels}); drawn from ${drawnFrom} ms`
  )
  expect(diffAtCheck).toBeLessThanOrEqual(maxDiffPixels)

  // Seek to the end: the typed lines, as the live viewer showed them last.
  await page.getByRole("slider", { name: "Position" }).fill(String(Math.round(detail.recording.durationMs)))
  const playedFinal = await kit.platform.eventually(async () => {
    const shot = await settled(page, played, "played-final")
    expect(await DesktopCanvas.pixelDiff(page, shot, playedAtCheck)).toBeGreaterThan(maxDiffPixels)
    return shot
  })
  const diffFinal = await DesktopCanvas.pixelDiff(page, playedFinal, liveFinal)
  console.log(`end: played vs live differ in ${diffFinal} pixels (allowed ${maxDiffPixels})`)
  expect(diffFinal).toBeLessThanOrEqual(maxDiffPixels)
  await page.screenshot({ path: Path.join(shots, "player-page.png") })
  expect(errors).toEqual([])
  // Stopped: the viewer's indicator goes (it reads the state every 10 s).
  await live.getByTestId("recording-indicator").waitFor({ state: "detached", timeout: 15_000 })
  await live.screenshot({ path: Path.join(shots, "viewer-after-stop.png") })
}, 240_000)
