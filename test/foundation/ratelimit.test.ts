import { afterAll, beforeAll, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"

let p: TestPlatform.TestPlatform
beforeAll(async () => {
  p = await TestPlatform.make({ config: { rateLimit: true } })
})
afterAll(() => p.close())

test("the strict class allows 10 requests a minute per caller, then 429 with Retry-After", async () => {
  const statuses: Array<number> = []
  for (let i = 0; i < 11; i++) {
    statuses.push((await p.http("POST", "/api/auth/refresh", { body: { refreshToken: `not-a-token-${i}` } })).status)
  }
  expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true)
  const limited = await p.http<{ code: string }>("POST", "/api/auth/refresh", { body: { refreshToken: "x" } })
  expect(limited.status).toBe(429)
  expect(limited.body.code).toBe("too_many_requests")
  expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0)
})

test("login has a budget of its own: failed refreshes that used up theirs do not stop a login", async () => {
  // The test above left this caller's refresh budget used up.
  expect((await p.http("POST", "/api/auth/refresh", { body: { refreshToken: "still-not-a-token" } })).status).toBe(429)
  const login = await p.http<{ accessToken: string }>("POST", "/api/auth/login", {
    body: { username: "admin", password: p.adminPassword }
  })
  expect(login.status).toBe(200)
  expect(typeof login.body.accessToken).toBe("string")
})
