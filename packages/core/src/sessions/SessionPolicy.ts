/**
 * Who may do what with a session, and from which states users may ask for
 * what. Owners do everything; `sessions:admin` sees and controls all; a
 * `control` share may use it (heartbeat, VNC input, hibernate, wake); a
 * `view` share may only watch. Anyone else gets 404, so ids of other
 * people's sessions are not confirmed. Pure rules: the Sessions service
 * applies them to what SessionRepo read.
 */
import { Effect } from "effect"
import { type Actor, hasPermission } from "../Actor.ts"
import { Forbidden, NotFound } from "../Errors.ts"
import type { Access, DesiredState, SessionState } from "./SessionModel.ts"
import type { IntentGuard, SessionRow } from "./SessionRepo.ts"

export const accessOf = (actor: Actor, row: Pick<SessionRow, "user_id" | "share_access">): Access | undefined => {
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

export const authorize = (
  actor: Actor,
  row: Pick<SessionRow, "user_id" | "share_access"> | undefined,
  id: string,
  need: Need
): Effect.Effect<Access, NotFound | Forbidden> => {
  const access = row ? accessOf(actor, row) : undefined
  if (access === undefined) return Effect.fail(new NotFound({ resource: "session", id }))
  if (!allowed[need].includes(access)) {
    return Effect.fail(
      new Forbidden({ message: `a ${access} share cannot ${need === "manage" ? "manage" : "control"} this session` })
    )
  }
  return Effect.succeed(access)
}

/** Who may act on a session with `need`, as a condition the change's own statement checks (SessionRepo). */
export const guardOf = (actor: Actor, need: Need): IntentGuard => ({
  viewer: actor._tag === "User" ? actor.userId : "",
  admin: actor._tag === "System" || (actor._tag === "User" && hasPermission(actor, "sessions:admin")),
  shares: allowed[need].filter((a): a is "view" | "control" => a === "view" || a === "control")
})

/** How a listed session reads to `viewer`: `all` is a `sessions:admin` listing. */
export const listedAccess = (
  viewer: string,
  all: boolean,
  row: Pick<SessionRow, "user_id" | "share_access">
): Access => (row.user_id === viewer ? "owner" : all ? "admin" : (row.share_access ?? "view"))

export type Intent = "hibernate" | "wake" | "delete"

/** What each request asks the orchestrator to reach, from which states, and the access it needs. */
export const intents: Record<
  Intent,
  { readonly desired: DesiredState; readonly from: ReadonlyArray<SessionState>; readonly need: Need }
> = {
  hibernate: { desired: "hibernated", from: ["running"], need: "control" },
  wake: { desired: "running", from: ["hibernated"], need: "control" },
  delete: { desired: "terminated", from: ["pending", "running", "hibernated"], need: "manage" }
}

/** The 409 message when an intent does not fit: the current state, and where it is going if elsewhere. */
export const invalidStateMessage = (row: Pick<SessionRow, "state" | "desired">): string =>
  `session is ${row.state}${row.desired !== row.state ? ` (going ${row.desired})` : ""}`

/** Terminated and failed sessions are history: no heartbeats, no intents. */
export const isEnded = (state: SessionState): boolean => state === "terminated" || state === "failed"

/** A VNC connection wakes a hibernated session, unless the caller may only watch. */
export const wakesOnConnect = (state: SessionState, access: Access): boolean =>
  state === "hibernated" && access !== "view"

/** Where the VNC proxy connects: only a running session has an endpoint to offer. */
export const connectEndpoint = (row: Pick<SessionRow, "state" | "endpoint">): string | null =>
  row.state === "running" ? row.endpoint : null
