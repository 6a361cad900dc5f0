/**
 * Sessions as users see them: launch from a template (within its maximum
 * resources, the quotas and the hooks), read, hibernate, wake, delete,
 * heartbeat and share. Requests only record intent and events; the
 * orchestrator talks to the runtime after the transaction commits.
 *
 * Opening a desktop (the VNC proxy, which checks `sessions:connect` as
 * routes check their permission) needs access to the session. Browsers
 * cannot send headers on a WebSocket, so a caller first asks for a ticket:
 * random, stored hashed, bound to the session, short-lived and taken once;
 * the proxy redeems it and re-derives the caller from the user's
 * permissions at that moment, narrowed by the API key's current scopes when
 * a key asked for the ticket.
 */
import { Context, Effect, Either, Layer, Option } from "effect"
import { type Actor, afterCommit, CurrentActor, hasPermission } from "../Actor.ts"
import * as AuditLog from "../audit/AuditLog.ts"
import {
  Conflict,
  type Forbidden,
  NotFound,
  type QuotaExceeded,
  Unauthorized,
  type ValidationError
} from "../Errors.ts"
import { EventOutbox } from "../events/EventOutbox.ts"
import { HookRunner } from "../hooks/HookRunner.ts"
import { Users } from "../identity/Users.ts"
import type { PageOf } from "../Pagination.ts"
import { Quotas } from "../quotas/Quotas.ts"
import { resourcesFor } from "../templates/TemplatePolicy.ts"
import { leaseFrom } from "./SessionLifecycle.ts"
import { SessionOrchestrator } from "./SessionOrchestrator.ts"
import type { CreateSession, DesiredState, Session, SessionShare, SessionState } from "./SessionModel.ts"
import {
  accessOf,
  authorize,
  guardOf,
  connectEndpoint,
  type Intent,
  intents,
  invalidStateMessage,
  isEnded,
  listedAccess,
  type Need,
  wakesOnConnect
} from "./SessionPolicy.ts"
import {
  type IntentGuard,
  type LaunchFields,
  SessionRepo,
  type SessionRow,
  type TakenVncTicket,
  toSession
} from "./SessionRepo.ts"
import { SessionRuntime } from "./SessionRuntime.ts"
import { now } from "../Timestamps.ts"
import { randomToken, sha256 } from "../identity/internal/Tokens.ts"

type Failure = NotFound | Forbidden | Conflict

/** The permission that opens a desktop (the VNC WebSocket and its tickets). */
export const connectPermission = "sessions:connect"

export interface VncTicket {
  /** Shown once; only its SHA-256 is stored. */
  readonly ticket: string
  readonly expiresAt: Date
}

/** Who made a ticket: the user, and the API key they used (with its current scopes) if any. */
export interface TicketHolder {
  readonly userId: string
  readonly apiKey: Option.Option<{ readonly id: string; readonly scopes: ReadonlyArray<string> }>
}

export class Sessions extends Context.Tag("@streamspace/core/Sessions")<
  Sessions,
  {
    readonly create: (
      input: CreateSession
    ) => Effect.Effect<Session, ValidationError | NotFound | Forbidden | QuotaExceeded | Unauthorized, CurrentActor>
    readonly get: (id: string) => Effect.Effect<Session, NotFound | Forbidden, CurrentActor>
    readonly list: (q: {
      state?: SessionState | undefined
      limit: number
      cursor?: string | undefined
    }) => Effect.Effect<PageOf<Session>, Unauthorized, CurrentActor>
    readonly hibernate: (id: string) => Effect.Effect<Session, Failure, CurrentActor>
    readonly wake: (id: string) => Effect.Effect<Session, Failure, CurrentActor>
    readonly delete: (id: string) => Effect.Effect<Session, Failure, CurrentActor>
    readonly heartbeat: (id: string) => Effect.Effect<void, Failure, CurrentActor>
    readonly shares: (id: string) => Effect.Effect<ReadonlyArray<SessionShare>, Failure, CurrentActor>
    readonly share: (
      id: string,
      userId: string,
      access: "view" | "control"
    ) => Effect.Effect<void, Failure, CurrentActor>
    readonly unshare: (id: string, userId: string) => Effect.Effect<void, Failure, CurrentActor>
    /** A ticket for opening the session's desktop as the current caller, valid `ttlSeconds` and once. */
    readonly vncTicket: (
      id: string,
      ttlSeconds: number
    ) => Effect.Effect<VncTicket, NotFound | Forbidden | Unauthorized, CurrentActor>
    /**
     * Takes a ticket for session `id` (it is gone afterwards, whatever the outcome). Unauthorized when it is
     * unknown, used, expired, made for another session, or made with an API key that is revoked or expired.
     */
    readonly redeemVncTicket: (id: string, ticket: string) => Effect.Effect<TicketHolder, Unauthorized>
    /** For the VNC proxy: authorizes, wakes a hibernated session (not for a view share), returns where to connect once running. */
    readonly resolveEndpoint: (id: string) => Effect.Effect<
      {
        readonly endpoint: string | null
        readonly access: "owner" | "admin" | "control" | "view"
        readonly state: SessionState
      },
      Failure,
      CurrentActor
    >
  }
>() {}

const viewerOf = (actor: Actor) => (actor._tag === "User" ? actor.userId : "")

/** A taken ticket's holder if it opens session `id` at `at`; why not otherwise. */
const ticketHolder = (
  ticket: TakenVncTicket | undefined,
  id: string,
  at: Date
): Either.Either<TicketHolder, string> => {
  if (!ticket) return Either.left("invalid or already used ticket")
  if (ticket.session_id !== id) return Either.left("the ticket is for another session")
  if (ticket.expires_at.getTime() <= at.getTime()) return Either.left("ticket expired")
  if (ticket.api_key_id === null) return Either.right({ userId: ticket.user_id, apiKey: Option.none() })
  if (ticket.key_scopes === null || ticket.key_revoked_at !== null)
    return Either.left("the API key of the ticket was revoked")
  if (ticket.key_expires_at !== null && ticket.key_expires_at.getTime() <= at.getTime())
    return Either.left("the API key of the ticket expired")
  return Either.right({
    userId: ticket.user_id,
    apiKey: Option.some({ id: ticket.api_key_id, scopes: ticket.key_scopes })
  })
}

export const SessionsLive = Layer.effect(
  Sessions,
  Effect.gen(function* () {
    const repo = yield* SessionRepo
    const quotas = yield* Quotas
    const hooks = yield* HookRunner
    const outbox = yield* EventOutbox
    const runtime = yield* SessionRuntime
    const orchestrator = yield* SessionOrchestrator
    const users = yield* Users

    const load = (id: string, need: Need) =>
      Effect.gen(function* () {
        const actor = yield* CurrentActor
        const row = yield* repo.find(id, viewerOf(actor))
        const access = yield* authorize(actor, row, id, need)
        return { row: row!, access }
      })
    const view = (id: string) =>
      Effect.flatMap(load(id, "read"), ({ row, access }) => Effect.succeed(toSession(row, access)))

    /**
     * Records new intent if the session is in one of `from`; the request takes the session's lease when it can,
     * so that this replica's orchestrator acts on it after the commit without claiming it.
     */
    const setDesired = (
      id: string,
      desired: DesiredState,
      from: ReadonlyArray<SessionState>,
      audit?: AuditLog.AuditColumns,
      guard?: IntentGuard
    ) =>
      Effect.gen(function* () {
        const at = yield* now
        const releasable = yield* orchestrator.releasable(id)
        const changed = yield* repo.setDesired(
          id,
          desired,
          from,
          at,
          { leaseUntil: leaseFrom(at), releasable },
          audit,
          guard
        )
        if (changed) yield* afterCommit(changed.leased ? orchestrator.handOff(changed) : orchestrator.nudge)
        return changed
      })

    /**
     * Records new intent if the session is in one of the intent's states. The change is one statement that
     * lands only for a caller with the access the intent needs (and carries the request's audit row); when it
     * does not land, a read says why: 404, 403, or 409 naming the current state.
     */
    const intend = (id: string, intent: Intent) =>
      Effect.gen(function* () {
        const actor = yield* CurrentActor
        const { desired, from, need } = intents[intent]
        const guard = guardOf(actor, need)
        const changed = yield* setDesired(id, desired, from, yield* AuditLog.takeRequestAudit(id), guard)
        if (changed) return toSession(changed, accessOf(actor, changed) ?? "admin")
        const { row } = yield* load(id, need)
        const message = from.includes(row.state)
          ? "the session changed while this request ran; try again"
          : invalidStateMessage(row)
        return yield* new Conflict({ message, code: "invalid_state" })
      })

    return {
      create: (input) =>
        Effect.gen(function* () {
          const actor = yield* CurrentActor
          if (actor._tag !== "User") return yield* new Unauthorized({ message: "a user is required" })
          const id = crypto.randomUUID()
          const at = yield* now
          const leaseUntil = leaseFrom(at)
          // The session, its event and the request's audit row in one statement, leased to this replica's orchestrator.
          const audit = yield* AuditLog.takeRequestAudit(id)
          const handOff = (row: SessionRow & Omit<LaunchFields, "username">) =>
            afterCommit(orchestrator.handOff({ ...row, lease_until: leaseUntil, username: actor.username }))
          // Without an interceptor to consult, the usual launch needs no read first: one statement, which
          // lands unless the template, its maxima or a quota have something to say (then the checked path).
          if (!hooks.intercepted("session.beforeCreate")) {
            const launched = yield* repo.insertUnchecked(
              {
                id,
                userId: actor.userId,
                templateId: input.templateId,
                cpu: input.cpu,
                memory: input.memory,
                persistentHome: input.persistentHome,
                runtime: runtime.kind,
                at,
                leaseUntil,
                eventId: crypto.randomUUID(),
                actorId: actor.userId
              },
              audit
            )
            if (launched) {
              yield* outbox.written
              yield* handOff(launched)
              return toSession(launched, "owner")
            }
          }
          // The template, the quotas binding the user and their usage: one statement.
          const facts = yield* repo.launchFacts(input.templateId, actor.userId)
          if (!facts?.template.enabled) return yield* new NotFound({ resource: "template", id: input.templateId })
          const { template } = facts
          const { cpu, memory } = yield* resourcesFor(template, input)
          yield* quotas.enforce(actor.userId, facts.quotas, facts.usage, { sessions: 1, cpu, memory, storage: 0 })
          const amended = yield* hooks.run("session.beforeCreate", {
            userId: actor.userId,
            templateId: template.id,
            templateName: template.name,
            cpu,
            memory,
            persistentHome: input.persistentHome,
            reason: input.reason ?? null
          })
          const created = yield* outbox.row("session.created", {
            sessionId: id,
            userId: actor.userId,
            templateId: template.id,
            state: "pending",
            cpu: amended.cpu,
            memory: amended.memory,
            at: at.toISOString()
          })
          const row = yield* repo.insert(
            {
              id,
              userId: actor.userId,
              templateId: template.id,
              templateName: template.name,
              runtime: runtime.kind,
              cpu: amended.cpu,
              memory: amended.memory,
              persistentHome: amended.persistentHome,
              at,
              leaseUntil
            },
            [created],
            audit
          )
          yield* handOff({
            ...row,
            image: template.image,
            ports: template.ports,
            env: template.env,
            vnc_port: template.vncPort
          })
          return toSession(row, "owner")
        }),
      get: view,
      list: (q) =>
        Effect.gen(function* () {
          const actor = yield* CurrentActor
          if (actor._tag !== "User") return yield* new Unauthorized({ message: "a user is required" })
          const all = hasPermission(actor, "sessions:admin")
          const page = yield* repo.list({ viewer: actor.userId, all, ...q })
          return {
            items: page.items.map((row) => toSession(row, listedAccess(actor.userId, all, row))),
            nextCursor: page.nextCursor
          }
        }),
      hibernate: (id) => intend(id, "hibernate"),
      wake: (id) => intend(id, "wake"),
      delete: (id) => intend(id, "delete"),
      heartbeat: (id) =>
        Effect.gen(function* () {
          const { row } = yield* load(id, "control")
          if (isEnded(row.state))
            return yield* new Conflict({ message: `session is ${row.state}`, code: "invalid_state" })
          yield* repo.touch(id, yield* now)
        }),
      shares: (id) => Effect.zipRight(load(id, "manage"), repo.shares(id)),
      share: (id, userId, access) =>
        Effect.gen(function* () {
          const { row } = yield* load(id, "manage")
          if (userId === row.user_id)
            return yield* new Conflict({ message: "the owner already has full access", code: "share_owner" })
          yield* users.get(userId)
          yield* repo.share(id, userId, access, yield* now)
        }),
      unshare: (id, userId) =>
        Effect.gen(function* () {
          yield* load(id, "manage")
          if (!(yield* repo.unshare(id, userId))) return yield* new NotFound({ resource: "share", id: userId })
        }),
      vncTicket: (id, ttlSeconds) =>
        Effect.gen(function* () {
          const actor = yield* CurrentActor
          if (actor._tag !== "User") return yield* new Unauthorized({ message: "a user is required" })
          yield* load(id, "read")
          const at = yield* now
          const ticket = randomToken(32)
          const expiresAt = new Date(at.getTime() + ttlSeconds * 1000)
          yield* repo.insertVncTicket({
            ticketHash: sha256(ticket),
            sessionId: id,
            userId: actor.userId,
            apiKeyId: Option.getOrNull(actor.apiKeyId),
            at,
            expiresAt
          })
          return { ticket, expiresAt }
        }),
      redeemVncTicket: (id, ticket) =>
        Effect.gen(function* () {
          const taken = yield* repo.takeVncTicket(sha256(ticket))
          return yield* Either.mapLeft(ticketHolder(taken, id, yield* now), (message) => new Unauthorized({ message }))
        }),
      resolveEndpoint: (id) =>
        Effect.gen(function* () {
          const { row, access } = yield* load(id, "read")
          const at = yield* now
          // The proxy asks again while it waits: the wake is handed to the orchestrator once, not restarted.
          if (wakesOnConnect(row.state, access) && row.desired !== "running")
            yield* setDesired(id, "running", ["hibernated"])
          yield* repo.touch(id, at)
          return { endpoint: connectEndpoint(row), access, state: row.state }
        })
    }
  })
)
