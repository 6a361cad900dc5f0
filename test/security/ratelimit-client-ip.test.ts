/**
 * The client address the server records and limits by, over real sockets:
 * X-Forwarded-For counts only when the peer is a trusted proxy
 * (STREAMSPACE_TRUSTED_PROXIES); from anyone else it is ignored, so a
 * changing header neither forges the audit trail nor buys new budgets.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"

const post = (url: string, path: string, body: unknown, forwardedFor: string) =>
  fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
    body: JSON.stringify(body)
  })

const loginIps = async (p: TestPlatform.TestPlatform, username: string) => {
  const audit = await p.query<{ ip: string }>(`SELECT ip FROM audit_log WHERE action = 'auth.login' AND target = $1`, [
    username
  ])
  const attempts = await p.query<{ ip: string }>(`SELECT ip FROM login_attempts WHERE username = $1`, [username])
  return { audit: audit.map((r) => r.ip), attempts: attempts.map((r) => r.ip) }
}

describe(`behind a trusted proxy (${TestPlatform.engine()})`, () => {
  let p: TestPlatform.TestPlatform
  let url: string
  beforeAll(async () => {
    p = await TestPlatform.make({ listen: true, config: { rateLimit: true, trustedProxies: ["127.0.0.1/32"] } })
    url = p.url ?? ""
  })
  afterAll(() => p.close())

  test("the audit row and the login attempt carry the client the proxy saw, not the proxy", async () => {
    const res = await post(
      url,
      "/api/auth/login",
      { username: "nobody-behind-proxy", password: "wrong-password-1" },
      "1.1.1.1, 198.51.100.23"
    )
    expect(res.status).toBe(401)
    expect(await loginIps(p, "nobody-behind-proxy")).toEqual({
      audit: ["198.51.100.23"],
      attempts: ["198.51.100.23"]
    })
  })

  test("each client behind the proxy has its own budget", async () => {
    const refresh = (client: string) => post(url, "/api/auth/refresh", { refreshToken: "not-a-token" }, client)
    for (let i = 0; i < 10; i++) expect((await refresh("198.51.100.40")).status).toBe(401)
    expect((await refresh("198.51.100.40")).status).toBe(429)
    expect((await refresh("198.51.100.41")).status).toBe(401)
  })
})

describe(`without trusted proxies (${TestPlatform.engine()})`, () => {
  let p: TestPlatform.TestPlatform
  let url: string
  beforeAll(async () => {
    p = await TestPlatform.make({ listen: true, config: { rateLimit: true } })
    url = p.url ?? ""
  })
  afterAll(() => p.close())

  test("a forged X-Forwarded-For is ignored: the socket's address is recorded", async () => {
    const res = await post(
      url,
      "/api/auth/login",
      { username: "nobody-spoofing", password: "wrong-password-1" },
      "198.51.100.23"
    )
    expect(res.status).toBe(401)
    expect(await loginIps(p, "nobody-spoofing")).toEqual({ audit: ["127.0.0.1"], attempts: ["127.0.0.1"] })
  })

  test("a new forged address on every request does not buy a new budget", async () => {
    const statuses: Array<number> = []
    for (let i = 0; i < 11; i++)
      statuses.push((await post(url, "/api/auth/refresh", { refreshToken: "not-a-token" }, `198.51.100.${i}`)).status)
    expect(statuses).toEqual([...Array.from({ length: 10 }, () => 401), 429])
  })
})
