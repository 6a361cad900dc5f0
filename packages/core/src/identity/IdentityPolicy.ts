/**
 * Who may do what with accounts: self-service versus `users:*`
 * administration, and the guard that keeps one enabled admin. Pure rules,
 * except that changing your own password checks the current one (through
 * UserRepo, so a stub repo serves tests).
 */
import { Effect } from "effect"
import { ACCOUNT_PERMISSION, type Actor, hasPermission } from "../Actor.ts"
import { Forbidden, Unauthorized, ValidationError } from "../Errors.ts"
import type { UpdateUser } from "./IdentityModel.ts"
import { verifyPassword } from "./Passwords.ts"
import { UserRepo } from "./UserRepo.ts"

export const userIdOf = (actor: Actor): Effect.Effect<string, Unauthorized> =>
  actor._tag === "User"
    ? Effect.succeed(actor.userId)
    : Effect.fail(new Unauthorized({ message: "a user is required" }))

export const canReadUser = (actor: Actor, id: string): Effect.Effect<void, Forbidden> =>
  (actor._tag === "User" && actor.userId === id) || hasPermission(actor, "users:read")
    ? Effect.void
    : Effect.fail(new Forbidden({ message: "you may read only your own account", permission: "users:read" }))

/**
 * Admins (`users:write`) change anyone else's anything; changing your own
 * account needs `account` too, which a login holds and an API key only when
 * scoped to it. Users change their own email, name and password (with the
 * current one).
 */
export const authorizeUserUpdate = (actor: Actor, id: string, patch: UpdateUser) =>
  Effect.gen(function* () {
    const self = actor._tag === "User" && actor.userId === id
    if (self && !hasPermission(actor, ACCOUNT_PERMISSION))
      return yield* new Forbidden({
        message: `changing your own account needs the ${ACCOUNT_PERMISSION} permission (an API key must be scoped to it)`,
        permission: ACCOUNT_PERMISSION
      })
    if (hasPermission(actor, "users:write")) return
    if (!self) {
      return yield* new Forbidden({ message: "you may change only your own account", permission: "users:write" })
    }
    if (patch.roles !== undefined)
      return yield* new Forbidden({ message: "changing roles needs users:write", permission: "users:write" })
    if (patch.disabled !== undefined)
      return yield* new Forbidden({ message: "disabling accounts needs users:write", permission: "users:write" })
    if (patch.password !== undefined) {
      if (!patch.currentPassword)
        return yield* ValidationError.field("body.currentPassword", "required to change your own password")
      const repo = yield* UserRepo
      const row = yield* repo.findById(id)
      if (!row || !(yield* verifyPassword(patch.currentPassword, row.password_hash))) {
        return yield* ValidationError.field("body.currentPassword", "does not match")
      }
    }
  })

/** Whether a change takes an enabled admin's admin role away (dropping the role, or disabling the account). */
export const losesAdmin = (
  before: { readonly roles: ReadonlyArray<string>; readonly disabled: boolean },
  patch: { readonly roles?: ReadonlyArray<string> | undefined; readonly disabled?: boolean | undefined }
): boolean =>
  before.roles.includes("admin") &&
  !before.disabled &&
  ((patch.roles !== undefined && !patch.roles.includes("admin")) || patch.disabled === true)
