/**
 * Plugin UI extensions in Chromium: hello's dashboard widget (built with the
 * console) appears on /admin when an admin enables hello and goes when it is
 * disabled, without a reload (the live stream's plugin.* events); the
 * external `reports` fixture, loaded from a plugins folder, adds a page to
 * the navigation whose module the server bundled at load (no console
 * rebuild) and which uses the SDK (API client, DataTable, Chart, toasts);
 * a user without the page's permission neither sees nor opens it; a module
 * that throws shows an error in its own frame. Screenshots "plugin-widget"
 * and "plugin-page"; axe on the plugin page.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test"
import { definePlugin } from "@streamspace/kernel"
import { PluginLoader } from "@streamspace/kernel/host"
import hello from "@streamspace/plugin-hello"
import { BrowserKit } from "@streamspace/testing"
import { Layer } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { Page } from "playwright-core"
import * as ConsoleTest from "./fixtures/ConsoleTest.ts"

let kit: BrowserKit.BrowserKit
let admin: string
const brokenDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-broken-plugin-"))

/** A plugin whose page module throws while rendering (its folder is a temp dir: an external plugin). */
const broken = {
  ...definePlugin({
    id: "broken",
    name: "Broken page",
    version: "1.0.0",
    type: "extension",
    category: "example",
    ui: [{ kind: "page", id: "oops", title: "Broken page", path: "oops", component: "ui/Oops.tsx" }],
    layer: Layer.empty
  }),
  root: brokenDir
}

beforeAll(async () => {
  Fs.mkdirSync(Path.join(brokenDir, "ui"))
  Fs.writeFileSync(
    Path.join(brokenDir, "ui/Oops.tsx"),
    'export default function Oops(): never { throw new Error("broken on purpose") }\n'
  )
  const external = await PluginLoader.loadDirectory(Path.join(import.meta.dir, "../fixtures/plugins"))
  kit = await BrowserKit.start({ plugins: [hello, ...external.filter((p) => p.id === "reports"), broken] })
  admin = await kit.platform.login("admin", kit.platform.adminPassword)
  for (const id of ["hello", "reports", "broken"])
    await ConsoleTest.request(kit, "POST", `/api/admin/plugins/${id}/install`, admin)
  await ConsoleTest.request(kit, "POST", "/api/admin/plugins/reports/enable", admin)
  await ConsoleTest.request(kit, "POST", "/api/admin/plugins/broken/enable", admin)
  await ConsoleTest.createUser(kit, admin, { username: "carol", password: "long-enough-pw" })
}, 180_000)
afterAll(async () => {
  await kit?.close()
  Fs.rmSync(brokenDir, { recursive: true, force: true })
})

const pages = ConsoleTest.pageTracker(() => kit)
afterEach(() => pages.closeAll())

/** Set before an action; still set after it only when the page did not reload. */
// Evaluated as strings: this file is type-checked without the DOM library.
const markDocument = (page: Page) => page.evaluate("window.streamspaceNoReload = true")
const stillSameDocument = (page: Page) => page.evaluate("window.streamspaceNoReload === true")

test("enabling hello adds its widget to the dashboard, disabling removes it, without a reload", async () => {
  const { page, errors } = await pages.open()
  await kit.login(page, "admin", kit.platform.adminPassword)
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Dashboard" }).click()
  await page.getByRole("heading", { name: "Dashboard" }).first().waitFor()
  // The header names the edition the server runs (GET /api/platform).
  expect(await page.getByTestId("edition").textContent()).toBe("community")
  const widget = page.getByRole("region", { name: "Greetings" })
  expect(await widget.count()).toBe(0)
  await markDocument(page)

  await ConsoleTest.request(kit, "POST", "/api/admin/plugins/hello/enable", admin)
  await widget.waitFor({ timeout: 45_000 })
  await expect(widget.getByText("Greeting:")).toBeTruthy()
  await widget.getByText("Hello", { exact: true }).waitFor()
  // The widget's form calls hello's own route through the SDK's plugin-scoped client.
  await widget.getByLabel("Name to greet").fill("Ada")
  await widget.getByRole("button", { name: "Greet" }).click()
  await page.getByText("Hello, Ada!").waitFor()
  await page.evaluate("window.scrollTo(0, 0)")
  await kit.screenshot(page, "plugin-widget")
  expect(await stillSameDocument(page)).toBe(true)

  await ConsoleTest.request(kit, "POST", "/api/admin/plugins/hello/disable", admin)
  await widget.waitFor({ state: "detached", timeout: 45_000 })
  expect(await stillSameDocument(page)).toBe(true)
  expect(errors).toEqual([])
}, 150_000)

test("the external plugin's page is in the navigation, renders with the SDK, and passes axe", async () => {
  const extensions = await ConsoleTest.request<{ items: ReadonlyArray<{ plugin: string; module: string | null }> }>(
    kit,
    "GET",
    "/api/ui/extensions",
    admin
  )
  const reports = extensions.items.find((i) => i.plugin === "reports")
  expect(reports?.module).toMatch(/^\/assets\/plugins\/reports\/ActivityPage-\w+\.js$/)
  const module = await fetch(`${kit.url}${reports!.module}`)
  expect(module.status).toBe(200)
  expect(module.headers.get("content-type")).toContain("javascript")
  expect(module.headers.get("cache-control")).toContain("immutable")
  const source = await module.text()
  // Shared modules stay imports the console's import map resolves; Mantine is not bundled again.
  expect(source).toContain('from"@streamspace/web/sdk"')
  expect(source).not.toContain("mantine-")

  const { page, errors } = await pages.open()
  await kit.login(page, "admin", kit.platform.adminPassword)
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Activity report" }).click()
  expect(new URL(page.url()).pathname).toBe("/plugins/reports/activity")
  await page.getByRole("heading", { name: "Activity report" }).waitFor()
  await page.getByText("No entries yet: add one below.").waitFor()

  const form = page.getByRole("form", { name: "Add an entry" })
  // The server's field error shows next to its field.
  await form.getByRole("button", { name: "Add entry" }).click()
  await form.getByText(/label/i).first().waitFor()
  for (const [label, value] of [
    ["north", "12"],
    ["south", "7"]
  ] as const) {
    await form.getByLabel("Label").fill(label)
    await form.getByLabel("Value").fill(value)
    await form.getByRole("button", { name: "Add entry" }).click()
    await page.getByRole("cell", { name: label, exact: true }).waitFor()
  }
  await page.getByRole("img", { name: "Value of each entry" }).locator("svg").first().waitFor()
  await kit.screenshot(page, "plugin-page")
  await ConsoleTest.expectAccessible(kit, page)
  // The module renders inside the console's theme: dark mode reaches it too.
  await page.getByRole("button", { name: "Switch to dark theme" }).click()
  await page.getByRole("button", { name: "Switch to light theme" }).waitFor()
  await kit.screenshot(page, "plugin-page-dark")
  await ConsoleTest.expectAccessible(kit, page)
  expect(errors).toEqual([])
}, 150_000)

test("a user without the page's permission neither sees nor opens it", async () => {
  const token = await kit.platform.login("carol", "long-enough-pw")
  const items = (
    await ConsoleTest.request<{ items: ReadonlyArray<{ plugin: string }> }>(kit, "GET", "/api/ui/extensions", token)
  ).items
  expect(items.map((i) => i.plugin)).not.toContain("reports")

  const { page } = await pages.open()
  await kit.login(page, "carol", "long-enough-pw")
  expect(await page.getByRole("link", { name: "Activity report" }).count()).toBe(0)
  await page.goto(`${kit.url}/plugins/reports/activity`)
  await page.getByRole("heading", { name: "Page not found" }).waitFor()
  expect((await kit.platform.http("GET", "/api/plugins/reports/entries", { token })).status).toBe(403)
}, 120_000)

test("a plugin module that throws shows an error in its own frame; the console keeps working", async () => {
  const { page } = await pages.open()
  await kit.login(page, "admin", kit.platform.adminPassword)
  await page.getByRole("link", { name: "Broken page" }).click()
  const alert = page.getByRole("alert").filter({ hasText: "could not be shown" })
  await alert.waitFor()
  expect(await alert.textContent()).toContain("broken on purpose")
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Activity report" }).click()
  await page.getByRole("heading", { name: "Activity report" }).waitFor()
}, 120_000)
