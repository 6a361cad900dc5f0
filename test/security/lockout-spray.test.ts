/**
 * Login throttling (issue 21, finding 5): an account is held after its own
 * failures; a client address only after a spray of unknown usernames, with
 * a budget of its own, and then not for accounts that have logged in from
 * it before. Clients are told apart by X-Forwarded-For from a trusted proxy
 * (the test, on 127.0.0.1). The clock is simulated: an attacker paces its
 * attempts under the per-address request budget (10 logins a minute), and so
 * does the test, moving the clock two minutes after every ten.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"

const sprayBudget = 30
const maxFailedLogins = 5
const userPassword = "Correct-Horse-Battery-91"

let p: TestPlatform.TestPlatform
let url: string
let adminToken: string
/** Logins sent per client address since the clock last moved. */
const sentThisMinute = new Map<string, number>()

const login = async (client: string, username: string, password: string) => {
  const sent = sentThisMinute.get(client) ?? 0
  if (sent === 10) {
    await p.adjustClock("2 minutes")
    sentThisMinute.clear()
  }
  sentThisMinute.set(client, (sentThisMinute.get(client) ?? 0) + 1)
  const res = await fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": client },
    body: JSON.stringify({ username, password })
  })
  return { status: res.status, retryAfter: Number(res.headers.get("retry-after") ?? 0) }
}

/** `count` failed logins for usernames that do not exist, from `client`; returns their statuses. */
const spray = async (client: string, count: number) => {
  const statuses: Array<number> = []
  for (let i = 0; i < count; i++)
    statuses.push((await login(client, `made-up-${client}-${i}`, `guess-${i}-password`)).status)
  return statuses
}

const createUser = async (username: string) => {
  const res = await p.http("POST", "/api/users", { token: adminToken, body: { username, password: userPassword } })
  expect(res.status).toBe(201)
}

beforeAll(async () => {
  p = await TestPlatform.make({
    listen: true,
    clock: "test",
    config: {
      rateLimit: true,
      trustedProxies: ["127.0.0.1/32"],
      auth: { maxFailedLogins, maxUnknownUserFailuresPerIp: sprayBudget, failedLoginWindowSeconds: 900 }
    }
  })
  url = p.url ?? ""
  adminToken = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

test(`25 failed logins for made-up usernames from one address do not lock the admin out from it (${TestPlatform.engine()})`, async () => {
  expect(await spray("203.0.113.10", 25)).toEqual(Array.from({ length: 25 }, () => 401))
  expect((await login("203.0.113.10", "admin", p.adminPassword)).status).toBe(200)
})

test("an account's own failures hold that account, from any address, but no other account from the same address", async () => {
  const users = ["lock-a", "lock-b", "lock-c", "lock-d"]
  for (const u of users) await createUser(u)
  // Twenty failures from one address, all against real accounts.
  for (const u of users)
    for (let i = 0; i < maxFailedLogins; i++)
      expect((await login("203.0.113.20", u, `wrong-${i}-password`)).status).toBe(401)
  // Each of those accounts is held, the right password included (the trade-off: a guesser can hold an account)…
  const held = await login("203.0.113.20", "lock-a", userPassword)
  expect(held.status).toBe(429)
  expect(held.retryAfter).toBeGreaterThan(0)
  expect((await login("203.0.113.21", "lock-b", userPassword)).status).toBe(429)
  // …but the address is not: the admin logs in from it.
  expect((await login("203.0.113.20", "admin", p.adminPassword)).status).toBe(200)
})

test("a spray over its budget holds the address, except for accounts that logged in from it before", async () => {
  await createUser("newcomer")
  expect((await login("203.0.113.30", "admin", p.adminPassword)).status).toBe(200)
  expect(await spray("203.0.113.30", sprayBudget)).toEqual(Array.from({ length: sprayBudget }, () => 401))
  // Held before the password is checked, whatever the username: the hold tells nothing about which exist.
  expect((await login("203.0.113.30", "newcomer", userPassword)).status).toBe(429)
  expect((await login("203.0.113.30", "newcomer", "wrong-password-9")).status).toBe(429)
  expect((await login("203.0.113.30", "made-up-after-hold", "wrong-password-9")).status).toBe(429)
  // The admin, who logged in from there before, is not held; nor is the newcomer anywhere else.
  expect((await login("203.0.113.30", "admin", p.adminPassword)).status).toBe(200)
  expect((await login("203.0.113.31", "newcomer", userPassword)).status).toBe(200)
})
