/**
 * API-key scopes on every route (issue 21, finding 3): one gate (HttpRoute.checkAccess) decides, from
 * the route's permission and the key's scopes. Routes that change the owner's account (MFA, email,
 * password, API keys, logout) need the `account` permission, which a login holds and a key only when
 * scoped to it; a key's powers shrink with its owner's. An invalid key writes nothing (finding 7).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Timestamps } from "@streamspace/core"
import { TestPlatform } from "@streamspace/testing"

interface Problem {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly permission?: string
}
interface Tokens {
  readonly accessToken: string
  readonly refreshToken: string
}

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  // The simulated clock: key expiry and "later use" are clock moves, not waits.
  p = await TestPlatform.make({ clock: "test" })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const password = "orbit-lantern-quiet-9"

const makeUser = async (username: string, roles: ReadonlyArray<string> = ["user"]) => {
  const res = await p.http<{ id: string }>("POST", "/api/users", {
    token: admin,
    body: { username, password, roles, email: `${username}@example.com` }
  })
  expect(res.status).toBe(201)
  const login = await p.http<Tokens>("POST", "/api/auth/login", { body: { username, password } })
  expect(login.status).toBe(200)
  return { id: res.body.id, token: login.body.accessToken, refreshToken: login.body.refreshToken }
}

const makeKey = async (token: string, scopes: ReadonlyArray<string>, expiresAt?: Date) => {
  const res = await p.http<{ id: string; key: string }>("POST", "/api/api-keys", {
    token,
    body: { name: scopes.join("+"), scopes, ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}) }
  })
  expect(res.status).toBe(201)
  return res.body
}

const expectNeedsAccount = (res: TestPlatform.TestResponse<Problem>) => {
  expect(res.status).toBe(403)
  expect(res.body.permission).toBe("account")
  expect(res.body.detail).toContain("account")
}

const userRow = async (id: string) =>
  (
    await p.query<{ email: string | null; totp_secret: string | null; password_hash: string }>(
      "SELECT email, totp_secret, password_hash FROM users WHERE id = $1",
      [id]
    )
  )[0]!

describe(`API keys on account routes (${TestPlatform.engine()})`, () => {
  test("a key scoped to sessions:read cannot enroll TOTP, change email or password, manage keys or log out", async () => {
    const sam = await makeUser("sam")
    const narrow = await makeKey(sam.token, ["sessions:read"])
    const other = await makeKey(sam.token, ["templates:read"])
    const before = await userRow(sam.id)

    expectNeedsAccount(await p.http<Problem>("POST", "/api/auth/mfa/totp/enroll", { token: narrow.key }))
    expectNeedsAccount(
      await p.http<Problem>("POST", "/api/auth/mfa/totp/verify", { token: narrow.key, body: { code: "123456" } })
    )
    expectNeedsAccount(
      await p.http<Problem>("POST", "/api/auth/mfa/totp/disable", { token: narrow.key, body: { code: "123456" } })
    )
    expectNeedsAccount(
      await p.http<Problem>("PATCH", `/api/users/${sam.id}`, {
        token: narrow.key,
        body: { email: "attacker@example.com" }
      })
    )
    expectNeedsAccount(
      await p.http<Problem>("PATCH", `/api/users/${sam.id}`, {
        token: narrow.key,
        body: { password: "attacker-chosen-passphrase-7", currentPassword: password }
      })
    )
    expectNeedsAccount(await p.http<Problem>("GET", "/api/api-keys", { token: narrow.key }))
    expectNeedsAccount(await p.http<Problem>("DELETE", `/api/api-keys/${other.id}`, { token: narrow.key }))
    expectNeedsAccount(
      await p.http<Problem>("POST", "/api/api-keys", { token: narrow.key, body: { name: "x", scopes: ["account"] } })
    )
    expectNeedsAccount(await p.http<Problem>("POST", "/api/auth/logout", { token: narrow.key, body: {} }))

    // Nothing changed: no secret, same email and password, the other key works, the owner's login refreshes.
    const after = await userRow(sam.id)
    expect(after).toEqual(before)
    expect(after.totp_secret).toBeNull()
    expect((await p.http("GET", "/api/templates", { token: other.key })).status).toBe(200)
    expect((await p.http("POST", "/api/auth/refresh", { body: { refreshToken: sam.refreshToken } })).status).toBe(200)
    // Reading yourself stays open to any credential, and the key's own scope still works.
    expect((await p.http("GET", "/api/auth/me", { token: narrow.key })).status).toBe(200)
    expect((await p.http("GET", `/api/users/${sam.id}`, { token: narrow.key })).status).toBe(200)
    expect((await p.http("GET", "/api/sessions", { token: narrow.key })).status).toBe(200)
  })

  test("a key scoped to account changes its owner's account, but creates no keys and gains nothing else", async () => {
    const tess = await makeUser("tess")
    const account = await makeKey(tess.token, ["account"])
    const spare = await makeKey(tess.token, ["sessions:read"])

    const renamed = await p.http<{ email: string }>("PATCH", `/api/users/${tess.id}`, {
      token: account.key,
      body: { email: "tess@example.org", displayName: "Tess T" }
    })
    expect(renamed.status).toBe(200)
    expect((await userRow(tess.id)).email).toBe("tess@example.org")
    const listed = await p.http<{ items: ReadonlyArray<{ id: string }> }>("GET", "/api/api-keys", {
      token: account.key
    })
    expect(listed.status).toBe(200)
    expect(listed.body.items.map((k) => k.id).sort()).toEqual([account.id, spare.id].sort())
    expect((await p.http("POST", "/api/auth/mfa/totp/enroll", { token: account.key })).status).toBe(200)
    expect((await p.http("DELETE", `/api/api-keys/${spare.id}`, { token: account.key })).status).toBe(204)

    const minted = await p.http<Problem>("POST", "/api/api-keys", {
      token: account.key,
      body: { name: "more", scopes: ["account"] }
    })
    expect(minted.status).toBe(403)
    expect(minted.body.detail).toContain("API keys cannot create API keys")
    // `account` is not a way into the owner's other permissions.
    expect((await p.http<Problem>("GET", "/api/sessions", { token: account.key })).body.permission).toBe(
      "sessions:read"
    )
    // Another user's account is users:write, which the key does not carry.
    const other = await makeUser("ursula")
    const foreign = await p.http<Problem>("PATCH", `/api/users/${other.id}`, {
      token: account.key,
      body: { displayName: "taken over" }
    })
    expect(foreign.status).toBe(403)
    expect(foreign.body.permission).toBe("users:write")

    expect((await p.http("POST", "/api/auth/logout", { token: account.key, body: {} })).status).toBe(204)
    expect((await p.http("POST", "/api/auth/refresh", { body: { refreshToken: tess.refreshToken } })).status).toBe(401)
  })

  test("an admin's key scoped to users:write resets others' passwords but not its owner's account", async () => {
    const me = await p.http<{ id: string }>("GET", "/api/auth/me", { token: admin })
    const writer = await makeKey(admin, ["users:write"])
    const vera = await makeUser("vera")
    expect(
      (
        await p.http("PATCH", `/api/users/${vera.id}`, {
          token: writer.key,
          body: { password: "reset-by-operator-42" }
        })
      ).status
    ).toBe(200)
    expectNeedsAccount(
      await p.http<Problem>("PATCH", `/api/users/${me.body.id}`, {
        token: writer.key,
        body: { email: "admin@attacker.example" }
      })
    )
  })

  test("any user may scope a key to account, though no role grants it", async () => {
    const wren = await makeUser("wren", ["viewer"])
    const key = await makeKey(wren.token, ["account", "sessions:read"])
    expect((await p.http("GET", "/api/api-keys", { token: key.key })).status).toBe(200)
  })
})

describe("scopes on permission routes", () => {
  test("a key scoped to templates:read cannot list sessions", async () => {
    const yann = await makeUser("yann")
    const key = await makeKey(yann.token, ["templates:read"])
    expect((await p.http("GET", "/api/sessions", { token: yann.token })).status).toBe(200)
    const sessions = await p.http<Problem>("GET", "/api/sessions", { token: key.key })
    expect(sessions.status).toBe(403)
    expect(sessions.body.permission).toBe("sessions:read")
    expect((await p.http("GET", "/api/templates", { token: key.key })).status).toBe(200)
  })

  test("a user demoted after creating a users:read key loses users:read through the key", async () => {
    const zora = await makeUser("zora", ["operator"])
    const key = await makeKey(zora.token, ["users:read"])
    expect((await p.http("GET", "/api/users", { token: key.key })).status).toBe(200)
    const demoted = await p.http("PATCH", `/api/users/${zora.id}`, { token: admin, body: { roles: ["user"] } })
    expect(demoted.status).toBe(200)
    const after = await p.http<Problem>("GET", "/api/users", { token: key.key })
    expect(after.status).toBe(403)
    expect(after.body.permission).toBe("users:read")
    // The key itself still authenticates: it is the owner's permission that is gone, not the key.
    expect((await p.http("GET", "/api/auth/me", { token: key.key })).status).toBe(200)
  })
})

describe("invalid API keys write nothing", () => {
  const lastUsed = async (id: string) =>
    (await p.query<{ last_used_at: Date | null }>("SELECT last_used_at FROM api_keys WHERE id = $1", [id]))[0]!
      .last_used_at

  test("revoked, expired and unknown keys are 401 and leave api_keys as it was", async () => {
    const xia = await makeUser("xia")
    const revoked = await makeKey(xia.token, ["sessions:read"])
    const at = await p.run(Timestamps.now)
    const expiring = await makeKey(xia.token, ["sessions:read"], new Date(at.getTime() + 3600_000))
    expect((await p.http("GET", "/api/sessions", { token: revoked.key })).status).toBe(200)
    expect((await p.http("GET", "/api/sessions", { token: expiring.key })).status).toBe(200)
    expect((await p.http("DELETE", `/api/api-keys/${revoked.id}`, { token: xia.token })).status).toBe(204)
    const usedRevoked = await lastUsed(revoked.id)
    const usedExpiring = await lastUsed(expiring.id)
    expect(usedRevoked).not.toBeNull()

    await p.adjustClock("2 hours")
    const snapshot = async () => p.query("SELECT * FROM api_keys ORDER BY id")
    const before = await snapshot()
    expect((await p.http("GET", "/api/sessions", { token: revoked.key })).status).toBe(401)
    const expired = await p.http<Problem>("GET", "/api/sessions", { token: expiring.key })
    expect(expired.status).toBe(401)
    expect(expired.body.detail).toContain("expired")
    expect((await p.http("GET", "/api/sessions", { token: `ssk_${"x".repeat(43)}` })).status).toBe(401)
    expect(await lastUsed(revoked.id)).toEqual(usedRevoked)
    expect(await lastUsed(expiring.id)).toEqual(usedExpiring)
    expect(await snapshot()).toEqual(before)
  })

  test("a valid key records its use", async () => {
    const yuki = await makeUser("yuki")
    const key = await makeKey(yuki.token, ["sessions:read"])
    expect(await lastUsed(key.id)).toBeNull()
    expect((await p.http("GET", "/api/sessions", { token: key.key })).status).toBe(200)
    const first = await lastUsed(key.id)
    expect(first).not.toBeNull()
    await p.adjustClock("5 minutes")
    expect((await p.http("GET", "/api/sessions", { token: key.key })).status).toBe(200)
    expect((await lastUsed(key.id))!.getTime()).toBeGreaterThan(first!.getTime())
  })
})
