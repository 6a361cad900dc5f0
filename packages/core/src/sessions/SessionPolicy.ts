/**
 * Who may do what with a session. Owners do everything; `sessions:admin`
 * sees and controls all; a `control` share may use it (heartbeat, VNC
 * input, hibernate, wake); a `view` share may only watch. Anyone else gets
 * 404, so ids of other people's sessions are not confirmed.
 */
import { Effect } from "effect"
import { type Actor, hasPermission } from "../Actor.ts"
import { Forbidden, NotFound } from "../Errors.ts"
import type { Access } from "./SessionModel.ts"
import type { SessionRow } from "./SessionRepo.ts"

export const accessOf = (actor: Actor, row: SessionRow): Access | undefined => {
  if (actor._tag === "System") return "admin"
  if (actor._tag !== "User") return undefined
  if (row.user_id === actor.userId) return "owner"
  if (hasPermission(actor, "sessions:admin")) return "admin"
  return row.share_access ?? undefined
}

export type Need = "read" | "control" | "manage"

const allowed: Record<Need, ReadonlyArray<Access>> = {
  read: ["owner", "admin", "control", "view"],
  control: ["owner", "admin", "control"],
  manage: ["owner", "admin"]
}

export const authorize = (actor: Actor, row: SessionRow | undefined, id: string, need: Need): Effect.Effect<Access, NotFound | Forbidden> => {
  const access = row ? accessOf(actor, row) : undefined
  if (access === undefined) return Effect.fail(new NotFound({ resource: "session", id }))
  if (!allowed[need].includes(access)) {
    return Effect.fail(new Forbidden({ message: `a ${access} share cannot ${need === "manage" ? "manage" : "control"} this session` }))
  }
  return Effect.succeed(access)
}
