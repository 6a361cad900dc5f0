/**
 * Browser tests: a test platform that serves the web console on a real
 * socket, and Debian's Chromium driven by playwright-core (no browser
 * download; `STREAMSPACE_CHROMIUM` overrides `/usr/bin/chromium`).
 *
 *     let kit: BrowserKit.BrowserKit
 *     beforeAll(async () => { kit = await BrowserKit.start() }, 60_000)
 *     afterAll(() => kit.close())
 *     test("…", async () => {
 *       const page = await kit.newPage()
 *       await kit.login(page, "admin", kit.platform.adminPassword)
 *       await kit.screenshot(page, "sessions")
 *     }, 60_000)
 *
 * Screenshots land in `test-results/screenshots/<name>.png`.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core"
import * as Chromium from "./Chromium.ts"
import * as TestPlatform from "./TestPlatform.ts"

export const screenshotDir = Path.join(import.meta.dir, "../../../test-results/screenshots")

export interface BrowserKit {
  readonly platform: TestPlatform.TestPlatform
  /** The console's URL (`http://127.0.0.1:<port>`). */
  readonly url: string
  readonly browser: Browser
  /** A fresh context (own storage: a new login) and page, at the console's URL. */
  readonly newPage: (options?: { readonly colorScheme?: "light" | "dark" }) => Promise<Page>
  /** Logs in through the login form and waits for the shell. */
  readonly login: (page: Page, username: string, password: string) => Promise<void>
  readonly screenshot: (page: Page, name: string) => Promise<string>
  /** axe-core's serious and critical violations on the page as it is now. */
  readonly accessibilityViolations: (
    page: Page
  ) => Promise<
    ReadonlyArray<{ readonly id: string; readonly impact: string; readonly help: string; readonly nodes: number }>
  >
  readonly close: () => Promise<void>
}

export interface BrowserKitOptions extends TestPlatform.TestPlatformOptions {
  readonly viewport?: { readonly width: number; readonly height: number }
}

interface AxeResult {
  readonly violations: ReadonlyArray<{
    readonly id: string
    readonly impact: string | null
    readonly help: string
    readonly nodes: ReadonlyArray<unknown>
  }>
}

/** Logs in through the console's login form (the page shows it) and waits for the shell. */
export const logIn = async (page: Page, username: string, password: string): Promise<void> => {
  await page.getByLabel(/^Username/).fill(username)
  await page.getByLabel(/^Password/).fill(password)
  await page.getByRole("button", { name: "Log in" }).click()
  await page.getByRole("button", { name: "Account menu" }).waitFor()
}

export const start = async (options: BrowserKitOptions = {}): Promise<BrowserKit> => {
  const reason = Chromium.unavailable()
  if (reason) throw new Error(`${reason}: the browser tests cannot run`)
  const platform = await TestPlatform.make({ ...options, listen: true, webConsole: true })
  const url = platform.url!
  let browser: Browser
  try {
    browser = await chromium.launch({ executablePath: Chromium.path })
  } catch (e) {
    await platform.close()
    throw e
  }
  const contexts = new Set<BrowserContext>()
  const viewport = options.viewport ?? { width: 1366, height: 900 }
  return {
    platform,
    url,
    browser,
    newPage: async (pageOptions = {}) => {
      const context = await browser.newContext({ viewport, colorScheme: pageOptions.colorScheme ?? "light" })
      contexts.add(context)
      const page = await context.newPage()
      await page.goto(url)
      return page
    },
    login: logIn,
    screenshot: async (page, name) => {
      Fs.mkdirSync(screenshotDir, { recursive: true })
      const file = Path.join(screenshotDir, `${name}.png`)
      await page.screenshot({ path: file, fullPage: true })
      return file
    },
    accessibilityViolations: async (page) => {
      // Evaluated through the DevTools protocol: an injected <script> would be refused by the console's CSP.
      const loaded = await page.evaluate('typeof axe !== "undefined"')
      if (!loaded) await page.evaluate(Fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8"))
      const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as AxeResult
      return result.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => ({ id: v.id, impact: v.impact ?? "", help: v.help, nodes: v.nodes.length }))
    },
    close: async () => {
      for (const context of contexts) await context.close().catch(() => undefined)
      await browser.close().catch(() => undefined)
      await platform.close()
    }
  }
}
