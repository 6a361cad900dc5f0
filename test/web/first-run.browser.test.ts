/**
 * The README's promise, end to end: `bun start` on a fresh data directory
 * (embedded PGlite, default config, so `auto` picks the local runtime where
 * Xvnc is installed), the printed URL and password, log in in Chromium,
 * launch the starter template from the catalog, open it and type into its
 * xterm — the typed command runs on this machine. Killed outright, the
 * server leaves no desktop behind once the kit has cleaned up.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { LocalRuntime, ProcessTable } from "@streamspace/core"
import { BrowserKit, Chromium, Eventually, ServerProcess } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { type Browser, chromium } from "playwright-core"
import * as DesktopCanvas from "./fixtures/DesktopCanvas.ts"

let dir: string
let server: ServerProcess.ServerProcess
let browser: Browser

beforeAll(async () => {
  if (!Bun.which("Xvnc") || !Bun.which("xterm"))
    throw new Error("Xvnc and xterm are needed for a real desktop: apt-get install tigervnc-standalone-server xterm")
  dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamspace-first-run-"))
  // The user's start: no admin password configured (it is printed), no runtime chosen, no database URL.
  server = await ServerProcess.start(
    {
      STREAMSPACE_DATA_DIR: Path.join(dir, "data"),
      DATABASE_URL: undefined,
      STREAMSPACE_ADMIN_PASSWORD: undefined,
      SESSION_RUNTIME: undefined
    },
    { timeoutMs: 120_000 }
  )
  browser = await chromium.launch({ executablePath: Chromium.path })
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  Fs.rmSync(dir, { recursive: true, force: true })
})

test("a new user logs in with the printed password, launches the starter desktop and types into it", async () => {
  const password = /password: (\S+)/.exec(server.output())?.[1]
  expect(password).toBeDefined()
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } })
  const page = await context.newPage()
  await page.goto(server.url)
  await BrowserKit.logIn(page, "admin", password!)

  await page.goto(`${server.url}/catalog`)
  await page.getByRole("button", { name: /Launch Terminal/ }).click()
  await page.waitForURL(/\/sessions$/)
  const open = page.getByRole("link", { name: "Open Terminal" })
  await open.waitFor({ timeout: 60_000 })
  await open.click()

  const canvas = page.getByRole("application", { name: /^Desktop of / }).locator("canvas")
  await page.locator("[data-first-frame]").waitFor({ timeout: 60_000 })
  // Not a blank frame: xterm's window is on the desktop.
  const point = await Eventually.eventually(() => DesktopCanvas.xtermPoint(canvas), {
    timeoutMs: 30_000,
    what: "xterm on the desktop"
  })
  const homes = Path.join(dir, "data", "homes")
  const typed = () =>
    Fs.existsSync(homes) &&
    Fs.readdirSync(homes).some((home) => Fs.existsSync(Path.join(homes, home, "typed-in-the-browser")))
  const typeCommand = async () => {
    await page.mouse.click(point.x, point.y)
    await page.keyboard.type("touch typed-in-the-browser")
    await page.keyboard.press("Enter")
  }
  await typeCommand()
  // Under load the first keys typed right after the click can be lost before xterm has the focus (seen: only
  // "d-in-the-browser" reached the shell). The screen is then kept for a look, and a user's second try — click,
  // type again — must work.
  const firstTry = await Eventually.eventually(typed, { timeoutMs: 10_000, what: "the typed command's file" }).then(
    () => true,
    () => false
  )
  if (!firstTry) {
    Fs.mkdirSync(BrowserKit.screenshotDir, { recursive: true })
    await page.screenshot({ path: Path.join(BrowserKit.screenshotDir, "first-run-keys-lost.png") })
    console.log("first run: the first typed command did not arrive within 10 s; typing it again (screenshot kept)")
    await typeCommand()
  }
  await Eventually.eventually(typed, { timeoutMs: 20_000, what: "the typed command's file in the user's home" })
  await context.close()

  // A server killed outright (as the kit does to one still running when a test process exits) cannot stop its
  // desktop, whose processes are detached; the kit ends them by their data-directory mark.
  const marked = () => ProcessTable.withEnvironment({ [LocalRuntime.dataDirMark]: Path.join(dir, "data") })
  expect(marked().length).toBeGreaterThan(0)
  server.proc.kill("SIGKILL")
  await server.proc.exited
  expect(marked().length).toBeGreaterThan(0)
  await ServerProcess.stopAll()
  expect(marked()).toEqual([])
}, 240_000)
