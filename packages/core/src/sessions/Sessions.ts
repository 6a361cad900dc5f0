/**
 * Sessions as users see them: launch from a template (within its maximum
 * resources, the quotas and the hooks), read, hibernate, wake, delete,
 * heartbeat and share. Requests only record intent and events; the
 * orchestrator talks to the runtime after the transaction commits.
 */
import { Context, Effect, Layer } from "effect"
import { type Actor, afterCommit, CurrentActor, hasPermission } from "../Actor.ts"
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
import { Templates } from "../templates/Templates.ts"
import { SessionOrchestrator } from "./SessionOrchestrator.ts"
import type { CreateSession, Session, SessionShare, SessionState } from "./SessionModel.ts"
import {
  authorize,
  connectEndpoint,
  type Intent,
  intents,
  invalidStateMessage,
  isEnded,
  listedAccess,
  type Need,
  wakesOnConnect
} from "./SessionPolicy.ts"
import { SessionRepo, toSession } from "./SessionRepo.ts"
import { SessionRuntime } from "./SessionRuntime.ts"
import { now } from "../Timestamps.ts"

type Failure = NotFound | Forbidden | Conflict

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
    /** For the VNC proxy: authorizes, wakes a hibernated session, returns where to connect once running. */
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

export const SessionsLive = Layer.effect(
  Sessions,
  Effect.gen(function* () {
    const repo = yield* SessionRepo
    const templates = yield* Templates
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

    /** Records new intent if the session is in one of the intent's states; 409 naming the current state otherwise. */
    const intend = (id: string, intent: Intent) =>
      Effect.gen(function* () {
        const { desired, from, need } = intents[intent]
        const { row } = yield* load(id, need)
        const changed = yield* repo.setDesired(id, desired, from, yield* now)
        if (!changed) return yield* new Conflict({ message: invalidStateMessage(row), code: "invalid_state" })
        yield* afterCommit(orchestrator.nudge)
        return yield* view(id)
      })

    return {
      create: (input) =>
        Effect.gen(function* () {
          const actor = yield* CurrentActor
          if (actor._tag !== "User") return yield* new Unauthorized({ message: "a user is required" })
          const template = yield* templates.get(input.templateId).pipe(
            Effect.filterOrFail(
              (t) => t.enabled,
              () => new NotFound({ resource: "template", id: input.templateId })
            )
          )
          const { cpu, memory } = yield* resourcesFor(template, input)
          yield* quotas.check(actor.userId, { sessions: 1, cpu, memory, storage: 0 })
          const amended = yield* hooks.run("session.beforeCreate", {
            userId: actor.userId,
            templateId: template.id,
            templateName: template.name,
            cpu,
            memory,
            persistentHome: input.persistentHome
          })
          const id = crypto.randomUUID()
          yield* repo.insert({
            id,
            userId: actor.userId,
            templateId: template.id,
            runtime: runtime.kind,
            cpu: amended.cpu,
            memory: amended.memory,
            persistentHome: amended.persistentHome,
            at: yield* now
          })
          yield* outbox.publish("session.created", {
            sessionId: id,
            userId: actor.userId,
            templateId: template.id,
            state: "pending"
          })
          yield* afterCommit(orchestrator.nudge)
          return yield* view(id)
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
      resolveEndpoint: (id) =>
        Effect.gen(function* () {
          const { row, access } = yield* load(id, "read")
          const at = yield* now
          if (wakesOnConnect(row.state, access)) {
            yield* repo.setDesired(id, "running", ["hibernated"], at)
            yield* afterCommit(orchestrator.nudge)
          }
          yield* repo.touch(id, at)
          return { endpoint: connectEndpoint(row), access, state: row.state }
        })
    }
  })
)
