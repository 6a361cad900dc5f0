/**
 * The user portal in Chromium against a real platform (simulated runtime):
 * the catalog (search, categories, launch), "My sessions" following state
 * live from the event stream (no polling), hibernate / wake / delete, the
 * share dialog, and a session's files (upload with progress, download,
 * delete). Accessibility (axe: no serious or critical violations) and
 * screenshots of the catalog and the sessions page.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { BrowserKit } from "@streamspace/testing"
import * as Fs from "node:fs"
import type { Page } from "playwright-core"
import * as ConsoleTest from "./fixtures/ConsoleTest.ts"

let kit: BrowserKit.BrowserKit
let admin: string
let bobId: string

const api = <T>(method: string, path: string, token: string, body?: unknown) =>
  ConsoleTest.request<T>(kit, method, path, token, body)

beforeAll(async () => {
  kit = await BrowserKit.start({ config: { sessions: { simulatedDelayMs: 400 } } })
  admin = await kit.platform.login("admin", kit.platform.adminPassword)
  const templates = [
    { name: "terminal", displayName: "Terminal", category: "Development", tags: ["shell"], description: "An xterm." },
    { name: "firefox", displayName: "Firefox", category: "Internet", tags: ["browser"], description: "A web browser." },
    { name: "writer", displayName: "Writer", category: "Office", tags: ["documents"], description: "Write letters." },
    { name: "editor", displayName: "Editor", category: "Development", tags: ["code"], description: "Edit code." }
  ]
  for (const t of templates) await api("POST", "/api/templates", admin, { ...t, image: "example/app:1" })
  bobId = await ConsoleTest.createUser(kit, admin, { username: "bob", password: "long-enough-pw" })
}, 180_000)
afterAll(() => kit?.close())

/** Launches a session of the template named `name` through the API and waits until it runs; its id. */
const launch = async (name: string) => {
  const template = (await api<{ items: Array<{ id: string }> }>("GET", `/api/templates?q=${name}`, admin)).items[0]!.id
  const { id } = await api<{ id: string }>("POST", "/api/sessions", admin, { templateId: template })
  await kit.platform.eventually(
    async () => (await api<{ state: string }>("GET", `/api/sessions/${id}`, admin)).state === "running"
  )
  return id
}

const { watchErrors } = ConsoleTest

const card = (page: Page, name: string) => page.getByRole("article", { name })

/** axe on the page once its transitions (hover, active states) have settled; names the elements on failure. */
const expectNoSeriousViolations = (page: Page) => ConsoleTest.expectAccessible(kit, page, { settle: true })

test("the catalog searches and filters by category, and Launch starts a session that turns running live", async () => {
  const page = await kit.newPage()
  const errors = watchErrors(page)
  await kit.login(page, "admin", kit.platform.adminPassword)
  await page.getByRole("link", { name: "Catalog", exact: true }).click()
  await page.getByRole("heading", { name: "Catalog", level: 2 }).waitFor()
  await card(page, "Firefox").waitFor()
  expect(await page.getByRole("article").count()).toBe(4)
  await kit.screenshot(page, "portal-catalog")
  await expectNoSeriousViolations(page)

  await page.getByLabel("Search the catalog").fill("browser")
  await card(page, "Terminal").waitFor({ state: "detached" })
  await card(page, "Firefox").waitFor()
  expect(await page.getByRole("article").count()).toBe(1)
  await page.getByLabel("Search the catalog").fill("")
  await page.getByRole("group", { name: "Categories" }).getByText("Development", { exact: true }).click()
  await card(page, "Firefox").waitFor({ state: "detached" })
  await card(page, "Terminal").waitFor()
  expect(await page.getByRole("article").count()).toBe(2)

  await card(page, "Terminal").getByRole("button", { name: "Launch Terminal" }).click()
  await page.waitForURL(/\/sessions$/)
  const session = card(page, "Terminal")
  await session.waitFor()
  // No polling: only the live stream can tell the page that the session now runs.
  await session.getByRole("status", { name: "State: Running" }).waitFor({ timeout: 15_000 })
  await page.getByTestId("live-status").filter({ hasText: "Live" }).waitFor()
  await session.getByText("Simulated desktop").waitFor()
  expect(await session.getByRole("link", { name: "Open Terminal" }).getAttribute("href")).toMatch(
    /^\/sessions\/[^/]+\/view$/
  )
  expect(errors).toEqual([])
}, 90_000)

test("hibernate, wake and delete follow the session live; delete asks first", async () => {
  const page = await kit.newPage()
  await kit.login(page, "admin", kit.platform.adminPassword)
  await launch("writer")
  const session = card(page, "Writer")
  await session.getByRole("status", { name: "State: Running" }).waitFor({ timeout: 15_000 })
  await session.getByRole("button", { name: "Hibernate" }).click()
  await session.getByRole("status", { name: "State: Hibernated" }).waitFor({ timeout: 15_000 })
  await session.getByRole("button", { name: "Wake", exact: true }).click()
  await session.getByRole("status", { name: "State: Running" }).waitFor({ timeout: 15_000 })
  await kit.screenshot(page, "portal-sessions")
  await expectNoSeriousViolations(page)

  await session.getByRole("button", { name: "Delete" }).click()
  const dialog = page.getByRole("dialog", { name: "Delete Writer?" })
  await dialog.getByRole("button", { name: "Cancel" }).click()
  await dialog.waitFor({ state: "hidden" })
  await session.getByRole("button", { name: "Delete" }).click()
  await dialog.getByRole("button", { name: "Delete session" }).click()
  await session.waitFor({ state: "detached", timeout: 15_000 })
  await page.getByText("Deleted", { exact: true }).click()
  await card(page, "Writer").getByRole("status", { name: "State: Deleted" }).waitFor({ timeout: 15_000 })
}, 90_000)

test("the share dialog adds a view share for another user, lists it and revokes it", async () => {
  const sessionId = await launch("firefox")
  const page = await kit.newPage()
  await kit.login(page, "admin", kit.platform.adminPassword)
  const session = card(page, "Firefox")
  await session.getByRole("button", { name: "Share" }).click()
  const dialog = page.getByRole("dialog", { name: "Share Firefox" })
  await dialog.getByText("Not shared").waitFor()
  await dialog.getByPlaceholder("Search by name").fill("bo")
  await page.getByRole("option", { name: "bob" }).click()
  await dialog.getByRole("button", { name: "Share", exact: true }).click()
  const row = dialog.getByRole("row", { name: /bob/ })
  await row.waitFor()
  expect(await row.textContent()).toContain("view")
  const shares = await api<{ items: Array<{ userId: string; access: string }> }>(
    "GET",
    `/api/sessions/${sessionId}/shares`,
    admin
  )
  expect(shares.items).toEqual([expect.objectContaining({ userId: bobId, access: "view" })])
  await dialog.getByRole("button", { name: "Revoke access for bob" }).click()
  await dialog.getByText("Not shared").waitFor()
}, 60_000)

test("files: upload with progress, see it listed, download it, delete it", async () => {
  await launch("editor")
  const page = await kit.newPage()
  await kit.login(page, "admin", kit.platform.adminPassword)
  await card(page, "Editor").getByRole("link", { name: "Files" }).click()
  await page.getByRole("heading", { name: "Files of Editor" }).waitFor()
  await page.getByText("No files yet").waitFor()
  const content = "hello from the portal test\n".repeat(20_000)
  const sawProgress = page
    .getByRole("progressbar", { name: "Upload progress of notes.txt" })
    .waitFor({ state: "attached", timeout: 10_000 })
    .then(() => true)
  await page.locator('input[type="file"]').setInputFiles({
    name: "notes.txt",
    mimeType: "text/plain",
    buffer: Buffer.from(content)
  })
  expect(await sawProgress).toBe(true)
  const row = page.getByRole("row", { name: /notes\.txt/ })
  await row.waitFor()
  const downloading = page.waitForEvent("download")
  await row.getByRole("button", { name: "Download notes.txt" }).click()
  const download = await downloading
  expect(download.suggestedFilename()).toBe("notes.txt")
  expect(Fs.readFileSync((await download.path())!, "utf8")).toBe(content)
  await row.getByRole("button", { name: "Delete notes.txt" }).click()
  await page.getByRole("dialog", { name: "Delete notes.txt?" }).getByRole("button", { name: "Delete file" }).click()
  await page.getByText("No files yet").waitFor()
}, 60_000)

test("the home page leads to My sessions, and the event stream needs a login", async () => {
  const anonymous = await fetch(`${kit.url}/api/events/stream`)
  expect(anonymous.status).toBe(401)
  const page = await kit.newPage()
  await kit.login(page, "admin", kit.platform.adminPassword)
  await page.goto(kit.url)
  await page.waitForURL(/\/sessions$/)
  await page.getByRole("heading", { name: "My sessions" }).waitFor()
}, 60_000)
