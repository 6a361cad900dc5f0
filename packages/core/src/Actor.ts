/**
 * Who is acting, and on which request. The HTTP edge resolves the bearer token
 * into an `Actor` and provides `CurrentActor` and `RequestContext` to the
 * handler; services read them for permission checks and audit.
 */
import { Context, Effect, Option } from "effect"
import { Forbidden } from "./Errors.ts"

export type Actor =
  | {
      readonly _tag: "User"
      readonly userId: string
      readonly username: string
      readonly roles: ReadonlyArray<string>
      readonly permissions: ReadonlySet<string>
      /** Set when the request authenticated with an API key (its scopes narrow `permissions`). */
      readonly apiKeyId: Option.Option<string>
    }
  | { readonly _tag: "Anonymous" }
  | { readonly _tag: "System"; readonly component: string }

export const anonymous: Actor = { _tag: "Anonymous" }
export const system = (component: string): Actor => ({ _tag: "System", component })

export class CurrentActor extends Context.Tag("@streamspace/core/CurrentActor")<CurrentActor, Actor>() {}

export interface RequestInfo {
  readonly requestId: string
  readonly ip: string
  readonly userAgent: string
}

export class RequestContext extends Context.Tag("@streamspace/core/RequestContext")<RequestContext, RequestInfo>() {}

export const systemRequest: RequestInfo = { requestId: "system", ip: "", userAgent: "" }

/**
 * Changing your own account (password, email, MFA, API keys, logins). Every
 * logged-in user holds it without any role granting it; a request made with
 * an API key holds it only when the key is scoped to it, so a key stolen
 * from a script cannot take the account over.
 */
export const ACCOUNT_PERMISSION = "account"

/**
 * `*` grants everything; `area:*` grants every action of an area; otherwise an
 * exact match. Permissions are strings because plugins add their own.
 */
export const hasPermission = (actor: Actor, permission: string): boolean => {
  if (actor._tag === "System") return true
  if (actor._tag === "Anonymous") return false
  if (permission === ACCOUNT_PERMISSION && Option.isNone(actor.apiKeyId)) return true
  if (actor.permissions.has("*") || actor.permissions.has(permission)) return true
  const area = permission.split(":")[0]
  return area !== undefined && actor.permissions.has(`${area}:*`)
}

export const actorId = (actor: Actor): string | null => (actor._tag === "User" ? actor.userId : null)

export const actorLabel = (actor: Actor): string =>
  actor._tag === "User" ? actor.username : actor._tag === "System" ? `system:${actor.component}` : "anonymous"

export const requirePermission = (permission: string): Effect.Effect<void, Forbidden, CurrentActor> =>
  Effect.flatMap(CurrentActor, (actor) =>
    hasPermission(actor, permission)
      ? Effect.void
      : Effect.fail(new Forbidden({ message: `missing permission ${permission}`, permission }))
  )

/**
 * Work a request wants done even if it fails and its transaction rolls back
 * (e.g. the `quota.exceeded` event of a refused session). The HTTP edge runs
 * these after the rollback, also when the client went away and interrupted the
 * request, before answering; outside HTTP they run when the caller decides.
 */
export class FailureEffects extends Context.Tag("@streamspace/core/FailureEffects")<
  FailureEffects,
  {
    readonly add: (effect: Effect.Effect<void, unknown>) => Effect.Effect<void>
  }
>() {}

/** Registers `effect` to run if the current request fails; runs nothing when there is no request. */
export const onRequestFailure = (effect: Effect.Effect<void, unknown>): Effect.Effect<void> =>
  Effect.flatMap(Effect.serviceOption(FailureEffects), (o) => (o._tag === "Some" ? o.value.add(effect) : Effect.void))

/**
 * Work to do once the current request's transaction has committed, such as
 * waking a background worker that must see the new rows. Outside a request
 * (or added by a fiber that outlived its request) it runs at once.
 */
export class CommitEffects extends Context.Tag("@streamspace/core/CommitEffects")<
  CommitEffects,
  {
    readonly add: (effect: Effect.Effect<void>) => Effect.Effect<void>
  }
>() {}

export const afterCommit = (effect: Effect.Effect<void>): Effect.Effect<void> =>
  Effect.flatMap(Effect.serviceOption(CommitEffects), (o) => (o._tag === "Some" ? o.value.add(effect) : effect))

/**
 * Work to do once the current request's outcome is known, whichever it is:
 * after its commit or its rollback (also when the client went away), outside
 * its transaction, before it is answered. A failure is logged and never
 * changes the answer.
 */
export class OutcomeEffects extends Context.Tag("@streamspace/core/OutcomeEffects")<
  OutcomeEffects,
  {
    readonly add: (effect: Effect.Effect<void, unknown>) => Effect.Effect<void>
  }
>() {}

/** Registers `effect` to run after the current request's outcome: `false`, and nothing registered, outside a request. */
export const afterOutcome = (effect: Effect.Effect<void, unknown>): Effect.Effect<boolean> =>
  Effect.flatMap(Effect.serviceOption(OutcomeEffects), (o) =>
    o._tag === "Some" ? Effect.as(o.value.add(effect), true) : Effect.succeed(false)
  )
