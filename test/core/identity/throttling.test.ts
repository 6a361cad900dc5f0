import { afterAll, beforeAll, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"

let p: TestPlatform.TestPlatform
beforeAll(async () => {
  p = await TestPlatform.make({
    config: { rateLimit: true, auth: { maxFailedLogins: 3, failedLoginWindowSeconds: 600 } }
  })
})
afterAll(() => p.close())

test(`failed logins are throttled per account with Retry-After, even for the right password (${TestPlatform.engine()})`, async () => {
  for (let i = 0; i < 3; i++) {
    expect(
      (await p.http("POST", "/api/auth/login", { body: { username: "admin", password: `wrong-${i}-password` } })).status
    ).toBe(401)
  }
  const blocked = await p.http<{ code: string }>("POST", "/api/auth/login", {
    body: { username: "admin", password: p.adminPassword }
  })
  expect(blocked.status).toBe(429)
  expect(blocked.body.code).toBe("too_many_requests")
  expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0)
  // Another account is not affected by admin's failures.
  expect(
    (await p.http("POST", "/api/auth/login", { body: { username: "someone", password: "wrong-password-z" } })).status
  ).toBe(401)
})
