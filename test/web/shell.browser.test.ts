import { afterAll, beforeAll, expect, test } from "bun:test"
import { BrowserKit } from "@streamspace/testing"

let kit: BrowserKit.BrowserKit
beforeAll(async () => {
  kit = await BrowserKit.start()
}, 120_000)
afterAll(() => kit?.close())

test("the console is served at / with a strict CSP, and deep links reach the app", async () => {
  for (const path of ["/", "/sessions", "/admin/plugins/hello"]) {
    const res = await fetch(`${kit.url}${path}`)
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toContain("text/html")
    const csp = res.headers.get("content-security-policy") ?? ""
    expect(csp).toContain("script-src 'self' 'sha256-")
    expect(csp).not.toContain("unsafe-eval")
    expect(await res.text()).toContain('<script type="importmap">')
  }
  const api = await fetch(`${kit.url}/api/nope`)
  expect(api.status).toBe(404)
  expect(api.headers.get("content-type")).toContain("application/problem+json")
  const missingAsset = await fetch(`${kit.url}/assets/main-00000000.js`)
  expect(missingAsset.status).toBe(404)
})

test("hashed assets are immutable", async () => {
  const html = await (await fetch(kit.url)).text()
  const entry = /<script type="module" src="([^"]+)"/.exec(html)?.[1]
  expect(entry).toMatch(/^\/assets\/main-\w+\.js$/)
  const res = await fetch(`${kit.url}${entry}`)
  expect(res.status).toBe(200)
  expect(res.headers.get("cache-control")).toContain("immutable")
  expect(res.headers.get("content-type")).toContain("javascript")
})

test("an admin logs in with the printed password and lands in the shell", async () => {
  const page = await kit.newPage()
  const errors: Array<string> = []
  page.on("pageerror", (e) => errors.push(e.message))
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()))
  await kit.login(page, "admin", kit.platform.adminPassword)
  expect(page.url()).toEndWith("/sessions")
  await kit.screenshot(page, "shell")
  expect(errors).toEqual([])
}, 60_000)

test("a wrong password is refused with the server's message", async () => {
  const page = await kit.newPage()
  await page.getByLabel(/^Username/).fill("admin")
  await page.getByLabel(/^Password/).fill("not-the-password")
  await page.getByRole("button", { name: "Log in" }).click()
  await expect(page.getByRole("alert").textContent()).resolves.toContain("invalid username or password")
}, 60_000)
