/** Permission strings and API-key scope narrowing (Actor.hasPermission, ApiKeyScopes), and ApiKeys.create on stubs. */
import { describe, expect, test } from "bun:test"
import {
  Actor,
  ApiKeyRepo,
  ApiKeys,
  ApiKeyScopes,
  HttpRoute,
  IdentityModel,
  Users,
  ValidationError
} from "@streamspace/core"
import { stubLayer } from "@streamspace/testing/stubs"
import { Effect, Exit } from "effect"
import { anonymous, failureOf, system, user, valueOf } from "./helpers.ts"

describe("permission strings", () => {
  test("exact, area:* and * grant; nothing else does", () => {
    expect(Actor.hasPermission(user("a", ["sessions:read"]), "sessions:read")).toBe(true)
    expect(Actor.hasPermission(user("a", ["sessions:*"]), "sessions:admin")).toBe(true)
    expect(Actor.hasPermission(user("a", ["*"]), "billing:write")).toBe(true)
    expect(Actor.hasPermission(user("a", ["sessions:read"]), "sessions:write")).toBe(false)
    expect(Actor.hasPermission(user("a", ["session:*"]), "sessions:read")).toBe(false)
  })

  test("the system may do anything; anonymous nothing", () => {
    expect(Actor.hasPermission(system, "users:write")).toBe(true)
    expect(Actor.hasPermission(anonymous, "sessions:read")).toBe(false)
  })

  test("routes: public for all, authenticated for any user, otherwise the permission (401 before 403)", () => {
    const check = (permission: string, actor: Actor.Actor) =>
      Effect.runSyncExit(HttpRoute.checkAccess(permission, actor))
    expect(Exit.isSuccess(check("public", anonymous))).toBe(true)
    expect(failureOf(check("authenticated", anonymous))._tag).toBe("Unauthorized")
    expect(failureOf(check("users:write", anonymous))._tag).toBe("Unauthorized")
    expect(Exit.isSuccess(check("authenticated", user("a", [])))).toBe(true)
    expect(failureOf(check("users:write", user("a", [])))).toMatchObject({
      _tag: "Forbidden",
      permission: "users:write"
    })
  })
})

describe("API-key scopes", () => {
  test("a scope is granted by the same permission, its area's *, or *", () => {
    expect(ApiKeyScopes.grants(["sessions:read"], "sessions:read")).toBe(true)
    expect(ApiKeyScopes.grants(["sessions:*"], "sessions:write")).toBe(true)
    expect(ApiKeyScopes.grants(["*"], "users:write")).toBe(true)
    expect(ApiKeyScopes.grants(["sessions:read"], "sessions:*")).toBe(false)
    expect(ApiKeyScopes.grants(new Set(["files:read"]), "files:write")).toBe(false)
  })

  test("the first scope the owner does not hold is named by its index", () => {
    expect(ApiKeyScopes.firstUngranted(["sessions:*"], ["sessions:read", "users:write", "audit:read"])).toBe(1)
    expect(ApiKeyScopes.firstUngranted(["*"], ["users:write"])).toBe(-1)
  })

  test("a key's request has its scopes narrowed to what the owner still holds", () => {
    expect([
      ...ApiKeyScopes.effectivePermissions(["sessions:read", "templates:read"], ["sessions:read", "users:write"])
    ]).toEqual(["sessions:read"])
    expect([...ApiKeyScopes.effectivePermissions(["sessions:*"], ["sessions:read", "sessions:write"])]).toEqual([
      "sessions:read",
      "sessions:write"
    ])
  })

  test("without a key, the owner's permissions apply unchanged (a wildcard stays a wildcard)", () => {
    expect([...ApiKeyScopes.effectivePermissions(["*"], null)]).toEqual(["*"])
    expect([...ApiKeyScopes.effectivePermissions(["*"], ["audit:read"])]).toEqual(["audit:read"])
  })
})

describe("creating API keys", () => {
  const stored: Array<ApiKeyRepo.NewApiKey> = []
  const create = (input: Partial<typeof IdentityModel.CreateApiKey.Type>) =>
    Effect.runPromiseExit(
      Effect.flatMap(ApiKeys.ApiKeys, (k) =>
        k.create("alice", { name: "ci", scopes: ["sessions:read"], ...input })
      ).pipe(
        Effect.provide(ApiKeys.ApiKeysLive),
        Effect.provide(
          stubLayer(Users.Users, { permissionsOf: () => Effect.succeed(["sessions:*", "templates:read"]) })
        ),
        Effect.provide(
          stubLayer(ApiKeyRepo.ApiKeyRepo, {
            insert: (key) =>
              Effect.sync(() => {
                stored.push(key)
                return new IdentityModel.ApiKey({
                  id: key.id,
                  name: key.name,
                  prefix: key.prefix,
                  scopes: key.scopes,
                  expiresAt: key.expiresAt,
                  lastUsedAt: null,
                  createdAt: key.at
                })
              })
          })
        )
      )
    )

  test("a scope the owner lacks is a 400 on scopes.<index>; nothing is stored", async () => {
    const error = failureOf(await create({ scopes: ["sessions:read", "users:write"] }))
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).errors).toEqual([
      { path: "scopes.1", message: "you do not hold users:write, so a key cannot either" }
    ])
    expect(stored).toEqual([])
  })

  test("an expiry in the past is a 400 on expiresAt", async () => {
    expect(
      (failureOf(await create({ expiresAt: new Date(Date.now() - 1000) })) as ValidationError).errors[0]?.path
    ).toBe("expiresAt")
  })

  test("the key is returned once; only its SHA-256 and its first ten characters are stored", async () => {
    const { key, apiKey } = valueOf(await create({ scopes: ["sessions:write"] }))
    expect(key.startsWith("ssk_")).toBe(true)
    const row = stored.at(-1)!
    expect(row.keyHash).toBe(new Bun.CryptoHasher("sha256").update(key).digest("hex"))
    expect(row.keyHash).not.toContain(key)
    expect(apiKey.prefix).toBe(key.slice(0, 10))
    expect(apiKey.scopes).toEqual(["sessions:write"])
  })
})
