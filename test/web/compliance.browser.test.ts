/**
 * The compliance plugin's UI in Chromium: the dashboard's "Compliance
 * status" widget shows SOC 2's latest results and the open violations; on
 * the Compliance page an admin acknowledges then resolves a violation, runs
 * the checks, and tries the DLP tester (a card number comes back redacted).
 * Screenshots "compliance-widget", "compliance-page"; axe on both.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test"
import compliance from "@streamspace/plugin-compliance"
import { BrowserKit } from "@streamspace/testing"
import * as ConsoleTest from "./fixtures/ConsoleTest.ts"

let kit: BrowserKit.BrowserKit
let admin: string

beforeAll(async () => {
  kit = await BrowserKit.start({ plugins: [compliance], config: { plugins: { enabled: ["compliance"] } } })
  admin = await kit.platform.login("admin", kit.platform.adminPassword)
  // A warning policy for everyone and an upload that breaks it: one open violation.
  await ConsoleTest.request(kit, "POST", "/api/plugins/compliance/policies", admin, {
    name: "cards-warning",
    enforcement: "warning",
    appliesTo: { all: true },
    rules: { files: { inspect: { patterns: ["credit-card"], action: "block" } } }
  })
  const template = await ConsoleTest.request<{ id: string }>(kit, "POST", "/api/templates", admin, {
    name: "desk",
    displayName: "Desk",
    image: "example/desk:1"
  })
  const session = await ConsoleTest.request<{ id: string }>(kit, "POST", "/api/sessions", admin, {
    templateId: template.id
  })
  const up = await kit.platform.http("POST", `/api/sessions/${session.id}/files?name=card.txt`, {
    token: admin,
    raw: "card 4111 1111 1111 1111",
    headers: { "content-type": "text/plain" }
  })
  expect(up.status).toBe(201)
  await ConsoleTest.request(kit, "POST", "/api/plugins/compliance/checks/run", admin, {})
  await kit.platform.eventually(async () => {
    const v = await kit.platform.http<{ items: unknown[] }>("GET", "/api/plugins/compliance/violations", {
      token: admin
    })
    return v.body.items.length === 1
  })
}, 180_000)
afterAll(async () => {
  await kit?.close()
})

const pages = ConsoleTest.pageTracker(() => kit)
afterEach(() => pages.closeAll())

test("the dashboard's compliance-status widget shows the latest results and open violations", async () => {
  const { page, errors } = await pages.loggedIn("/admin")
  const widget = page.getByRole("region", { name: "Compliance status" })
  await widget.waitFor()
  await widget.getByText("1 open violations").waitFor()
  await widget.getByText(/\d+ not evaluable/).waitFor()
  await widget.getByText("1 active policies").waitFor()
  await kit.screenshot(page, "compliance-widget")
  await ConsoleTest.expectAccessible(kit, page, { settle: true })
  expect(errors).toEqual([])
}, 120_000)

test("on the Compliance page an admin works a violation, runs the checks and tries the DLP tester", async () => {
  const { page, errors } = await pages.loggedIn("/admin")
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Compliance" }).click()
  const table = page.getByRole("table", { name: "Violations" })
  await table.getByText("cards-warning").waitFor()
  await table.getByRole("button", { name: "Acknowledge" }).click()
  await table.getByRole("cell", { name: "acknowledged", exact: true }).waitFor()
  await table.getByRole("button", { name: "Resolve" }).click()
  await table.getByRole("cell", { name: "resolved", exact: true }).waitFor()

  await page.getByRole("tab", { name: "Controls" }).click()
  await page.getByRole("table", { name: "SOC2 controls" }).getByText("CC6.3").waitFor()
  await page.getByRole("button", { name: "Run checks now" }).click()
  await page.getByText(/failed, \d+ not evaluable/).waitFor()
  await ConsoleTest.expectAccessible(kit, page, { settle: true })

  await page.getByRole("tab", { name: "DLP tester" }).click()
  await page.getByLabel("Text to inspect").fill("pay 4111 1111 1111 1111 now")
  await page.getByRole("button", { name: "Inspect" }).click()
  const result = page.getByLabel("Inspection result")
  await result.getByText("pay [REDACTED:credit-card] now").waitFor()
  await kit.screenshot(page, "compliance-page")
  await ConsoleTest.expectAccessible(kit, page, { settle: true })
  expect(errors).toEqual([])
  const v = await kit.platform.http<{ items: Array<{ status: string; resolvedBy: string }> }>(
    "GET",
    "/api/plugins/compliance/violations",
    {
      token: admin
    }
  )
  expect(v.body.items[0]).toMatchObject({ status: "resolved", resolvedBy: "admin" })
}, 180_000)
