/**
 * The billing plugin's UI in Chromium: an admin installs and enables billing
 * on the plugins page, sees its dashboard widget, and on the admin billing
 * page adds a dated rate (a field error first, then saved); a user opens
 * "Billing & usage" and downloads an invoice PDF. Usage comes from session
 * events emitted with past instants, rolled up by the plugin's job.
 * Screenshots "billing-widget", "billing-admin", "billing-usage"; axe on
 * both pages.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test"
import billing from "@streamspace/plugin-billing"
import { BrowserKit } from "@streamspace/testing"
import * as ConsoleTest from "./fixtures/ConsoleTest.ts"

const H = 3_600_000
let kit: BrowserKit.BrowserKit
let admin: string
let userId: string

beforeAll(async () => {
  kit = await BrowserKit.start({ plugins: [billing] })
  admin = await kit.platform.login("admin", kit.platform.adminPassword)
  userId = await ConsoleTest.createUser(kit, admin, { username: "dana", password: "long-enough-pw" })
}, 180_000)
afterAll(async () => {
  await kit?.close()
})

const pages = ConsoleTest.pageTracker(() => kit)
afterEach(() => pages.closeAll())

test("an admin enables billing, sees the widget, and sets a rate on the billing page", async () => {
  const { page, errors } = await pages.loggedIn("/admin/plugins")
  const row = page.getByTestId("plugin-row-billing")
  await row.getByRole("button", { name: "Install Billing" }).click()
  await page
    .getByRole("dialog", { name: /^Install Billing/ })
    .getByRole("button", { name: "Install" })
    .click()
  await row.getByText("installed", { exact: true }).waitFor()
  await row.getByRole("button", { name: "Enable Billing" }).click()
  await page.getByRole("dialog", { name: "Enable Billing?" }).getByRole("button", { name: "Enable" }).click()
  await row.getByText("enabled", { exact: true }).waitFor()

  // Two hours of a 1-core, 2 GiB session that ended an hour ago: usage for the widget and for an invoice.
  const now = Date.now()
  const end = Math.floor(now / H) * H - H
  const base = { sessionId: "browser-s1", userId, templateId: "tpl-desk", cpu: 1000, memory: 2048 }
  await kit.platform.emit("session.created", { ...base, state: "pending", at: new Date(end - 2 * H).toISOString() })
  await kit.platform.emit("session.started", { ...base, state: "running", at: new Date(end - 2 * H).toISOString() })
  await kit.platform.emit("session.deleted", { ...base, state: "terminated", at: new Date(end).toISOString() })
  await kit.platform.awaitDelivered()
  expect((await kit.platform.runJob("billing", "rollup")).outcome).toBe("success")

  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Dashboard" }).click()
  const widget = page.getByRole("region", { name: "Billing" })
  await widget.waitFor()
  await widget.getByText("This period so far").waitFor()
  await widget.getByText(/storage/).waitFor()
  await kit.screenshot(page, "billing-widget")

  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Billing" }).click()
  await page.getByRole("heading", { name: "Billing", exact: true }).waitFor()
  const form = page.getByRole("form", { name: "Add a dated rate" })
  // No rate: the server's field error shows next to the field.
  await form.getByLabel("Template, group or user id").fill("tpl-desk")
  // The console titles a plugin's page; the module under it does not repeat the title.
  expect(await page.getByRole("heading", { name: "Billing", exact: true }).count()).toBe(1)
  await form.getByRole("button", { name: "Add rate" }).click()
  await form.getByText(/decimal with at most 9 decimals/).waitFor()
  await form.getByLabel("Rate").fill("0.02")
  await form.getByRole("button", { name: "Add rate" }).click()
  await page.getByText("Rate added").waitFor()
  await page.getByRole("cell", { name: "tpl-desk" }).waitFor()
  const rules = await kit.platform.http<{ rules: Array<{ scopeId: string; rate: string }> }>(
    "GET",
    "/api/plugins/billing/pricing",
    { token: admin }
  )
  expect(rules.body.rules).toContainEqual(expect.objectContaining({ scopeId: "tpl-desk", rate: "0.02" }))
  await kit.screenshot(page, "billing-admin")
  await ConsoleTest.expectAccessible(kit, page, { settle: true })
  expect(errors).toEqual([])
}, 240_000)

test("a user opens Billing & usage and downloads an invoice PDF", async () => {
  const end = Math.floor(Date.now() / H) * H - H
  const generated = await ConsoleTest.request<{ created: Array<{ id: string; number: string; total: string }> }>(
    kit,
    "POST",
    "/api/plugins/billing/invoices/generate",
    admin,
    { userId, periodStart: new Date(end - 3 * H).toISOString(), periodEnd: new Date(end).toISOString() }
  )
  const invoice = generated.created[0]!
  // 2 core-hours × 0.01 + 4 GB-hours × 0.005
  expect(invoice.total).toBe("0.04")

  const { page, errors } = await pages.loggedIn("/", { username: "dana", password: "long-enough-pw" })
  await page.getByRole("link", { name: "Billing & usage" }).click()
  await page.getByRole("heading", { name: "Billing & usage" }).waitFor()
  await page.getByRole("cell", { name: invoice.number }).waitFor()
  expect(await page.getByRole("heading", { name: "Billing & usage" }).count()).toBe(1)
  await kit.screenshot(page, "billing-usage")
  await ConsoleTest.expectAccessible(kit, page, { settle: true })
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: `PDF ${invoice.number}` }).click()
  ])
  expect(download.suggestedFilename()).toBe(`${invoice.number}.pdf`)
  const path = await download.path()
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer())
  expect(new TextDecoder().decode(bytes.slice(0, 5))).toBe("%PDF-")
  expect(errors).toEqual([])
}, 180_000)
