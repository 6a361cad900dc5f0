/**
 * Local user accounts. Passwords are argon2id hashes (Bun.password) and must
 * pass the PasswordPolicy wherever they are set; setting a new one ends every
 * other login of the account (its refresh tokens are revoked). On first boot
 * the `admin` account is created with the configured password, or a random
 * one printed once to the console (never to the logger).
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { CurrentActor, system } from "../Actor.ts"
import { Conflict, NotFound, ValidationError } from "../Errors.ts"
import { EventOutbox } from "../events/EventOutbox.ts"
import type { PageOf } from "../Pagination.ts"
import { ServerConfig } from "../ServerConfig.ts"
import type { CreateUser, User } from "./IdentityModel.ts"
import { losesAdmin } from "./IdentityPolicy.ts"
import { randomToken } from "./internal/Tokens.ts"
import { hashPassword } from "./Passwords.ts"
import { requireStrong } from "./PasswordPolicy.ts"
import { toUser, UserRepo, type UserRow } from "./UserRepo.ts"
import { now } from "../Timestamps.ts"

export { hashPassword, verifyPassword } from "./Passwords.ts"

export interface UserPatch {
  readonly email?: string | null
  readonly displayName?: string
  readonly password?: string
  readonly roles?: ReadonlyArray<string>
  readonly disabled?: boolean
}

export class Users extends Context.Tag("@streamspace/core/Users")<
  Users,
  {
    readonly create: (input: CreateUser) => Effect.Effect<User, Conflict | NotFound | ValidationError, CurrentActor>
    readonly get: (id: string) => Effect.Effect<User, NotFound>
    readonly list: (q: { search?: string; limit: number; cursor?: string }) => Effect.Effect<PageOf<User>>
    /**
     * A new password must be strong enough (400 on `body.password`) and revokes every refresh-token
     * family of the user: their logins elsewhere end, the caller's too (it logs in again).
     */
    readonly update: (id: string, patch: UserPatch) => Effect.Effect<User, NotFound | Conflict | ValidationError>
    readonly delete: (id: string) => Effect.Effect<void, NotFound | Conflict>
    readonly permissionsOf: (id: string) => Effect.Effect<ReadonlyArray<string>>
    /** The stored row, for authentication (password hash, TOTP state). */
    readonly credentials: (username: string) => Effect.Effect<Option.Option<UserRow>>
  }
>() {}

export const UsersLive = Layer.effect(
  Users,
  Effect.gen(function* () {
    const repo = yield* UserRepo
    const outbox = yield* EventOutbox
    const { passwordMinScore } = (yield* ServerConfig).auth
    const get = (id: string) =>
      Effect.flatMap(repo.findById(id), (row) =>
        row ? Effect.succeed(toUser(row)) : Effect.fail(new NotFound({ resource: "user", id }))
      )
    return {
      get,
      list: repo.list,
      permissionsOf: repo.permissionsOf,
      credentials: (username) => Effect.map(repo.findByUsername(username), Option.fromNullable),
      create: (input) =>
        Effect.gen(function* () {
          yield* requireStrong("body.password", input.password, input, passwordMinScore)
          const id = crypto.randomUUID()
          const created = yield* repo.insert({
            id,
            username: input.username,
            email: input.email ?? null,
            displayName: input.displayName ?? input.username,
            passwordHash: yield* hashPassword(input.password),
            roles: input.roles,
            at: yield* now
          })
          if (!created)
            return yield* new Conflict({ message: `username ${input.username} is taken`, code: "username_taken" })
          yield* outbox.publish("user.created", { userId: id, username: input.username })
          return yield* get(id)
        }),
      update: (id, patch) =>
        Effect.gen(function* () {
          const before = yield* get(id)
          if (patch.password !== undefined)
            yield* requireStrong(
              "body.password",
              patch.password,
              {
                username: before.username,
                email: patch.email === undefined ? before.email : patch.email,
                displayName: patch.displayName ?? before.displayName
              },
              passwordMinScore
            )
          const fields: Record<string, unknown> = {}
          if (patch.email !== undefined) fields["email"] = patch.email
          if (patch.displayName !== undefined) fields["display_name"] = patch.displayName
          if (patch.disabled !== undefined) fields["disabled"] = patch.disabled
          if (patch.password !== undefined) fields["password_hash"] = yield* hashPassword(patch.password)
          if (losesAdmin(before, patch) && (yield* repo.countAdmins) <= 1) {
            return yield* new Conflict({
              message: "the last enabled admin cannot lose the admin role",
              code: "last_admin"
            })
          }
          const at = yield* now
          yield* repo.update(id, fields, at)
          if (patch.password !== undefined) yield* repo.revokeRefreshTokens(id, at)
          if (patch.roles !== undefined) yield* repo.setRoles(id, patch.roles)
          return yield* get(id)
        }),
      delete: (id) =>
        Effect.gen(function* () {
          const user = yield* get(id)
          if (user.roles.includes("admin") && (yield* repo.countAdmins) <= 1) {
            return yield* new Conflict({ message: "the last enabled admin cannot be deleted", code: "last_admin" })
          }
          yield* repo.delete(id)
        })
    }
  })
)

/**
 * First boot: creates `admin` when no such account exists. Safe with several
 * replicas booting together (only the one whose insert wins prints).
 * Succeeds with whether this boot created it (the first boot of the installation).
 */
export const ensureAdmin = Effect.gen(function* () {
  const repo = yield* UserRepo
  const config = yield* ServerConfig
  const sql = yield* SqlClient.SqlClient
  const existing = yield* repo.findByUsername("admin")
  if (existing) return false
  const configured = config.auth.adminPassword
  const password = configured ? Redacted.value(configured) : randomToken(15)
  const account = { username: "admin", displayName: "Administrator" }
  // The generated password is random and strong; the operator's must pass the same policy as any other.
  if (configured) {
    if (password.length < 10) return yield* ValidationError.field("auth.adminPassword", "at least 10 characters")
    yield* requireStrong("auth.adminPassword", password, account, config.auth.passwordMinScore)
  }
  const outbox = yield* EventOutbox
  const id = crypto.randomUUID()
  const passwordHash = yield* hashPassword(password)
  const at = yield* now
  const created = yield* sql.withTransaction(
    Effect.gen(function* () {
      const inserted = yield* repo.insert({
        id,
        ...account,
        email: null,
        passwordHash,
        roles: ["admin"],
        at
      })
      // Like every account, the first admin is announced; the platform created it, so the actor is null.
      if (inserted)
        yield* outbox
          .publish("user.created", { userId: id, username: "admin" })
          .pipe(Effect.provideService(CurrentActor, system("bootstrap")))
      return inserted
    })
  )
  if (created && !configured) {
    // Deliberately console, not the logger: log shipping must never carry it.
    console.log(
      [
        "",
        "  ┌──────────────────────────────────────────────────────────┐",
        "  │  StreamSpace first boot: an admin account was created.  │",
        `  │  username: admin                                         │`,
        `  │  password: ${password.padEnd(46)}│`,
        "  │  It is shown only this once. Change it after logging in. │",
        "  └──────────────────────────────────────────────────────────┘",
        ""
      ].join("\n")
    )
  }
  return created
})
