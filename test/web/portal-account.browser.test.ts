/**
 * The account pages in Chromium: profile, API keys (shown once, usable,
 * revoked), password change (the server's policy message, then the new
 * password works), and TOTP: enrolment from the QR page with a code this
 * test computes (RFC 6238, independently of the server), then logging in
 * with the TOTP step, and with a recovery code; turning it off. axe and screenshots.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { BrowserKit, Totp } from "@streamspace/testing"
import type { Page } from "playwright-core"
import * as ConsoleTest from "./fixtures/ConsoleTest.ts"

let kit: BrowserKit.BrowserKit
const username = "carol"
let password = "amber-violet-canyon-42"

beforeAll(async () => {
  kit = await BrowserKit.start()
  const admin = await kit.platform.login("admin", kit.platform.adminPassword)
  await ConsoleTest.createUser(kit, admin, { username, password, displayName: "Carol" })
}, 180_000)
afterAll(() => kit?.close())

const expectNoSeriousViolations = (page: Page) => ConsoleTest.expectAccessible(kit, page, { settle: true })

const openAccount = async (page: Page, tab?: string) => {
  await page.getByRole("button", { name: "Account menu" }).click()
  await page.getByRole("menuitem", { name: "Account" }).click()
  await page.getByRole("heading", { name: "Account", level: 2 }).waitFor()
  if (tab) await page.getByRole("tab", { name: tab }).click()
}

const logOut = async (page: Page) => {
  await page.getByRole("button", { name: "Account menu" }).click()
  await page.getByRole("menuitem", { name: "Log out" }).click()
  await page.getByLabel(/^Username/).waitFor()
}

test("profile: the display name is saved; the page passes axe", async () => {
  const page = await kit.newPage()
  await kit.login(page, username, password)
  await openAccount(page)
  await page.getByLabel("Display name").fill("Carol Danvers")
  await page.getByLabel("Email").fill("not-an-email")
  await page.getByRole("button", { name: "Save profile" }).click()
  // The server's field error, next to the field.
  await page.getByText("an email address").waitFor()
  await page.getByLabel("Email").fill("carol@example.org")
  await page.getByRole("button", { name: "Save profile" }).click()
  await page.getByText("Profile saved").waitFor()
  await kit.screenshot(page, "portal-account")
  await expectNoSeriousViolations(page)
  const token = await kit.platform.login(username, password)
  const me = await kit.platform.http<{ displayName: string; email: string }>("GET", "/api/auth/me", { token })
  expect(me.body).toMatchObject({ displayName: "Carol Danvers", email: "carol@example.org" })
}, 60_000)

test("API keys: created with scopes, shown once, usable, then revoked after a confirmation", async () => {
  const page = await kit.newPage()
  await kit.login(page, username, password)
  await openAccount(page, "API keys")
  await page.getByText("No API keys").waitFor()
  await page.getByRole("button", { name: "Create API key" }).click()
  const dialog = page.getByRole("dialog", { name: "Create an API key" })
  await dialog.getByLabel("Name").fill("backup script")
  await dialog.getByPlaceholder("Choose scopes").click()
  await page.getByRole("option", { name: /^sessions:read/ }).click()
  await page.keyboard.press("Escape")
  await dialog.getByRole("button", { name: "Create key" }).click()
  const shown = page.getByRole("dialog", { name: "Your new API key" })
  const key = (await shown.getByTestId("new-api-key").textContent())?.trim() ?? ""
  expect(key.length).toBeGreaterThan(20)
  await kit.screenshot(page, "portal-account-api-key")
  await expectNoSeriousViolations(page)
  await shown.getByRole("button", { name: "Done" }).click()
  const row = page.getByRole("row", { name: /backup script/ })
  await row.waitFor()
  // Shown once: the list has only the prefix.
  expect(await page.getByText(key).count()).toBe(0)
  expect(await row.textContent()).toContain("sessions:read")
  expect((await kit.platform.http("GET", "/api/sessions", { token: key })).status).toBe(200)
  expect((await kit.platform.http("GET", "/api/api-keys", { token: key })).status).toBe(403)

  await row.getByRole("button", { name: "Revoke backup script" }).click()
  await page.getByRole("dialog", { name: "Revoke backup script?" }).getByRole("button", { name: "Revoke key" }).click()
  await page.getByText("No API keys").waitFor()
  expect((await kit.platform.http("GET", "/api/sessions", { token: key })).status).toBe(401)
}, 60_000)

test("password change shows the policy's message, then the new password works", async () => {
  const page = await kit.newPage()
  await kit.login(page, username, password)
  await openAccount(page, "Password")
  await page.getByLabel("Current password").fill(password)
  await page.getByLabel(/^New password/).fill("password123")
  await page.getByLabel("Repeat the new password").fill("password123")
  await page.getByRole("button", { name: "Change password" }).click()
  const refused = page.locator(".mantine-InputWrapper-error")
  await refused.first().waitFor()
  expect((await refused.first().textContent())?.length).toBeGreaterThan(5)

  const next = "glacier-harbor-nimble-77"
  await page.getByLabel("Current password").fill("wrong-current-password")
  await page.getByLabel(/^New password/).fill(next)
  await page.getByLabel("Repeat the new password").fill(next)
  await page.getByRole("button", { name: "Change password" }).click()
  await page.getByText("does not match", { exact: false }).first().waitFor()

  await page.getByLabel("Current password").fill(password)
  await page.getByRole("button", { name: "Change password" }).click()
  await page.getByText("Password changed").waitFor()
  password = next
  // Still logged in (the console logged in again with the new password), and the old one is gone.
  await openAccount(page)
  expect((await kit.platform.http("POST", "/api/auth/login", { body: { username, password: next } })).status).toBe(200)
  await logOut(page)
  await kit.login(page, username, next)
}, 60_000)

test("TOTP: enrol with the QR page, then log in with a code and with a recovery code", async () => {
  const page = await kit.newPage()
  await kit.login(page, username, password)
  await openAccount(page, "Two-factor authentication")
  await page.getByRole("button", { name: "Set up two-factor authentication" }).click()
  const qr = page.getByRole("img", { name: "QR code of your authenticator key" })
  await qr.waitFor()
  expect(await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0)
  expect(await qr.getAttribute("src")).toStartWith("data:image/svg+xml")
  const secret = ((await page.getByTestId("totp-secret").textContent()) ?? "").trim()
  expect(secret).toMatch(/^[A-Z2-7]+=*$/)
  await kit.screenshot(page, "portal-account-mfa")
  await expectNoSeriousViolations(page)

  await page.getByLabel("Authentication code").fill(Totp.codeNow(secret) === "000000" ? "111111" : "000000")
  await page.getByRole("button", { name: "Verify and turn on" }).click()
  await page.locator(".mantine-InputWrapper-error").first().waitFor()
  await page.getByLabel("Authentication code").fill(Totp.codeNow(secret))
  await page.getByRole("button", { name: "Verify and turn on" }).click()
  const codes = page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem")
  await codes.first().waitFor()
  const recovery = ((await codes.allTextContents()) as Array<string>).map((c) => c.trim())
  expect(recovery.length).toBeGreaterThan(3)
  await page.getByRole("button", { name: "Copy recovery codes" }).waitFor()
  await page.getByRole("button", { name: "I have saved them" }).click()
  await page.getByText("On", { exact: true }).waitFor()

  await logOut(page)
  await page.getByLabel(/^Username/).fill(username)
  await page.getByLabel(/^Password/).fill(password)
  await page.getByRole("button", { name: "Log in" }).click()
  // The next time step: the enrolment's code may not be used twice.
  await page.getByLabel("Authentication code").fill(Totp.codeNow(secret, 1))
  await page.getByRole("button", { name: "Verify" }).click()
  await page.getByRole("button", { name: "Account menu" }).waitFor()

  await logOut(page)
  await page.getByLabel(/^Username/).fill(username)
  await page.getByLabel(/^Password/).fill(password)
  await page.getByRole("button", { name: "Log in" }).click()
  await page.getByRole("button", { name: "Use a recovery code instead" }).click()
  await page.getByLabel("Recovery code").fill(recovery[0]!)
  await page.getByRole("button", { name: "Verify" }).click()
  await page.getByRole("button", { name: "Account menu" }).waitFor()

  // A used recovery code does not work twice.
  const reused = await kit.platform.http<{ detail: string }>("POST", "/api/auth/login", {
    body: { username, password, totp: recovery[0] }
  })
  expect(reused.status).toBe(401)

  // Turning it off needs a code: a recovery code does.
  await openAccount(page, "Two-factor authentication")
  await page.getByLabel("Code or recovery code").fill(recovery[1]!)
  await page.getByRole("button", { name: "Turn off two-factor authentication" }).click()
  await page.getByText("Off", { exact: true }).waitFor()
  const plain = await kit.platform.http("POST", "/api/auth/login", { body: { username, password } })
  expect(plain.status).toBe(200)
}, 90_000)
