/**
 * STREAMSPACE_RATE_LIMIT=false (behind a gateway that limits) turns login
 * throttling off with the request budgets (issue 21, finding 5): attempts
 * are still recorded and audited, nobody is held.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { ConfigSources } from "@streamspace/server"
import { TestPlatform } from "@streamspace/testing"
import { Effect } from "effect"

let p: TestPlatform.TestPlatform
let url: string

const login = async (username: string, password: string) =>
  (
    await fetch(`${url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password })
    })
  ).status

beforeAll(async () => {
  const fromEnv = await Effect.runPromise(ConfigSources.load({ env: { STREAMSPACE_RATE_LIMIT: "false" }, cwd: "/" }))
  expect(fromEnv.rateLimit).toBe(false)
  p = await TestPlatform.make({
    listen: true,
    config: { rateLimit: fromEnv.rateLimit, auth: { maxFailedLogins: 3, maxUnknownUserFailuresPerIp: 3 } }
  })
  url = p.url ?? ""
})
afterAll(() => p.close())

test(`with STREAMSPACE_RATE_LIMIT=false failed logins hold neither the account nor the address (${TestPlatform.engine()})`, async () => {
  for (let i = 0; i < 5; i++) expect(await login("admin", `wrong-${i}-password`)).toBe(401)
  for (let i = 0; i < 5; i++) expect(await login(`made-up-${i}`, "wrong-password")).toBe(401)
  expect(await login("admin", p.adminPassword)).toBe(200)
  // Still recorded: the audit log shows every failure.
  const failures = await p.query<{ n: string }>(
    `SELECT count(*) AS n FROM audit_log WHERE action = 'auth.login' AND result = 'failure'`
  )
  expect(Number(failures[0]?.n)).toBe(10)
})
