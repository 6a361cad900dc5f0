import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { AuditLog, Users } from "@streamspace/core"
import { TestPlatform, Totp } from "@streamspace/testing"
import { Effect } from "effect"

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make()
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

interface Problem {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly errors?: ReadonlyArray<{ path: string; message: string }>
}
interface UserBody {
  readonly id: string
  readonly username: string
  readonly roles: ReadonlyArray<string>
  readonly disabled: boolean
}
interface Tokens {
  readonly accessToken: string
  readonly refreshToken: string
  readonly expiresIn: number
}

const createUser = async (
  username: string,
  roles: ReadonlyArray<string> = ["user"],
  password = "orbit-lantern-quiet-9"
) => {
  const res = await p.http<UserBody>("POST", "/api/users", { token: admin, body: { username, password, roles } })
  expect(res.status).toBe(201)
  return { ...res.body, password, token: await p.login(username, password) }
}

describe(`auth (${TestPlatform.engine()})`, () => {
  test("login returns an access and a refresh token; /me shows roles and permissions", async () => {
    const res = await p.http<Tokens>("POST", "/api/auth/login", {
      body: { username: "admin", password: p.adminPassword }
    })
    expect(res.status).toBe(200)
    expect(res.body.expiresIn).toBe(900)
    const me = await p.http<{ username: string; roles: ReadonlyArray<string>; permissions: ReadonlyArray<string> }>(
      "GET",
      "/api/auth/me",
      { token: res.body.accessToken }
    )
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({ username: "admin", roles: ["admin"], permissions: ["*"] })
  })

  test("wrong credentials are 401 and every attempt is audited", async () => {
    const bad = await p.http<Problem>("POST", "/api/auth/login", {
      body: { username: "admin", password: "wrong-password-x" }
    })
    expect(bad.status).toBe(401)
    const unknown = await p.http<Problem>("POST", "/api/auth/login", {
      body: { username: "nobody", password: "wrong-password-x" }
    })
    expect(unknown.status).toBe(401)
    expect(unknown.body.detail).toBe(bad.body.detail)
    const entries = await p.run(Effect.flatMap(AuditLog.AuditLog, (a) => a.query({ action: "auth.login", limit: 50 })))
    const results = entries.items.map((e) => `${e.target}:${e.result}`)
    expect(results).toContain("admin:failure")
    expect(results).toContain("nobody:failure")
    expect(results).toContain("admin:success")
  })

  test("a missing field is a 400 naming it", async () => {
    const res = await p.http<Problem>("POST", "/api/auth/login", { body: { username: "admin" } })
    expect(res.status).toBe(400)
    expect(res.body.errors?.[0]?.path).toBe("body.password")
  })

  test("no token, a garbage token and an expired-looking token are 401", async () => {
    expect((await p.http("GET", "/api/auth/me")).status).toBe(401)
    expect((await p.http("GET", "/api/auth/me", { token: "nonsense" })).status).toBe(401)
    const forged = admin.split(".").slice(0, 2).join(".") + ".AAAA"
    expect((await p.http("GET", "/api/auth/me", { token: forged })).status).toBe(401)
  })

  test("refresh rotates; reusing a rotated token revokes the whole login", async () => {
    const login = await p.http<Tokens>("POST", "/api/auth/login", {
      body: { username: "admin", password: p.adminPassword }
    })
    const first = await p.http<Tokens>("POST", "/api/auth/refresh", { body: { refreshToken: login.body.refreshToken } })
    expect(first.status).toBe(200)
    expect(first.body.refreshToken).not.toBe(login.body.refreshToken)
    const reuse = await p.http<Problem>("POST", "/api/auth/refresh", {
      body: { refreshToken: login.body.refreshToken }
    })
    expect(reuse.status).toBe(401)
    expect(reuse.body.detail).toContain("reuse")
    const afterReuse = await p.http("POST", "/api/auth/refresh", { body: { refreshToken: first.body.refreshToken } })
    expect(afterReuse.status).toBe(401)
  })

  test("logout revokes the refresh token and publishes user.logout", async () => {
    const login = await p.http<Tokens>("POST", "/api/auth/login", {
      body: { username: "admin", password: p.adminPassword }
    })
    const out = await p.http("POST", "/api/auth/logout", {
      token: login.body.accessToken,
      body: { refreshToken: login.body.refreshToken }
    })
    expect(out.status).toBe(204)
    expect(
      (await p.http("POST", "/api/auth/refresh", { body: { refreshToken: login.body.refreshToken } })).status
    ).toBe(401)
    const events = await p.query<{ type: string }>("SELECT type FROM events WHERE type = 'user.logout'")
    expect(events.length).toBeGreaterThan(0)
  })
})

describe("users", () => {
  test("admins create users; user.created is in the outbox with the acting admin", async () => {
    const alice = await createUser("alice")
    expect(alice.roles).toEqual(["user"])
    const rows = await p.run(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) =>
          sql<{
            payload: { userId: string; username: string }
            actor_id: string | null
          }>`SELECT payload, actor_id FROM events WHERE type = 'user.created'`
      )
    )
    const event = rows.find((r) => r.payload.userId === alice.id)
    expect(event?.payload.username).toBe("alice")
    expect(event?.actor_id).not.toBeNull()
  })

  test("validation names the field; duplicates are 409 case-insensitively", async () => {
    const weak = await p.http<Problem>("POST", "/api/users", {
      token: admin,
      body: { username: "bob", password: "short" }
    })
    expect(weak.status).toBe(400)
    expect(weak.body.errors?.map((e) => e.path)).toContain("body.password")
    const badName = await p.http<Problem>("POST", "/api/users", {
      token: admin,
      body: { username: "has space", password: "long-enough-pw" }
    })
    expect(badName.body.errors?.map((e) => e.path)).toContain("body.username")
    const extra = await p.http<Problem>("POST", "/api/users", {
      token: admin,
      body: { username: "bob2", password: "long-enough-pw", admin: true }
    })
    expect(extra.status).toBe(400)
    await createUser("Carol")
    const dup = await p.http<Problem>("POST", "/api/users", {
      token: admin,
      body: { username: "carol", password: "long-enough-pw" }
    })
    expect(dup.status).toBe(409)
    expect(dup.body.code).toBe("username_taken")
  })

  test("anonymous is 401, a plain user is 403, and nothing is created", async () => {
    const dave = await createUser("dave")
    expect((await p.http("POST", "/api/users", { body: { username: "eve", password: "long-enough-pw" } })).status).toBe(
      401
    )
    const forbidden = await p.http<Problem>("POST", "/api/users", {
      token: dave.token,
      body: { username: "eve", password: "long-enough-pw" }
    })
    expect(forbidden.status).toBe(403)
    expect(forbidden.body.detail).toContain("users:write")
    expect((await p.http("GET", "/api/users", { token: dave.token })).status).toBe(403)
    const list = await p.http<{ items: ReadonlyArray<UserBody> }>("GET", "/api/users?q=eve", { token: admin })
    expect(list.body.items).toHaveLength(0)
  })

  test("list searches and paginates with a cursor", async () => {
    await createUser("pager-a")
    await createUser("pager-b")
    await createUser("pager-c")
    const first = await p.http<{ items: ReadonlyArray<UserBody>; nextCursor: string | null }>(
      "GET",
      "/api/users?q=pager&limit=2",
      { token: admin }
    )
    expect(first.body.items.map((u) => u.username)).toEqual(["pager-a", "pager-b"])
    expect(first.body.nextCursor).not.toBeNull()
    const second = await p.http<{ items: ReadonlyArray<UserBody>; nextCursor: string | null }>(
      "GET",
      `/api/users?q=pager&limit=2&cursor=${first.body.nextCursor}`,
      { token: admin }
    )
    expect(second.body.items.map((u) => u.username)).toEqual(["pager-c"])
    expect(second.body.nextCursor).toBeNull()
    const bad = await p.http<Problem>("GET", "/api/users?limit=0", { token: admin })
    expect(bad.status).toBe(400)
    expect(bad.body.errors?.[0]?.path).toBe("query.limit")
  })

  test("users read themselves but not others; unknown ids are 404", async () => {
    const frank = await createUser("frank")
    const grace = await createUser("grace")
    expect((await p.http("GET", `/api/users/${frank.id}`, { token: frank.token })).status).toBe(200)
    expect((await p.http("GET", `/api/users/${grace.id}`, { token: frank.token })).status).toBe(403)
    expect((await p.http("GET", "/api/users/no-such-id", { token: admin })).status).toBe(404)
  })

  test("self-service changes name and password (with the current one) but not roles", async () => {
    const heidi = await createUser("heidi")
    const named = await p.http<{ displayName: string }>("PATCH", `/api/users/${heidi.id}`, {
      token: heidi.token,
      body: { displayName: "Heidi H" }
    })
    expect(named.body.displayName).toBe("Heidi H")
    expect(
      (await p.http("PATCH", `/api/users/${heidi.id}`, { token: heidi.token, body: { roles: ["admin"] } })).status
    ).toBe(403)
    const noCurrent = await p.http<Problem>("PATCH", `/api/users/${heidi.id}`, {
      token: heidi.token,
      body: { password: "new-password-123" }
    })
    expect(noCurrent.status).toBe(400)
    expect(noCurrent.body.errors?.[0]?.path).toBe("body.currentPassword")
    const changed = await p.http("PATCH", `/api/users/${heidi.id}`, {
      token: heidi.token,
      body: { password: "new-password-123", currentPassword: heidi.password }
    })
    expect(changed.status).toBe(200)
    expect(await p.login("heidi", "new-password-123")).toBeString()
  })

  test("disabling a user rejects their tokens at once", async () => {
    const ivan = await createUser("ivan")
    expect((await p.http("PATCH", `/api/users/${ivan.id}`, { token: admin, body: { disabled: true } })).status).toBe(
      200
    )
    expect((await p.http("GET", "/api/auth/me", { token: ivan.token })).status).toBe(401)
    expect(
      (await p.http("POST", "/api/auth/login", { body: { username: "ivan", password: ivan.password } })).status
    ).toBe(401)
  })

  test("you cannot delete yourself or the last admin; deleting a user is 204 then 404", async () => {
    const me = await p.http<UserBody>("GET", "/api/auth/me", { token: admin })
    expect((await p.http<Problem>("DELETE", `/api/users/${me.body.id}`, { token: admin })).status).toBe(409)
    const demote = await p.http<Problem>("PATCH", `/api/users/${me.body.id}`, {
      token: admin,
      body: { roles: ["user"] }
    })
    expect(demote.status).toBe(409)
    expect(demote.body.code).toBe("last_admin")
    const judy = await createUser("judy")
    expect((await p.http("DELETE", `/api/users/${judy.id}`, { token: admin })).status).toBe(204)
    expect((await p.http("GET", `/api/users/${judy.id}`, { token: admin })).status).toBe(404)
    expect((await p.http("DELETE", `/api/users/${judy.id}`, { token: admin })).status).toBe(404)
  })

  test("first-boot admin creation is idempotent", async () => {
    await p.run(Users.ensureAdmin)
    const admins = await p.http<{ items: ReadonlyArray<UserBody> }>("GET", "/api/users?q=admin", { token: admin })
    expect(admins.body.items.filter((u) => u.username === "admin")).toHaveLength(1)
  })
})

describe("groups", () => {
  test("CRUD with members; duplicates 409; permissions enforced", async () => {
    const kim = await createUser("kim")
    const created = await p.http<{ id: string; name: string; memberCount: number }>("POST", "/api/groups", {
      token: admin,
      body: { name: "Designers" }
    })
    expect(created.status).toBe(201)
    expect((await p.http("POST", "/api/groups", { token: admin, body: { name: "designers" } })).status).toBe(409)
    expect((await p.http("POST", "/api/groups", { token: kim.token, body: { name: "Mine" } })).status).toBe(403)
    const empty = await p.http<Problem>("POST", "/api/groups", { token: admin, body: { name: "" } })
    expect(empty.body.errors?.[0]?.path).toBe("body.name")
    const gid = created.body.id
    expect(
      (await p.http("POST", `/api/groups/${gid}/members`, { token: admin, body: { userId: kim.id } })).status
    ).toBe(204)
    expect(
      (await p.http("POST", `/api/groups/${gid}/members`, { token: admin, body: { userId: kim.id } })).status
    ).toBe(409)
    expect(
      (await p.http("POST", `/api/groups/${gid}/members`, { token: admin, body: { userId: "ghost" } })).status
    ).toBe(404)
    const members = await p.http<{ items: ReadonlyArray<{ username: string }> }>("GET", `/api/groups/${gid}/members`, {
      token: admin
    })
    expect(members.body.items.map((m) => m.username)).toEqual(["kim"])
    const me = await p.http<{ groups: ReadonlyArray<{ name: string }> }>("GET", "/api/auth/me", { token: kim.token })
    expect(me.body.groups.map((g) => g.name)).toEqual(["Designers"])
    const renamed = await p.http<{ name: string; memberCount: number }>("PATCH", `/api/groups/${gid}`, {
      token: admin,
      body: { name: "UX" }
    })
    expect(renamed.body).toMatchObject({ name: "UX", memberCount: 1 })
    expect((await p.http("DELETE", `/api/groups/${gid}/members/${kim.id}`, { token: admin })).status).toBe(204)
    expect((await p.http("DELETE", `/api/groups/${gid}/members/${kim.id}`, { token: admin })).status).toBe(404)
    expect((await p.http("DELETE", `/api/groups/${gid}`, { token: admin })).status).toBe(204)
    expect((await p.http("GET", `/api/groups/${gid}`, { token: admin })).status).toBe(404)
  })
})

describe("API keys", () => {
  test("shown once, work as bearer, limited to their scopes, revocable", async () => {
    const created = await p.http<{ id: string; key: string; prefix: string; scopes: ReadonlyArray<string> }>(
      "POST",
      "/api/api-keys",
      {
        token: admin,
        body: { name: "ci", scopes: ["users:read"] }
      }
    )
    expect(created.status).toBe(201)
    expect(created.body.key).toStartWith("ssk_")
    const list = await p.http<{ items: ReadonlyArray<Record<string, unknown>> }>("GET", "/api/api-keys", {
      token: admin
    })
    expect(JSON.stringify(list.body)).not.toContain(created.body.key)
    expect(list.body.items.map((k) => k["id"])).toContain(created.body.id)
    expect((await p.http("GET", "/api/users", { token: created.body.key })).status).toBe(200)
    // An admin's key scoped to users:read cannot write, even though the admin can.
    expect(
      (
        await p.http("POST", "/api/users", {
          token: created.body.key,
          body: { username: "via-key", password: "long-enough-pw" }
        })
      ).status
    ).toBe(403)
    // Only a key scoped to `account` may reach key management at all (test/security/scopes-account.test.ts).
    const nested = await p.http<Problem & { permission?: string }>("POST", "/api/api-keys", {
      token: created.body.key,
      body: { name: "nested", scopes: ["users:read"] }
    })
    expect(nested.status).toBe(403)
    expect(nested.body.permission).toBe("account")
    const used = await p.http<{ items: ReadonlyArray<{ id: string; lastUsedAt: string | null }> }>(
      "GET",
      "/api/api-keys",
      { token: admin }
    )
    expect(used.body.items.find((k) => k.id === created.body.id)?.lastUsedAt).not.toBeNull()
    expect((await p.http("DELETE", `/api/api-keys/${created.body.id}`, { token: admin })).status).toBe(204)
    expect((await p.http("GET", "/api/users", { token: created.body.key })).status).toBe(401)
  })

  test("scopes beyond the owner's permissions and past expiry are refused, naming the field", async () => {
    const leo = await createUser("leo")
    const wide = await p.http<Problem>("POST", "/api/api-keys", {
      token: leo.token,
      body: { name: "x", scopes: ["sessions:read", "users:write"] }
    })
    expect(wide.status).toBe(400)
    expect(wide.body.errors?.[0]?.path).toBe("scopes.1")
    const past = await p.http<Problem>("POST", "/api/api-keys", {
      token: leo.token,
      body: { name: "x", scopes: ["sessions:read"], expiresAt: "2001-01-01T00:00:00Z" }
    })
    expect(past.status).toBe(400)
    expect(past.body.errors?.[0]?.path).toBe("expiresAt")
    expect((await p.http("DELETE", "/api/api-keys/not-mine", { token: leo.token })).status).toBe(404)
  })
})

describe("TOTP", () => {
  test("enroll, verify, then login needs a code or a single-use recovery code", async () => {
    const mia = await createUser("mia")
    const enroll = await p.http<{ secret: string; otpauthUri: string }>("POST", "/api/auth/mfa/totp/enroll", {
      token: mia.token
    })
    expect(enroll.status).toBe(200)
    expect(enroll.body.otpauthUri).toStartWith("otpauth://totp/StreamSpace:mia?secret=")
    const wrong = await p.http<Problem>("POST", "/api/auth/mfa/totp/verify", {
      token: mia.token,
      body: { code: "000000" === Totp.codeNow(enroll.body.secret) ? "111111" : "000000" }
    })
    expect(wrong.status).toBe(400)
    const verified = await p.http<{ recoveryCodes: ReadonlyArray<string> }>("POST", "/api/auth/mfa/totp/verify", {
      token: mia.token,
      body: { code: Totp.codeNow(enroll.body.secret) }
    })
    expect(verified.status).toBe(200)
    expect(verified.body.recoveryCodes).toHaveLength(10)
    const noCode = await p.http<Problem>("POST", "/api/auth/login", {
      body: { username: "mia", password: mia.password }
    })
    expect(noCode.status).toBe(401)
    expect(noCode.body.detail).toContain("totp")
    // The verifying code's step is spent; the next step's code is within the accepted drift.
    const withCode = await p.http("POST", "/api/auth/login", {
      body: { username: "mia", password: mia.password, totp: Totp.codeNow(enroll.body.secret, 1) }
    })
    expect(withCode.status).toBe(200)
    const recovery = verified.body.recoveryCodes[0]!
    expect(
      (await p.http("POST", "/api/auth/login", { body: { username: "mia", password: mia.password, totp: recovery } }))
        .status
    ).toBe(200)
    expect(
      (await p.http("POST", "/api/auth/login", { body: { username: "mia", password: mia.password, totp: recovery } }))
        .status
    ).toBe(401)
  })
})
