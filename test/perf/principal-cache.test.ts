/**
 * The PrincipalCache (issue 12): a request with a credential the replica has
 * seen reads nothing about its caller, and every change made through the
 * platform — disabling a user, changing roles, revoking a key, granting or
 * withdrawing a role's permission — applies from the very next request. The
 * cache lives long here (`principalCacheMs: 60000`), so only invalidation
 * can make a change visible; the clock is simulated, so expiry is a clock
 * move. Across replicas: principal-cache.pg.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { HttpRoute, Permissions, PrincipalCache, type UserRepo } from "@streamspace/core"
import { TestPlatform } from "@streamspace/testing"
import { Clock, Effect, Schema } from "effect"
import { makeUser } from "../core/sessions/helpers.ts"

const ttl = 60_000
const probe = HttpRoute.make({
  method: "GET",
  path: "/api/test/principal-probe",
  summary: "needs a permission granted at run time",
  permission: "probe:read",
  response: Schema.Struct({ ok: Schema.Boolean }),
  handler: () => Effect.succeed({ ok: true })
})

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ clock: "test", routes: [probe] as never, config: { auth: { principalCacheMs: ttl } } })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const status = async (path: string, token: string) => (await p.http("GET", path, { token })).status

describe(`principal cache (${TestPlatform.engine()})`, () => {
  test("a known caller is not read again: a change behind the platform's back is not seen while cached", async () => {
    const user = await makeUser(p, admin, "cached-reader")
    expect(await status(`/api/users/${user.id}`, user.token)).toBe(200)
    await p.query("UPDATE users SET disabled = true WHERE id = $1", [user.id])
    expect(await status(`/api/users/${user.id}`, user.token)).toBe(200)
    // Past the time to live the database is read again.
    await p.adjustClock(ttl + 1000)
    expect(await status(`/api/users/${user.id}`, user.token)).toBe(401)
  })

  test("disabling and enabling a user through the API applies on the next request", async () => {
    const user = await makeUser(p, admin, "cached-disabled")
    expect(await status(`/api/users/${user.id}`, user.token)).toBe(200)
    const patch = (disabled: boolean) => p.http("PATCH", `/api/users/${user.id}`, { token: admin, body: { disabled } })
    expect((await patch(true)).status).toBe(200)
    expect(await status(`/api/users/${user.id}`, user.token)).toBe(401)
    expect((await patch(false)).status).toBe(200)
    expect(await status(`/api/users/${user.id}`, user.token)).toBe(200)
  })

  test("a changed role applies on the next request, for tokens and API keys alike", async () => {
    const user = await makeUser(p, admin, "cached-operator", ["operator"])
    const key = await p.http<{ key: string }>("POST", "/api/api-keys", {
      token: user.token,
      body: { name: "reads", scopes: ["users:read"] }
    })
    for (const token of [user.token, key.body.key]) expect(await status("/api/users", token)).toBe(200)
    const demoted = await p.http("PATCH", `/api/users/${user.id}`, { token: admin, body: { roles: ["user"] } })
    expect(demoted.status).toBe(200)
    for (const token of [user.token, key.body.key]) expect(await status("/api/users", token)).toBe(403)
  })

  test("a revoked API key is refused on the next request; an expired one when it expires", async () => {
    const user = await makeUser(p, admin, "cached-keys")
    const expiresAt = new Date((await p.run(Clock.currentTimeMillis)) + 30_000).toISOString()
    const create = (name: string, extra: Record<string, unknown> = {}) =>
      p.http<{ id: string; key: string }>("POST", "/api/api-keys", {
        token: user.token,
        body: { name, scopes: ["account"], ...extra }
      })
    const revoked = (await create("revoked")).body
    const expiring = (await create("expiring", { expiresAt })).body
    for (const key of [revoked, expiring]) expect(await status(`/api/users/${user.id}`, key.key)).toBe(200)
    expect((await p.http("DELETE", `/api/api-keys/${revoked.id}`, { token: user.token })).status).toBe(204)
    expect(await status(`/api/users/${user.id}`, revoked.key)).toBe(401)
    // Within the cache's time to live, but past the key's own expiry.
    await p.adjustClock(31_000)
    const expired = await p.http<{ detail: string }>("GET", `/api/users/${user.id}`, { token: expiring.key })
    expect(expired.status).toBe(401)
    expect(expired.body.detail).toBe("API key expired")
  })

  test("granting and withdrawing a role's permission applies on the next request", async () => {
    const user = await makeUser(p, admin, "cached-grants")
    const register = Effect.flatMap(Permissions.Permissions, (permissions) =>
      permissions.register("probe-owner", [{ name: "probe:read", description: "probe", roles: ["user"] }])
    )
    const unregister = Effect.flatMap(Permissions.Permissions, (permissions) => permissions.unregister("probe-owner"))
    expect(await status("/api/test/principal-probe", user.token)).toBe(403)
    await p.run(register)
    expect(await status("/api/test/principal-probe", user.token)).toBe(200)
    await p.run(unregister)
    expect(await status("/api/test/principal-probe", user.token)).toBe(403)
  })

  test("a read in flight while a change is announced is used once but not kept", async () => {
    const principal: UserRepo.Principal = { username: "racer", disabled: false, roles: ["user"], permissions: [] }
    let loads = 0
    const outcome = await p.run(
      Effect.gen(function* () {
        const cache = yield* PrincipalCache.PrincipalCache
        const at = yield* Clock.currentTimeMillis
        // The read sees the old state; the change commits before the read is done.
        const racingRead = Effect.zipRight(
          cache.changed(PrincipalCache.userChanged("racer-id")),
          Effect.sync(() => {
            loads++
            return principal
          })
        )
        const first = yield* cache.principal("racer-id", at, racingRead)
        const counted = Effect.sync(() => {
          loads++
          return principal
        })
        yield* cache.principal("racer-id", at, counted)
        yield* cache.principal("racer-id", at, counted)
        return first
      })
    )
    expect(outcome).toEqual(principal)
    // The racing read was not kept, so the next one loaded; that one was kept.
    expect(loads).toBe(2)
  })
})
