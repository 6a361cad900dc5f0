/**
 * Drives sessions towards what users asked for, outside request
 * transactions. It claims sessions needing a runtime command (with a lease,
 * so API replicas never act on one session together), retries retryable
 * runtime errors with backoff and fails the session after the last attempt,
 * applies what the runtime observed (each change in its own transaction
 * with its event), hibernates idle sessions and fails sessions stuck pending.
 */
import { SqlClient } from "@effect/sql"
import { Clock, Context, Duration, Effect, Layer, Queue, Schedule, Stream } from "effect"
import { CurrentActor, system } from "../Actor.ts"
import type { CoreEventType } from "../events/CoreEvents.ts"
import { EventOutbox } from "../events/EventOutbox.ts"
import { HookRunner } from "../hooks/HookRunner.ts"
import { ServerConfig } from "../ServerConfig.ts"
import type { SessionState } from "./SessionModel.ts"
import * as SessionRepo from "./SessionRepo.ts"
import { type ObservedStatus, type RuntimeError, SessionRuntime } from "./SessionRuntime.ts"
import { now } from "../Timestamps.ts"

export class SessionOrchestrator extends Context.Tag("@streamspace/core/SessionOrchestrator")<SessionOrchestrator, {
  /** Asks for a pass soon (after a request committed new intent). */
  readonly nudge: Effect.Effect<void>
  /** One pass now: claim and act on pending work (tests and shutdown use it). */
  readonly runOnce: Effect.Effect<void>
}>() {}

const MAX_ATTEMPTS = 5
const LEASE = Duration.seconds(60)
const POLL = Duration.seconds(1)

const backoff = (attempt: number) => Math.min(30_000, 1000 * 2 ** (attempt - 1))

const eventOf: Partial<Record<`${SessionState}>${SessionState}`, CoreEventType>> = {
  "pending>running": "session.started",
  "hibernated>running": "session.woken",
  "running>hibernated": "session.hibernated"
}

export const SessionOrchestratorLive = Layer.scoped(
  SessionOrchestrator,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* SessionRepo.make
    const runtime = yield* SessionRuntime
    const outbox = yield* EventOutbox
    const hooks = yield* HookRunner
    const config = yield* ServerConfig
    const signal = yield* Queue.sliding<void>(1)

    const publish = (type: CoreEventType, row: { id: string; user_id: string; template_id: string }, state: SessionState, reason?: string) =>
      outbox.publish(type as "session.started", {
        sessionId: row.id,
        userId: row.user_id,
        templateId: row.template_id,
        state,
        ...(reason ? { reason } : {})
      }).pipe(Effect.provideService(CurrentActor, system("sessions")))

    /** Moves a session and writes its event in one transaction; no-op if it already moved. */
    const move = (t: SessionRepo.Transition, event?: (prev: SessionState) => CoreEventType | undefined) =>
      sql.withTransaction(Effect.gen(function*() {
        const prev = yield* repo.transition(t)
        if (prev === undefined) return
        const type = event ? event(prev) : eventOf[`${prev}>${t.to}`]
        if (!type) return
        const rows = yield* sql<{ id: string; user_id: string; template_id: string }>`SELECT id, user_id, template_id FROM sessions WHERE id = ${t.id}`
        if (rows[0]) yield* publish(type, rows[0], t.to, t.reason ?? undefined)
      }))

    const fail = (id: string, reason: string) =>
      Effect.flatMap(now, (at) => move({ id, from: ["pending", "running", "hibernated"], to: "failed", reason, at }, () => "session.failed"))

    const command = (row: SessionRepo.SessionRow) =>
      Effect.gen(function*() {
        if (row.desired === "terminated") {
          yield* runtime.remove(row.id)
          const at = yield* now
          return yield* move({ id: row.id, from: ["pending", "running", "hibernated"], to: "terminated", desired: ["terminated"], endpoint: null, at }, () => "session.deleted")
        }
        if (row.state === "pending") {
          const placement = yield* hooks.run("session.placement", { sessionId: row.id, userId: row.user_id, nodeSelector: {} }).pipe(
            Effect.catchTag("Forbidden", (e) => Effect.zipRight(fail(row.id, `placement refused: ${e.message}`), Effect.fail("handled" as const)))
          )
          const template = (yield* sql<{ image: string; ports: ReadonlyArray<number>; env: Record<string, string>; vnc_port: number; name: string }>`
            SELECT image, ports, env, vnc_port, name FROM templates WHERE id = ${row.template_id}`)[0]
          const user = (yield* sql<{ username: string }>`SELECT username FROM users WHERE id = ${row.user_id}`)[0]
          if (!template || !user) return yield* fail(row.id, "template or user no longer exists")
          yield* runtime.create({
            sessionId: row.id,
            userId: row.user_id,
            username: user.username,
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
        } else if (row.desired === "hibernated") {
          yield* runtime.hibernate(row.id)
        } else if (row.desired === "running") {
          yield* runtime.wake(row.id)
        }
        yield* repo.submitted(row.id, row.desired)
      }).pipe(
        Effect.catchTag("RuntimeError", (e: RuntimeError) =>
          Effect.gen(function*() {
            const attempts = row.attempts + 1
            if (!e.retryable || attempts >= MAX_ATTEMPTS) {
              if (row.desired === "terminated") {
                // The workload may be gone already; the user asked for it to end, so end the record.
                const at = yield* now
                return yield* move({ id: row.id, from: ["pending", "running", "hibernated"], to: "terminated", desired: ["terminated"], reason: `runtime: ${e.message}`, at }, () => "session.deleted")
              }
              return yield* fail(row.id, `${e.operation} failed after ${attempts} attempt(s): ${e.message}`)
            }
            yield* Effect.logWarning(`session ${row.id}: ${e.operation} failed (attempt ${attempts}), retrying`, e.message)
            yield* repo.retryLater(row.id, attempts, new Date((yield* Clock.currentTimeMillis) + backoff(attempts)))
          })
        ),
        Effect.catchAll((e) => (e === "handled" ? Effect.void : Effect.logError(`session ${row.id}: orchestration failed`, e)))
      )

    const runOnce = Effect.gen(function*() {
      const at = yield* now
      const claimed = yield* repo.claim(at, new Date(at.getTime() + Duration.toMillis(LEASE)), 20)
      yield* Effect.forEach(claimed, command, { concurrency: 4, discard: true })
      return claimed.length
    }).pipe(Effect.catchAllCause((cause) => Effect.as(Effect.logError("session orchestration pass failed", cause), 0)))

    const observe = (status: ObservedStatus) =>
      Effect.gen(function*() {
        const at = yield* now
        const endpoint = status.endpoint ? `${status.endpoint.host}:${status.endpoint.port}` : undefined
        switch (status.state) {
          case "running":
            return yield* move({ id: status.sessionId, from: ["pending", "hibernated"], to: "running", desired: ["running"], ...(endpoint ? { endpoint } : {}), at })
          case "hibernated":
            return yield* move({ id: status.sessionId, from: ["running"], to: "hibernated", desired: ["hibernated"], endpoint: null, at })
          case "failed":
            return yield* fail(status.sessionId, status.reason ?? "the runtime reported a failure")
          case "terminated":
            return yield* move({ id: status.sessionId, from: ["pending", "running", "hibernated"], to: "terminated", desired: ["running", "hibernated"], reason: status.reason ?? "stopped by the runtime", endpoint: null, at }, () => "session.stopped")
          case "pending":
            return
        }
      }).pipe(Effect.catchAllCause((cause) => Effect.logError(`applying runtime status of ${status.sessionId} failed`, cause)))

    const sweep = Effect.gen(function*() {
      const at = yield* now
      const idleBefore = new Date(at.getTime() - config.sessions.idleTimeoutSeconds * 1000)
      const idle = yield* repo.idle(idleBefore)
      for (const { id } of idle) yield* repo.setDesired(id, "hibernated", ["running"], at)
      const stuck = yield* repo.stuckPending(new Date(at.getTime() - config.sessions.startTimeoutSeconds * 1000))
      for (const { id } of stuck) yield* fail(id, `the runtime did not start the session within ${config.sessions.startTimeoutSeconds} s`)
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
    yield* Effect.logInfo(`session runtime: ${runtime.kind}${runtime.kind === "simulated" ? " (no real containers: state changes are simulated)" : ""}`)
    return { nudge: Queue.offer(signal, undefined).pipe(Effect.asVoid), runOnce: Effect.asVoid(runOnce) }
  })
)
