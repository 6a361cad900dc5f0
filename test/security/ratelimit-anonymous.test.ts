/**
 * Floods of bad credentials (issue 21, finding 7): failed authentications
 * are limited per client address before any lookup, and counted rather than
 * audited one by one. Clients are told apart by X-Forwarded-For from a
 * trusted proxy (the test itself, on 127.0.0.1); the clock stands still so
 * that every request falls in one minute.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { RateLimiter } from "@streamspace/server"
import { TestPlatform } from "@streamspace/testing"

let p: TestPlatform.TestPlatform
let url: string
let adminToken: string
let apiKey: { id: string; key: string }

const budget = RateLimiter.authFailureBudget

const send = (method: string, path: string, client: string, bearer: string) =>
  fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, "x-forwarded-for": client, "content-type": "application/json" },
    ...(method === "GET" ? {} : { body: "{}" })
  })

/** Every audit row written for the flooding address, whatever its action. */
const floodRows = async () =>
  p.query<{ action: string; result: string }>(`SELECT action, result FROM audit_log WHERE ip = '198.51.100.66'`)

beforeAll(async () => {
  p = await TestPlatform.make({
    listen: true,
    clock: "test",
    config: { rateLimit: true, trustedProxies: ["127.0.0.1/32"] }
  })
  url = p.url ?? ""
  adminToken = await p.login("admin", p.adminPassword)
  const created = await p.http<{ id: string; key: string }>("POST", "/api/api-keys", {
    token: adminToken,
    body: { name: "flood-test", scopes: ["sessions:read"] }
  })
  expect(created.status).toBe(201)
  apiKey = created.body
})
afterAll(() => p.close())

test(`a flood of invalid bearer tokens gets 429 after ${budget} failures a minute, with one audit row (${TestPlatform.engine()})`, async () => {
  const statuses: Array<number> = []
  let retryAfter = ""
  for (let i = 0; i < budget + 20; i++) {
    const res = await send("POST", "/api/auth/logout", "198.51.100.66", `not-a-token-${i}`)
    statuses.push(res.status)
    retryAfter = res.headers.get("retry-after") ?? ""
  }
  expect(statuses).toEqual([...Array.from({ length: budget }, () => 401), ...Array.from({ length: 20 }, () => 429)])
  expect(Number(retryAfter)).toBeGreaterThan(0)
  // The first failure of the minute is audited; the next 29 are only counted, the 20 refused not even logged.
  expect(await floodRows()).toEqual([{ action: "auth.logout", result: "denied" }])
})

test("from that address an API key is refused unread, even a valid one; an access token still works", async () => {
  const before = await p.query<{ last_used_at: Date | null }>(`SELECT last_used_at FROM api_keys WHERE id = $1`, [
    apiKey.id
  ])
  expect((await send("GET", "/api/auth/me", "198.51.100.66", apiKey.key)).status).toBe(429)
  expect((await send("GET", "/api/auth/me", "198.51.100.66", "ssk_made-up-key")).status).toBe(429)
  const after = await p.query<{ last_used_at: Date | null }>(`SELECT last_used_at FROM api_keys WHERE id = $1`, [
    apiKey.id
  ])
  expect(after).toEqual(before)
  expect(await floodRows()).toHaveLength(1)
  // Access tokens are checked without the database: a user behind the same address is not locked out.
  expect((await send("GET", "/api/auth/me", "198.51.100.66", adminToken)).status).toBe(200)
})

test("another address has its own budget; its first failure is audited, on a route that is not audited too", async () => {
  expect((await send("GET", "/api/auth/me", "198.51.100.67", "not-a-token")).status).toBe(401)
  expect((await send("GET", "/api/auth/me", "198.51.100.67", "not-a-token")).status).toBe(401)
  expect(await p.query(`SELECT action, result, detail FROM audit_log WHERE ip = '198.51.100.67'`)).toEqual([
    { action: "auth.authenticate", result: "denied", detail: "invalid access token" }
  ])
  expect((await send("GET", "/api/auth/me", "198.51.100.67", apiKey.key)).status).toBe(200)
})

test("a minute later the address may fail again, and its first failure is audited again", async () => {
  await p.adjustClock("2 minutes")
  expect((await send("POST", "/api/auth/logout", "198.51.100.66", "not-a-token")).status).toBe(401)
  expect((await send("POST", "/api/auth/logout", "198.51.100.66", "not-a-token")).status).toBe(401)
  expect(await floodRows()).toHaveLength(2)
})
