/** Who may do what with accounts: self-service versus `users:*` administration. */
import { Effect } from "effect"
import { type Actor, hasPermission } from "../Actor.ts"
import { Forbidden, Unauthorized, ValidationError } from "../Errors.ts"
import type { UpdateUser } from "./IdentityModel.ts"
import { Users, verifyPassword } from "./Users.ts"

export const userIdOf = (actor: Actor): Effect.Effect<string, Unauthorized> =>
  actor._tag === "User" ? Effect.succeed(actor.userId) : Effect.fail(new Unauthorized({ message: "a user is required" }))

export const canReadUser = (actor: Actor, id: string): Effect.Effect<void, Forbidden> =>
  (actor._tag === "User" && actor.userId === id) || hasPermission(actor, "users:read")
    ? Effect.void
    : Effect.fail(new Forbidden({ message: "you may read only your own account", permission: "users:read" }))

/** Admins change anything; users change their own email, name and password (with the current one). */
export const authorizeUserUpdate = (actor: Actor, id: string, patch: UpdateUser) =>
  Effect.gen(function*() {
    if (hasPermission(actor, "users:write")) return
    if (actor._tag !== "User" || actor.userId !== id) {
      return yield* new Forbidden({ message: "you may change only your own account", permission: "users:write" })
    }
    if (patch.roles !== undefined) return yield* new Forbidden({ message: "changing roles needs users:write", permission: "users:write" })
    if (patch.disabled !== undefined) return yield* new Forbidden({ message: "disabling accounts needs users:write", permission: "users:write" })
    if (patch.password !== undefined) {
      if (!patch.currentPassword) return yield* ValidationError.field("body.currentPassword", "required to change your own password")
      const users = yield* Users
      const row = yield* users.repo.findById(id)
      if (!row || !(yield* verifyPassword(patch.currentPassword, row.password_hash))) {
        return yield* ValidationError.field("body.currentPassword", "does not match")
      }
    }
  })
