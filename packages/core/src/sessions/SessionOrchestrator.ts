/**
 * Drives sessions towards what users asked for, outside request
 * transactions. It claims sessions needing a runtime command (with a lease,
 * so API replicas never act on one session together), retries retryable
 * runtime errors with backoff and fails the session after the last attempt,
 * applies what the runtime observed (each change in its own transaction
 * with its event), hibernates idle sessions and fails sessions stuck pending.
 */
import { Clock, Context, Duration, Effect, Layer, Option, Queue, Schedule, Stream } from "effect"
import { CurrentActor, system } from "../Actor.ts"
import type { CoreEventType } from "../events/CoreEvents.ts"
import { EventOutbox } from "../events/EventOutbox.ts"
import { HookRunner } from "../hooks/HookRunner.ts"
import { isSqlError } from "../Infrastructure.ts"
import { ServerConfig } from "../ServerConfig.ts"
import {
  afterRuntimeError,
  commandFor,
  ended,
  failed,
  type Move,
  observed,
  sweepCutoffs,
  transitionEvent
} from "./SessionLifecycle.ts"
import type { SessionState } from "./SessionModel.ts"
import { SessionRepo, type SessionRow, type SessionSubject } from "./SessionRepo.ts"
import { type ObservedStatus, type RuntimeError, SessionRuntime } from "./SessionRuntime.ts"
import { now } from "../Timestamps.ts"

export class SessionOrchestrator extends Context.Tag("@streamspace/core/SessionOrchestrator")<
  SessionOrchestrator,
  {
    /** Asks for a pass soon (after a request committed new intent). */
    readonly nudge: Effect.Effect<void>
    /** One pass now: claim and act on pending work (tests and shutdown use it). */
    readonly runOnce: Effect.Effect<void>
  }
>() {}

const LEASE = Duration.seconds(60)
const POLL = Duration.seconds(1)

export const SessionOrchestratorLive = Layer.scoped(
  SessionOrchestrator,
  Effect.gen(function* () {
    const repo = yield* SessionRepo
    const runtime = yield* SessionRuntime
    const outbox = yield* EventOutbox
    const hooks = yield* HookRunner
    const config = yield* ServerConfig
    const signal = yield* Queue.sliding<void>(1)

    const publish = (type: CoreEventType, row: SessionSubject, state: SessionState, reason?: string) =>
      outbox
        .publish(type as "session.started", {
          sessionId: row.id,
          userId: row.user_id,
          templateId: row.template_id,
          state,
          ...(reason ? { reason } : {})
        })
        .pipe(Effect.provideService(CurrentActor, system("sessions")))

    /** Moves a session and writes its event in one transaction; no-op if it already moved. */
    const move = (id: string, m: Move, at: Date) =>
      repo.withTransaction(
        Effect.gen(function* () {
          const t = { ...m.transition, id, at }
          const prev = yield* repo.transition(t)
          if (prev === undefined) return
          const type = m.event ?? transitionEvent(prev, t.to)
          if (!type) return
          const subject = yield* repo.subject(t.id)
          if (subject) yield* publish(type, subject, t.to, t.reason ?? undefined)
        })
      )

    const fail = (id: string, reason: string) => Effect.flatMap(now, (at) => move(id, failed(reason), at))

    const command = (row: SessionRow) =>
      Effect.gen(function* () {
        const next = commandFor(row)
        if (next === "remove") {
          yield* runtime.remove(row.id)
          return yield* move(row.id, ended(), yield* now)
        }
        if (next === "create") {
          const placement = yield* hooks
            .run("session.placement", { sessionId: row.id, userId: row.user_id, nodeSelector: {} })
            .pipe(
              Effect.catchTag("Forbidden", (e) =>
                Effect.zipRight(fail(row.id, `placement refused: ${e.message}`), Effect.fail("handled" as const))
              )
            )
          const template = yield* repo.launchTemplate(row.template_id)
          const username = yield* repo.username(row.user_id)
          if (!template || username === undefined) return yield* fail(row.id, "template or user no longer exists")
          yield* runtime.create({
            sessionId: row.id,
            userId: row.user_id,
            username,
            templateName: template.name,
            image: template.image,
            cpu: row.cpu,
            memory: row.memory,
            vncPort: template.vnc_port,
            ports: template.ports,
            env: template.env,
            persistentHome: row.persistent_home,
            nodeSelector: placement.nodeSelector
          })
        } else if (next === "hibernate") {
          yield* runtime.hibernate(row.id)
        } else if (next === "wake") {
          yield* runtime.wake(row.id)
        }
        yield* repo.submitted(row.id, row.desired)
      }).pipe(
        Effect.catchTag("RuntimeError", (e: RuntimeError) =>
          Effect.gen(function* () {
            const outcome = afterRuntimeError(row, e)
            switch (outcome._tag) {
              case "End":
                return yield* move(row.id, ended(outcome.reason), yield* now)
              case "Fail":
                return yield* fail(row.id, outcome.reason)
              case "Retry":
                yield* Effect.logWarning(
                  `session ${row.id}: ${e.operation} failed (attempt ${outcome.attempts}), retrying`,
                  e.message
                )
                return yield* repo.retryLater(
                  row.id,
                  outcome.attempts,
                  new Date((yield* Clock.currentTimeMillis) + outcome.delayMs)
                )
            }
          })
        ),
        Effect.catchAll((e) =>
          e === "handled" ? Effect.void : Effect.logError(`session ${row.id}: orchestration failed`, e)
        ),
        // The repo turns SqlError into a defect; one session's failed statement must not end the others' pass.
        Effect.catchSomeDefect((defect) =>
          isSqlError(defect)
            ? Option.some(Effect.logError(`session ${row.id}: orchestration failed`, defect))
            : Option.none()
        )
      )

    const runOnce = Effect.gen(function* () {
      const at = yield* now
      const claimed = yield* repo.claim(at, new Date(at.getTime() + Duration.toMillis(LEASE)), 20)
      yield* Effect.forEach(claimed, command, { concurrency: 4, discard: true })
      return claimed.length
    }).pipe(Effect.catchAllCause((cause) => Effect.as(Effect.logError("session orchestration pass failed", cause), 0)))

    const observe = (status: ObservedStatus) =>
      Effect.gen(function* () {
        const m = observed(status)
        if (m) yield* move(status.sessionId, m, yield* now)
      }).pipe(
        Effect.catchAllCause((cause) => Effect.logError(`applying runtime status of ${status.sessionId} failed`, cause))
      )

    const sweep = Effect.gen(function* () {
      const at = yield* now
      const { idleBefore, stuckBefore } = sweepCutoffs(at, config.sessions)
      const idle = yield* repo.idle(idleBefore)
      for (const { id } of idle) yield* repo.setDesired(id, "hibernated", ["running"], at)
      const stuck = yield* repo.stuckPending(stuckBefore)
      for (const { id } of stuck)
        yield* fail(id, `the runtime did not start the session within ${config.sessions.startTimeoutSeconds} s`)
      if (idle.length > 0) yield* Queue.offer(signal, undefined)
    }).pipe(Effect.catchAllCause((cause) => Effect.logError("session sweep failed", cause)))

    yield* Stream.runForEach(runtime.changes, observe).pipe(Effect.forkScoped)
    // Work arrives by nudge (same process) or by polling (other replicas, retries, backoff).
    yield* Queue.take(signal).pipe(
      Effect.timeoutOption(POLL),
      Effect.zipRight(Effect.repeat(runOnce, { while: (n) => n > 0 })),
      Effect.forever,
      Effect.forkScoped
    )
    yield* Effect.schedule(sweep, Schedule.spaced("30 seconds")).pipe(Effect.forever, Effect.forkScoped)
    yield* Effect.logInfo(
      `session runtime: ${runtime.kind}${runtime.kind === "simulated" ? " (no real containers: state changes are simulated)" : ""}`
    )
    return { nudge: Queue.offer(signal, undefined).pipe(Effect.asVoid), runOnce: Effect.asVoid(runOnce) }
  })
)
