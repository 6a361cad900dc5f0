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
