/**
 * `bun run bench web`: the web console's budgets (issue 11), in Debian's
 * Chromium on this machine, median of `BENCH_WEB_RUNS` (default 5) runs:
 *
 * - first-load JavaScript of the shell, gzip (≤ 250 KB; noVNC, charts,
 *   forms and plugin modules load lazily);
 * - dashboard interactive (the sessions-by-state counts shown) after
 *   navigating to /admin, with 1,000 sessions and 1,000 users (≤ 1.5 s);
 * - viewer: clicking "Open" on a running local session (Xvnc + xterm) to the
 *   first frame drawn (≤ 1 s). Without Xvnc this line says so.
 */
import { BrowserKit, Chromium, TestPlatform } from "@streamspace/testing"
import { ConsoleBuild } from "@streamspace/web"
import type { Page } from "playwright-core"
import * as LargeDirectory from "../../test/web/fixtures/LargeDirectory.ts"

const runs = Number(process.env["BENCH_WEB_RUNS"] ?? 5)
const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

const row = (name: string, value: string, budget: string, pass: boolean | undefined) =>
  console.log(
    `${name.padEnd(52)} ${value.padStart(12)}   budget ${budget.padEnd(10)} ${pass === undefined ? "n/a" : pass ? "PASS" : "FAIL"}`
  )

const firstLoad = async () => {
  const manifest = await ConsoleBuild.ensureBuilt({ outDir: TestPlatform.consoleDir(), log: () => undefined })
  const kb = ConsoleBuild.firstLoadGzipBytes(manifest) / 1024
  row("first-load JavaScript (gzip)", `${kb.toFixed(0)} KB`, "250 KB", kb <= 250)
}

const dashboard = async () => {
  const kit = await BrowserKit.start()
  try {
    const directory = await LargeDirectory.insert(kit.platform)
    const times: Array<number> = []
    for (let i = 0; i < runs; i++) {
      const page = await kit.newPage()
      await kit.login(page, "admin", kit.platform.adminPassword)
      const started = performance.now()
      await page.goto(`${kit.url}/admin`)
      await page.getByTestId("sessions-running").getByText(String(directory.byState.running)).waitFor()
      times.push(performance.now() - started)
      await page.context().close()
    }
    const ms = median(times)
    row(
      `dashboard interactive (${directory.users} users, ${directory.sessions} sessions)`,
      `${ms.toFixed(0)} ms`,
      "1500 ms",
      ms <= 1500
    )
  } finally {
    await kit.close()
  }
}

const reach = (kit: BrowserKit.BrowserKit, token: string, id: string, state: string) =>
  kit.platform.eventually(
    async () =>
      (await kit.platform.http<{ state?: string }>("GET", `/api/sessions/${id}`, { token })).body.state === state,
    { timeoutMs: 30_000, intervalMs: 100, what: `session ${id} to reach ${state}` }
  )

const openToFirstFrame = async (kit: BrowserKit.BrowserKit, page: Page) => {
  await page.goto(`${kit.url}/sessions`)
  const open = page.getByRole("link", { name: /^Open / }).first()
  await open.waitFor({ timeout: 20_000 })
  await page.evaluate(
    `document.addEventListener("click", () => { window.openClickedAt = performance.now() }, { capture: true, once: true })`
  )
  await open.click()
  const stage = page.locator("[data-first-frame]")
  await stage.waitFor({ timeout: 30_000 })
  const drawnAt = Number(await stage.getAttribute("data-first-frame"))
  return drawnAt - Number(await page.evaluate("window.openClickedAt"))
}

const viewer = async () => {
  if (!Bun.which("Xvnc") || !Bun.which("xterm")) {
    row("viewer first frame (local Xvnc session)", "—", "1000 ms", undefined)
    console.log("  Xvnc or xterm is not installed (apt-get install tigervnc-standalone-server xterm)")
    return
  }
  const kit = await BrowserKit.start({ config: { sessions: { runtime: "local" } } })
  try {
    const token = await kit.platform.login("admin", kit.platform.adminPassword)
    const template = await kit.platform.http<{ id: string }>("POST", "/api/templates", {
      token,
      body: { name: "xterm", displayName: "xterm", image: "streamspace/xterm:latest" }
    })
    const session = await kit.platform.http<{ id: string }>("POST", "/api/sessions", {
      token,
      body: { templateId: template.body.id }
    })
    await reach(kit, token, session.body.id, "running")
    const page = await kit.newPage()
    await kit.login(page, "admin", kit.platform.adminPassword)
    const times: Array<number> = []
    for (let i = 0; i < runs; i++) times.push(await openToFirstFrame(kit, page))
    const ms = median(times)
    row("viewer first frame after clicking Open", `${ms.toFixed(0)} ms`, "1000 ms", ms <= 1000)
  } finally {
    await kit.close()
  }
}

export const run = async () => {
  const reason = Chromium.unavailable()
  if (reason) {
    console.log(`web bench not run: ${reason}`)
    return
  }
  console.log(`median of ${runs} runs each, Chromium headless on this machine`)
  await firstLoad()
  await dashboard()
  await viewer()
}
