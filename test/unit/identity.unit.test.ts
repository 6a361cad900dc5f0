/** Account rules (IdentityPolicy, the Users service's last-admin guard) and login throttling (LoginThrottle), without a database. */
import { describe, expect, test } from "bun:test"
import {
  Actor,
  Conflict,
  EventOutbox,
  Forbidden,
  IdentityPolicy,
  LoginThrottle,
  ServerConfig,
  Unauthorized,
  UserRepo,
  Users,
  ValidationError
} from "@streamspace/core"
import { stubLayer } from "@streamspace/testing/stubs"
import { Effect, Exit } from "effect"
import { failureOf, system, user, valueOf } from "./helpers.ts"

// bcrypt at its lowest cost: Bun.password.verify reads any format, and this one takes a millisecond.
const hash = Bun.password.hashSync("right-password-1", { algorithm: "bcrypt", cost: 4 })
const row = (overrides: Partial<UserRepo.UserRow> = {}): UserRepo.UserRow => ({
  id: "alice",
  username: "alice",
  email: null,
  display_name: "Alice",
  password_hash: hash,
  disabled: false,
  totp_secret: null,
  totp_enabled: false,
  created_at: new Date(0),
  roles: ["user"],
  ...overrides
})
const repo = (r: Partial<UserRepo.UserRepo["Type"]>) => stubLayer(UserRepo.UserRepo, r)
const update = (
  actor: Actor.Actor,
  id: string,
  patch: Parameters<typeof IdentityPolicy.authorizeUserUpdate>[2],
  r: Partial<UserRepo.UserRepo["Type"]> = {}
) => Effect.runPromiseExit(IdentityPolicy.authorizeUserUpdate(actor, id, patch).pipe(Effect.provide(repo(r))))

describe("who may change an account", () => {
  test("users:write changes anyone's anything, without reading the account", async () => {
    valueOf(await update(user("ops", ["users:write"]), "alice", { roles: ["admin"], disabled: true }))
  })

  test("others' accounts are 403; your own roles and disabled flag need users:write", async () => {
    expect(failureOf(await update(user("bob"), "alice", { displayName: "x" }))).toBeInstanceOf(Forbidden)
    expect(failureOf(await update(user("alice"), "alice", { roles: ["admin"] }))).toMatchObject({
      message: "changing roles needs users:write"
    })
    expect(failureOf(await update(user("alice"), "alice", { disabled: false }))).toMatchObject({
      message: "disabling accounts needs users:write"
    })
  })

  test("changing your own password needs the current one, and it must match", async () => {
    const missing = failureOf(await update(user("alice"), "alice", { password: "new-password-12" }))
    expect(missing).toBeInstanceOf(ValidationError)
    expect((missing as ValidationError).errors[0]?.path).toBe("body.currentPassword")
    const wrong = failureOf(
      await update(
        user("alice"),
        "alice",
        { password: "new-password-12", currentPassword: "wrong" },
        { findById: () => Effect.succeed(row()) }
      )
    )
    expect((wrong as ValidationError).errors).toEqual([{ path: "body.currentPassword", message: "does not match" }])
    valueOf(
      await update(
        user("alice"),
        "alice",
        { password: "new-password-12", currentPassword: "right-password-1" },
        { findById: () => Effect.succeed(row()) }
      )
    )
  })

  test("reading accounts: yourself, or with users:read; routes for users need a user", () => {
    expect(Exit.isSuccess(Effect.runSyncExit(IdentityPolicy.canReadUser(user("alice"), "alice")))).toBe(true)
    expect(Exit.isSuccess(Effect.runSyncExit(IdentityPolicy.canReadUser(user("ops", ["users:read"]), "alice")))).toBe(
      true
    )
    expect(failureOf(Effect.runSyncExit(IdentityPolicy.canReadUser(user("bob"), "alice")))).toMatchObject({
      permission: "users:read"
    })
    expect(failureOf(Effect.runSyncExit(IdentityPolicy.userIdOf(system)))).toBeInstanceOf(Unauthorized)
  })
})

describe("the last enabled admin", () => {
  const admin = { roles: ["admin"], disabled: false }
  test("dropping the admin role or disabling an enabled admin loses an admin; other changes do not", () => {
    expect(IdentityPolicy.losesAdmin(admin, { roles: ["user"] })).toBe(true)
    expect(IdentityPolicy.losesAdmin(admin, { disabled: true })).toBe(true)
    expect(IdentityPolicy.losesAdmin(admin, { roles: ["admin", "user"] })).toBe(false)
    expect(IdentityPolicy.losesAdmin(admin, {})).toBe(false)
    expect(IdentityPolicy.losesAdmin({ roles: ["admin"], disabled: true }, { roles: ["user"] })).toBe(false)
    expect(IdentityPolicy.losesAdmin({ roles: ["user"], disabled: false }, { disabled: true })).toBe(false)
  })

  const users = <A, E>(r: Partial<UserRepo.UserRepo["Type"]>, use: (u: Users.Users["Type"]) => Effect.Effect<A, E>) =>
    Effect.runPromiseExit(
      Effect.flatMap(Users.Users, use).pipe(
        Effect.provide(Users.UsersLive),
        Effect.provide(repo(r)),
        Effect.provide(stubLayer(EventOutbox.EventOutbox)),
        Effect.provide(ServerConfig.layer(ServerConfig.make()))
      )
    )

  test("the only enabled admin cannot be demoted or deleted: 409 last_admin, nothing written", async () => {
    const r = { findById: () => Effect.succeed(row({ roles: ["admin"] })), countAdmins: Effect.succeed(1) }
    const demoted = failureOf(await users(r, (u) => u.update("alice", { roles: ["user"] })))
    expect(demoted).toBeInstanceOf(Conflict)
    expect(demoted).toMatchObject({ code: "last_admin" })
    expect(failureOf(await users(r, (u) => u.delete("alice")))).toMatchObject({ code: "last_admin" })
  })

  test("with another enabled admin, demoting writes the roles", async () => {
    const roles: Array<ReadonlyArray<string>> = []
    const r = {
      findById: () => Effect.succeed(row({ roles: ["admin"] })),
      countAdmins: Effect.succeed(2),
      update: () => Effect.void,
      setRoles: (_id: string, next: ReadonlyArray<string>) => Effect.sync(() => void roles.push(next))
    }
    valueOf(await users(r, (u) => u.update("alice", { roles: ["user"] })))
    expect(roles).toEqual([["user"]])
  })
})

describe("login throttling", () => {
  const policy = { maxFailedLogins: 3, failedLoginWindowSeconds: 600, maxUnknownUserFailuresPerIp: 10 }
  const at = 1_000_000_000
  test("under the limit nobody waits", () => {
    expect(
      LoginThrottle.retryAfterSeconds(
        policy,
        { byUser: { count: 2, firstAtMs: at - 1000 }, unknownUsersByIp: { count: 9, firstAtMs: at } },
        at
      )
    ).toBeUndefined()
  })

  test("at the limit, the account waits until its oldest counted failure leaves the window", () => {
    expect(LoginThrottle.retryAfterSeconds(policy, { byUser: { count: 3, firstAtMs: at - 100_000 } }, at)).toBe(500)
  })

  test("an IP is held at its own budget of unknown-username failures, and only when the IP is known", () => {
    expect(
      LoginThrottle.retryAfterSeconds(
        policy,
        { byUser: { count: 0, firstAtMs: null }, unknownUsersByIp: { count: 10, firstAtMs: at - 599_500 } },
        at
      )
    ).toBe(1)
    expect(LoginThrottle.retryAfterSeconds(policy, { byUser: { count: 0, firstAtMs: null } }, at)).toBeUndefined()
  })

  test("the wait is at least one second", () => {
    expect(LoginThrottle.retryAfterSeconds(policy, { byUser: { count: 5, firstAtMs: at - 700_000 } }, at)).toBe(1)
  })
})
