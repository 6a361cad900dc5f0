/**
 * `PlatformPosture`, granted by `grants: ["posture"]`: a read-only snapshot
 * of the platform's security posture (MFA enrolment, password and retention
 * settings, idle timeout, unsealed secrets, last sign-ins, API keys without
 * expiry, plugin roles' rights on core tables) that follows the core's real
 * state and carries no credential. Without the grant it is refused; with it,
 * the plugin reaches nothing else of the core (the service has no other
 * entry, and the plugin's own database role still cannot read core tables).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { definePlugin, PlatformPosture, PluginSql } from "@streamspace/kernel"
import { TestPlatform, Totp } from "@streamspace/testing"
import { Effect, Either, Layer, Option } from "effect"

const captured = new Map<string, { posture: PlatformPosture["Type"]; sql: PluginSql["Type"] }>()
const probe = (id: string, grants: ReadonlyArray<"posture">) =>
  definePlugin({
    id,
    name: id,
    version: "1.0.0",
    type: "extension",
    category: "test",
    grants,
    layer: Layer.effectDiscard(
      Effect.gen(function* () {
        // Every plugin's context carries the service (refusing without the grant); absent means the host lacks it.
        const posture = yield* Effect.serviceOption(PlatformPosture)
        if (Option.isNone(posture)) return yield* Effect.dieMessage("the host offers plugins no PlatformPosture")
        captured.set(id, { posture: posture.value, sql: yield* PluginSql })
      })
    )
  })

let p: TestPlatform.TestPlatform
let admin: string
let adminId: string
beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [probe("posture-granted", ["posture"]), probe("posture-ungranted", [])],
    config: { plugins: { enabled: ["posture-granted", "posture-ungranted"] } }
  })
  admin = await p.login("admin", p.adminPassword)
  adminId = (await p.http<{ id: string }>("GET", "/api/auth/me", { token: admin })).body.id
})
afterAll(() => p.close())

const snapshot = (plugin: string) => Effect.runPromise(Effect.either(captured.get(plugin)!.posture.snapshot))
const granted = async () => {
  const r = await snapshot("posture-granted")
  if (Either.isLeft(r)) throw new Error(`refused: ${r.left.message}`)
  return r.right
}

describe(`PlatformPosture (${TestPlatform.engine()})`, () => {
  test("without the grant every call is refused", async () => {
    const r = await snapshot("posture-ungranted")
    expect(Either.isLeft(r) && r.left).toMatchObject({
      _tag: "PlatformAccessDenied",
      plugin: "posture-ungranted",
      grant: "posture",
      status: 403
    })
  })

  test("the snapshot follows the platform: settings, MFA enrolment, API keys, sign-ins, plugin roles", async () => {
    const first = await granted()
    expect(Object.keys(first).sort()).toEqual([
      "apiKeysWithoutExpiry",
      "auditRetentionDays",
      "idleTimeoutMinutes",
      "lastLogins",
      "mfaUserIds",
      "passwordPolicy",
      "pluginRoles",
      "secrets",
      "takenAt"
    ])
    expect(first).toMatchObject({
      mfaUserIds: [],
      passwordPolicy: { minScore: 3, minLength: 10 },
      auditRetentionDays: null,
      idleTimeoutMinutes: 30,
      secrets: { unsealed: 0 },
      apiKeysWithoutExpiry: []
    })
    const adminLogin = first.lastLogins.find((l) => l.userId === adminId)
    expect(adminLogin?.username).toBe("admin")
    expect(adminLogin?.lastLogin).toBeInstanceOf(Date)
    expect(first.pluginRoles).toEqual([
      { plugin: "posture-granted", coreTables: 0 },
      { plugin: "posture-ungranted", coreTables: 0 }
    ])

    // A second factor enrolled through the real API.
    const enroll = await p.http<{ secret: string }>("POST", "/api/auth/mfa/totp/enroll", { token: admin })
    expect(enroll.status).toBe(200)
    const verified = await p.http("POST", "/api/auth/mfa/totp/verify", {
      token: admin,
      body: { code: Totp.codeNow(enroll.body.secret) }
    })
    expect(verified.status).toBe(200)
    // An API key that never expires, then revoked.
    const key = await p.http<{ id: string; key: string }>("POST", "/api/api-keys", {
      token: admin,
      body: { name: "forever", scopes: ["sessions:read"] }
    })
    expect(key.status).toBe(201)

    const second = await granted()
    expect(second.mfaUserIds).toEqual([adminId])
    expect(second.apiKeysWithoutExpiry).toEqual([{ id: key.body.id, userId: adminId }])
    // The TOTP secret is stored sealed, and nothing secret is in the snapshot.
    expect(second.secrets.unsealed).toBe(0)
    const text = JSON.stringify(second)
    for (const secret of [enroll.body.secret, key.body.key, p.adminPassword]) expect(text).not.toContain(secret)
    expect(text).not.toContain("$argon2")
    expect(text).not.toContain("v1.")

    expect((await p.http("DELETE", `/api/api-keys/${key.body.id}`, { token: admin })).status).toBe(204)
    expect((await granted()).apiKeysWithoutExpiry).toEqual([])

    // A plugin role given rights on a core table is reported (and no longer once revoked).
    const [role] = await p.run(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) =>
          sql<{ rolname: string }>`SELECT rolname FROM pg_roles WHERE rolname LIKE ${"ssp\\_%\\_posture\\_ungranted"}`
      )
    )
    expect(role).toBeDefined()
    await p.run(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`GRANT SELECT ON public.users TO ${role!.rolname}`))
    )
    expect((await granted()).pluginRoles).toContainEqual({ plugin: "posture-ungranted", coreTables: 1 })
    await p.run(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`REVOKE SELECT ON public.users FROM ${role!.rolname}`))
    )
    expect((await granted()).pluginRoles).toContainEqual({ plugin: "posture-ungranted", coreTables: 0 })
  })

  test("the grant reaches nothing else: one read-only entry, and the plugin's role still cannot read core tables", async () => {
    expect(Object.keys(captured.get("posture-granted")!.posture)).toEqual(["snapshot"])
    const sql = captured.get("posture-granted")!.sql
    const read = await Effect.runPromise(Effect.either(sql`SELECT username, password_hash FROM public.users`))
    expect(Either.isLeft(read) && String(read.left.cause ?? read.left.message)).toContain("permission denied")
    const write = await Effect.runPromise(Effect.either(sql`UPDATE public.users SET totp_enabled = false`))
    expect(Either.isLeft(write)).toBe(true)
  })
})
