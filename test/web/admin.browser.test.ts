/**
 * The admin console in Chromium against a real platform: the dashboard with
 * 1,000 users and 1,000 sessions (time to interactive printed, not
 * asserted), the hello plugin's whole life from the console (install,
 * enable, the config form generated from its JSON Schema with a server
 * field error next to its field and a write-only secret, disable,
 * uninstall), users CRUD, the audit log filtered and exported as CSV,
 * webhook delivery replay and the integration "Send test" button against
 * real local HTTP servers. axe on the main pages; screenshots of the
 * dashboard, plugins, the plugin config form and the audit log.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test"
import hello from "@streamspace/plugin-hello"
import slack from "@streamspace/plugin-slack"
import { BrowserKit, LocalServer } from "@streamspace/testing"
import * as Fs from "node:fs"
import type { Page } from "playwright-core"
import * as ConsoleTest from "./fixtures/ConsoleTest.ts"
import * as LargeDirectory from "./fixtures/LargeDirectory.ts"

let kit: BrowserKit.BrowserKit
let admin: string
let directory: LargeDirectory.LargeDirectory
const receiver = LocalServer.start()

const api = <T>(method: string, path: string, body?: unknown) => ConsoleTest.request<T>(kit, method, path, admin, body)

beforeAll(async () => {
  kit = await BrowserKit.start({ plugins: [hello, slack], config: { plugins: { enabled: ["slack"] } } })
  admin = await kit.platform.login("admin", kit.platform.adminPassword)
  directory = await LargeDirectory.insert(kit.platform, { users: 1000, sessions: 1000 })
  console.log(
    `LargeDirectory: ${directory.users} users + ${directory.sessions} sessions in ${directory.ms.toFixed(0)} ms`
  )
}, 180_000)
afterAll(async () => {
  await kit?.close()
  await receiver.stop()
})

const { waitMs } = ConsoleTest
const pages = ConsoleTest.pageTracker(() => kit)
afterEach(() => pages.closeAll())
const loggedIn = (path: string) => pages.loggedIn(path)
const expectAccessible = (page: Page) => ConsoleTest.expectAccessible(kit, page)

test("dashboard: sessions by state and users from 1,000 of each, plugin health; accessible", async () => {
  const { page, errors } = await pages.open()
  await kit.login(page, "admin", kit.platform.adminPassword)
  const started = performance.now()
  await page.goto(`${kit.url}/admin`)
  await page.getByTestId("sessions-running").getByText(String(directory.byState.running)).waitFor()
  await page.getByTestId("stat-users").getByText(/^\d+$/).waitFor()
  console.log(
    `dashboard interactive with ${directory.users} users and ${directory.sessions} sessions: ${(performance.now() - started).toFixed(0)} ms after navigation`
  )
  expect(await page.getByTestId("stat-all-sessions").textContent()).toBe(String(directory.sessions))
  expect(Number(await page.getByTestId("stat-users").textContent())).toBeGreaterThanOrEqual(1001)
  for (const state of ["pending", "hibernated", "terminated", "failed"] as const)
    expect(await page.getByTestId(`sessions-${state}`).textContent()).toBe(String(directory.byState[state]))
  // The chart (lazy: @mantine/charts + recharts) renders its bars.
  await page.locator(".recharts-bar-rectangle").first().waitFor()
  await page.getByRole("table", { name: "Plugin health" }).getByText("Slack").waitFor()
  await kit.screenshot(page, "admin-dashboard")
  await expectAccessible(page)
  // The dark theme too.
  const { page: dark } = await pages.open({ colorScheme: "dark" })
  await kit.login(dark, "admin", kit.platform.adminPassword)
  await dark.goto(`${kit.url}/admin`)
  await dark.getByTestId("sessions-running").getByText(String(directory.byState.running)).waitFor()
  await kit.screenshot(dark, "admin-dashboard-dark")
  expect(errors).toEqual([])
}, 240_000)

test("plugins: install, enable, configure through the generated form (field error, secret), disable, uninstall", async () => {
  const { page, errors } = await loggedIn("/admin/plugins")
  const row = page.getByTestId("plugin-row-hello")
  await row.getByText("available").waitFor()
  await row.getByRole("button", { name: "Install Hello" }).click()
  await page.getByRole("dialog", { name: "Install Hello 1.0.0?" }).getByRole("button", { name: "Install" }).click()
  await row.getByText("installed", { exact: true }).waitFor()
  await row.getByRole("button", { name: "Enable Hello" }).click()
  await page.getByRole("dialog", { name: "Enable Hello?" }).getByRole("button", { name: "Enable" }).click()
  await row.getByText("enabled", { exact: true }).waitFor()
  expect((await api<{ status: string }>("GET", "/api/admin/plugins/hello/config")) !== undefined).toBe(true)
  await kit.screenshot(page, "admin-plugins")
  await expectAccessible(page)

  await row.getByRole("link", { name: "Hello" }).click()
  await page.waitForURL(/\/admin\/plugins\/hello$/)
  const tick = page.getByLabel("Tick seconds")
  await tick.waitFor()
  // Defaults from the schema; the secret is not set yet.
  expect(await tick.inputValue()).toBe("60")
  expect(await page.getByLabel("Greeting").inputValue()).toBe("Hello")
  await expect(page.getByTestId("secret-apiToken-state").count()).resolves.toBe(0)

  // Out of range: the server's problem names body.tickSeconds, shown under that field.
  await tick.fill("5000")
  await page.getByRole("button", { name: "Save configuration" }).click()
  // The message sits under the field and the input points at it (aria-describedby).
  const tickError = page.locator("#root_tickSeconds-error")
  await tickError.getByText(/between 1 and 3600/).waitFor()
  expect(await tick.getAttribute("aria-describedby")).toContain("root_tickSeconds-error")
  await expect(page.getByRole("alert").filter({ hasText: "The configuration was not saved" }).count()).resolves.toBe(1)
  expect(
    (await api<{ value: { tickSeconds: number } }>("GET", "/api/admin/plugins/hello/config")).value.tickSeconds
  ).toBe(60)
  await kit.screenshot(page, "admin-plugin-config-error")

  // Valid values and a secret.
  await tick.fill("30")
  await page.getByLabel("Greeting").fill("Howdy")
  await page.getByRole("textbox", { name: "API token" }).fill("super-secret-token-42")
  await page.getByRole("button", { name: "Save configuration" }).click()
  await page.getByText("Configuration saved").waitFor()
  await page.getByTestId("secret-apiToken-state").getByText("Set").waitFor()
  expect(await page.getByLabel("Tick seconds").inputValue()).toBe("30")
  expect(await page.content()).not.toContain("super-secret-token-42")
  const stored = await api<{ value: Record<string, unknown> }>("GET", "/api/admin/plugins/hello/config")
  expect(stored.value).toMatchObject({ tickSeconds: 30, greeting: "Howdy", apiToken: "********" })
  // The plugin runs with the new config (hello's echo route uses the greeting).
  expect((await api<{ message: string }>("POST", "/api/plugins/hello/echo", { name: "Ada" })).message).toBe(
    "Howdy, Ada!"
  )

  // Saving again without touching the secret keeps it.
  await page.getByLabel("Greeting").fill("Hi")
  await page.getByRole("button", { name: "Save configuration" }).click()
  await page.getByText("Configuration saved").first().waitFor()
  await kit.platform.eventually(
    async () =>
      (await api<{ message: string }>("POST", "/api/plugins/hello/echo", { name: "Ada" })).message === "Hi, Ada!",
    waitMs
  )
  const rows = await kit.platform.query<{ secrets: string | null }>("SELECT secrets FROM plugins WHERE id = 'hello'")
  expect(rows[0]?.secrets).toBeTruthy()
  expect(rows[0]?.secrets).not.toContain("super-secret-token-42")
  await page.getByTestId("secret-apiToken-state").waitFor()
  await kit.screenshot(page, "admin-plugin-config")
  await expectAccessible(page)

  // Job runs and dead letters tabs render.
  await page.getByRole("tab", { name: "Job runs" }).click()
  await page.getByRole("tab", { name: "Dead letters" }).click()
  await page.getByText("No dead letters").waitFor()

  // Disable, then uninstall (dropping its data).
  await page.getByRole("button", { name: "Disable Hello" }).click()
  await page.getByRole("dialog", { name: "Disable Hello?" }).getByRole("button", { name: "Disable" }).click()
  await page.getByTestId("plugin-state").getByText("disabled").waitFor()
  expect(
    (await kit.platform.http("POST", "/api/plugins/hello/echo", { token: admin, body: { name: "x" } })).status
  ).toBe(404)
  await page.getByRole("button", { name: "Uninstall Hello" }).click()
  await page.getByRole("dialog", { name: "Uninstall Hello?" }).getByRole("button", { name: "Uninstall" }).click()
  await page.waitForURL(/\/admin\/plugins$/)
  await page.getByTestId("plugin-row-hello").getByText("available").waitFor()
  expect((await kit.platform.query("SELECT id FROM plugins WHERE id = 'hello'")).length).toBe(0)
  expect(errors).toEqual([])
}, 240_000)

test("users: search and pages, create (field error first), edit roles and disabled, delete with confirmation", async () => {
  const { page, errors } = await loggedIn("/admin/users")
  const table = page.getByRole("table", { name: "Users" })
  await table.waitFor()
  // 1,001 users: server-side pages of 25.
  expect(await table.locator("tbody tr").count()).toBe(25)
  await page.getByRole("button", { name: "Next" }).click()
  await page.getByText("Page 2").waitFor()
  await page.getByRole("button", { name: "Previous" }).click()
  await page.getByText("Page 1").waitFor()
  await expectAccessible(page)

  await page.getByRole("button", { name: "New user" }).click()
  const dialog = page.getByRole("dialog", { name: "New user" })
  await dialog.getByLabel("Username").fill("carol")
  await dialog.getByRole("textbox", { name: "Password" }).fill("short")
  await dialog.getByRole("button", { name: "Create user" }).click()
  await dialog.getByText("at least 10 characters").waitFor()
  const passwordError = await dialog.getByText("at least 10 characters").getAttribute("id")
  expect(await dialog.getByRole("textbox", { name: "Password" }).getAttribute("aria-describedby")).toContain(
    passwordError ?? "no id"
  )
  await dialog.getByRole("textbox", { name: "Password" }).fill("amber-kettle-Wq7rTz4-meadow")
  await dialog.getByLabel("Display name").fill("Carol Jones")
  await dialog.getByRole("button", { name: "Create user" }).click()
  await dialog.waitFor({ state: "hidden" })

  await page.getByLabel("Search users").fill("carol")
  await table.locator("tbody tr").nth(1).waitFor({ state: "detached" })
  await table.getByRole("cell", { name: "carol", exact: true }).waitFor()

  await page.getByRole("button", { name: "Edit carol" }).click()
  const edit = page.getByRole("dialog", { name: "Edit carol" })
  await edit.locator(".mantine-MultiSelect-input").click()
  await page.getByRole("option", { name: "operator" }).click()
  await page.keyboard.press("Escape")
  await edit.getByRole("switch", { name: "Disabled (cannot log in)" }).check()
  await edit.getByRole("button", { name: "Save" }).click()
  await edit.waitFor({ state: "hidden" })
  await table.getByRole("cell", { name: "operator, user" }).waitFor()
  await table.getByText("disabled", { exact: true }).waitFor()
  const carol = (
    await api<{ items: ReadonlyArray<{ id: string; roles: ReadonlyArray<string>; disabled: boolean }> }>(
      "GET",
      "/api/users?q=carol"
    )
  ).items[0]!
  expect(carol).toMatchObject({ roles: ["operator", "user"].sort(), disabled: true })

  await page.getByRole("button", { name: "Delete carol" }).click()
  const confirm = page.getByRole("dialog", { name: "Delete carol?" })
  await confirm.getByRole("button", { name: "Cancel" }).click()
  expect((await kit.platform.http("GET", `/api/users/${carol.id}`, { token: admin })).status).toBe(200)
  await page.getByRole("button", { name: "Delete carol" }).click()
  await confirm.getByRole("button", { name: "Delete user" }).click()
  await page.getByText("No user matches “carol”.").waitFor()
  expect((await kit.platform.http("GET", `/api/users/${carol.id}`, { token: admin })).status).toBe(404)
  expect(errors).toEqual([])
}, 240_000)

test("audit log: filter by action, CSV export of the filtered entries with a header row", async () => {
  for (const username of ["audit-a", "audit-b"])
    await api("POST", "/api/users", { username, password: "amber-kettle-Wq7rTz4-meadow" })
  const { page, errors } = await loggedIn("/admin/audit")
  const table = page.getByRole("table", { name: "Audit entries" })
  await table.waitFor()
  await page.getByLabel("Action").fill("user.create")
  await page.getByRole("button", { name: "Apply filters" }).click()
  await kit.platform.eventually(async () => {
    const actions = await table.locator("tbody tr td:nth-child(3)").allTextContents()
    expect(actions.length).toBeGreaterThanOrEqual(2)
    expect(new Set(actions)).toEqual(new Set(["user.create"]))
    return true
  }, waitMs)
  await kit.screenshot(page, "admin-audit")
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Export CSV" }).click()
  ])
  expect(download.suggestedFilename()).toMatch(/^audit-.*\.csv$/)
  const file = await download.path()
  const lines = Fs.readFileSync(file, "utf8").trimEnd().split("\r\n")
  expect(lines[0]).toBe("at,actor,actorId,action,target,result,ip,userAgent,requestId,plugin,detail,id")
  const expected = await api<{ items: ReadonlyArray<unknown> }>("GET", "/api/audit?action=user.create&limit=500")
  expect(lines.length - 1).toBe(expected.items.length)
  expect(lines.slice(1).every((l) => l.split(",")[3] === "user.create")).toBe(true)
  await expectAccessible(page)
  expect(errors).toEqual([])
}, 240_000)

test("webhooks: a delivery is replayed from the console and reaches the receiver again", async () => {
  const hook = await api<{ id: string }>("POST", "/api/webhooks", {
    name: "receiver",
    url: `${receiver.url}/hooks/users`,
    eventTypes: ["user.created"]
  })
  await api("POST", "/api/users", { username: "hooked", password: "amber-kettle-Wq7rTz4-meadow" })
  await receiver.waitFor(1, waitMs)
  await kit.platform.eventually(async () => {
    const d = await api<{ items: ReadonlyArray<{ status: string }> }>("GET", `/api/webhooks/${hook.id}/deliveries`)
    expect(d.items[0]?.status).toBe("delivered")
    return true
  }, waitMs)
  const { page, errors } = await loggedIn("/admin/webhooks")
  await page.getByRole("button", { name: "Deliveries of receiver" }).click()
  const deliveries = page.getByRole("table", { name: "Deliveries of receiver" })
  await deliveries.getByText("delivered").waitFor()
  await deliveries.getByRole("button", { name: /^Replay delivery of user\.created/ }).click()
  await page.getByText(/Replay queued/).waitFor()
  await receiver.waitFor(2, waitMs)
  const sent = receiver.requests.filter((r) => r.path === "/hooks/users")
  expect(sent).toHaveLength(2)
  expect(sent[1]!.body).toBe(sent[0]!.body)
  await expectAccessible(page)
  expect(errors).toEqual([])
}, 240_000)

test("integrations: Send test goes through the provider to a local HTTP server and shows the outcome", async () => {
  await api("POST", "/api/integrations", {
    provider: "slack",
    name: "ops-channel",
    config: { webhookUrl: `${receiver.url}/slack/ops`, events: ["plugin.enabled"] }
  })
  const { page, errors } = await loggedIn("/admin/integrations").catch(async (e) => {
    const last = pages.last()
    if (last) {
      await kit.screenshot(last, "admin-integrations-login-failed")
      console.log((await last.content()).slice(0, 3000))
    }
    throw e
  })
  await page.getByRole("table", { name: "Integrations" }).getByText("ops-channel").waitFor()
  await page.getByRole("button", { name: "Send test through ops-channel" }).click()
  await page.getByText("Test notification delivered").waitFor()
  await page.getByText(/delivered · HTTP 200/).waitFor()
  const got = receiver.requests.filter((r) => r.path === "/slack/ops")
  expect(got).toHaveLength(1)
  expect(JSON.stringify(got[0]!.json)).toContain("test")
  await page.getByRole("button", { name: "Deliveries of ops-channel" }).click()
  await page.getByRole("table", { name: "Deliveries of ops-channel" }).getByText("test").waitFor()
  await expectAccessible(page)
  expect(errors).toEqual([])
}, 240_000)
