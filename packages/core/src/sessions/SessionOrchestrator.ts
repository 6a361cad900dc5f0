/**
 * Drives sessions towards what users asked for, outside request
 * transactions. A request that records new intent takes the session's lease
 * in its own write and hands the session over after its commit, so this
 * replica acts on it without claiming it; sessions of other replicas whose
 * lease ran out, retries and idle hibernations are claimed (with a lease, so
 * API replicas never act on one session together). Runtime errors are
 * retried with backoff and fail the session after the last attempt. What the
 * runtime observed is applied as one conditional statement that writes the
 * transition's event too. A command that went through is marked submitted
 * only if the runtime has not reported within `SUBMIT_GRACE_MS` (its
 * transition clears the lease anyway), so a session's row is written once per
 * real transition. Idle sessions hibernate and sessions stuck pending fail.
 */
import { Clock, Context, Duration, Effect, Layer, Option, Queue, Schedule, Stream } from "effect"
import { EventOutbox } from "../events/EventOutbox.ts"
import { HookRunner } from "../hooks/HookRunner.ts"
import { isSqlError } from "../Infrastructure.ts"
import { ServerConfig } from "../ServerConfig.ts"
import { now } from "../Timestamps.ts"
import {
  afterRuntimeError,
  commandFor,
  ended,
  eventsOf,
  failed,
  leaseFrom,
  type Move,
  observed,
  SUBMIT_GRACE_MS,
  sweepCutoffs
} from "./SessionLifecycle.ts"
import { type LeasedSession, SessionRepo, type Submitted } from "./SessionRepo.ts"
import { type ObservedStatus, type RuntimeError, SessionRuntime } from "./SessionRuntime.ts"

export class SessionOrchestrator extends Context.Tag("@streamspace/core/SessionOrchestrator")<
  SessionOrchestrator,
  {
    /** Asks for a claiming pass soon (intent whose lease another command held, idle sessions). */
    readonly nudge: Effect.Effect<void>
    /** Acts on a session whose lease a request of this replica took in its write (after its commit). */
    readonly handOff: (session: LeasedSession) => Effect.Effect<void>
    /**
     * The lease of this replica's command on session `id` if the command went through and waits for the
     * runtime's report: new intent may take that lease over.
     */
    readonly releasable: (id: string) => Effect.Effect<Date | undefined>
    /** One pass now: act on handed-over sessions, then claim and act on pending work (tests and shutdown use it). */
    readonly runOnce: Effect.Effect<void>
  }
>() {}

const POLL = Duration.seconds(1)
const CLAIM_BATCH = 20

/**
 * A nudge waits this long (wall time: a simulated clock that tests move by hand must not hold it) for the
 * rest of its burst, so that a burst of nudges shares one claim. Hand-overs need no claim and do not wait.
 */
const restOfBurst = Effect.sleep(Duration.millis(5)).pipe(Effect.withClock(Clock.make()))

export const SessionOrchestratorLive = Layer.scoped(
  SessionOrchestrator,
  Effect.gen(function* () {
    const repo = yield* SessionRepo
    const runtime = yield* SessionRuntime
    const outbox = yield* EventOutbox
    const hooks = yield* HookRunner
    const config = yield* ServerConfig
    const signal = yield* Queue.sliding<void>(1)
    /** Sessions handed over by requests, acted on at the next pass: a burst shares one. */
    const handed = new Map<string, LeasedSession>()
    /** Commands that went through, waiting for the runtime's report (or for `SUBMIT_GRACE_MS`). */
    const awaiting = new Map<string, Submitted & { readonly since: number }>()
    let claimWanted = false
    let lastClaim = 0

    /** Moves sessions and writes their events, in one statement for all; a session that already moved is left. */
    const moveAll = (ids: ReadonlyArray<string>, m: Move, at: Date) =>
      Effect.gen(function* () {
        const landed = yield* repo.transition(ids, { ...m.transition, at }, eventsOf(m))
        for (const { id } of landed) awaiting.delete(id)
        if (landed.some((l) => l.evented)) yield* outbox.written
      })
    const move = (id: string, m: Move, at: Date) => moveAll([id], m, at)

    const fail = (id: string, reason: string) => Effect.flatMap(now, (at) => move(id, failed(reason), at))

    /** Marks the commands waiting since `before` (ms) as submitted, in one statement. */
    const markSubmitted = (before: number) =>
      Effect.suspend(() => {
        const due = [...awaiting.values()].filter((c) => c.since <= before)
        for (const c of due) awaiting.delete(c.id)
        return repo.submitted(due.map(({ id, desired, leaseUntil }) => ({ id, desired, leaseUntil })))
      })

    /**
     * The node selector the `session.placement` hooks choose for `row`, at creation and at each wake (the
     * same input both times). A refusal fails the session; the caller stops with "handled".
     */
    const place = (row: LeasedSession) =>
      hooks
        .run("session.placement", {
          sessionId: row.id,
          userId: row.user_id,
          cpu: row.cpu,
          memory: row.memory,
          nodeSelector: {}
        })
        .pipe(
          Effect.map((placement) => placement.nodeSelector),
          Effect.catchTag("Forbidden", (e) =>
            Effect.zipRight(fail(row.id, `placement refused: ${e.message}`), Effect.fail("handled" as const))
          )
        )

    /**
     * Sends the runtime the command `row` needs. A removal that went through answers the session's id: the
     * caller ends every such session of its batch in one statement. Failures are handled here.
     */
    const command = (row: LeasedSession): Effect.Effect<string | undefined> =>
      Effect.gen(function* () {
        const next = commandFor(row)
        if (next === "remove") {
          yield* runtime.remove(row.id)
          return row.id
        }
        if (next === "create") {
          const nodeSelector = yield* place(row)
          yield* runtime.create({
            sessionId: row.id,
            userId: row.user_id,
            username: row.username,
            templateName: row.template_name,
            image: row.image,
            cpu: row.cpu,
            memory: row.memory,
            vncPort: row.vnc_port,
            ports: row.ports,
            env: row.env,
            persistentHome: row.persistent_home,
            nodeSelector
          })
        } else if (next === "hibernate") {
          yield* runtime.hibernate(row.id)
        } else if (next === "wake") {
          // The node chosen at creation may be cordoned, drained, gone or full by now: choose again.
          yield* runtime.wake(row.id, { nodeSelector: yield* place(row) })
        }
        const since = yield* Clock.currentTimeMillis
        awaiting.set(row.id, { id: row.id, desired: row.desired, leaseUntil: row.lease_until, since })
        return undefined
      }).pipe(
        Effect.catchTag("RuntimeError", (e: RuntimeError) =>
          Effect.gen(function* () {
            const outcome = afterRuntimeError(row, e)
            switch (outcome._tag) {
              case "End":
                return yield* Effect.as(move(row.id, ended(outcome.reason), yield* now), undefined)
              case "Fail":
                return yield* Effect.as(fail(row.id, outcome.reason), undefined)
              case "Retry":
                yield* Effect.logWarning(
                  `session ${row.id}: ${e.operation} failed (attempt ${outcome.attempts}), retrying`,
                  e.message
                )
                yield* repo.retryLater(
                  row.id,
                  outcome.attempts,
                  new Date((yield* Clock.currentTimeMillis) + outcome.delayMs)
                )
                return undefined
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
        ),
        Effect.map((removed) => (typeof removed === "string" ? removed : undefined))
      )

    /** Commands for a batch of sessions; the removed ones end together. */
    const act = (rows: ReadonlyArray<LeasedSession>) =>
      Effect.gen(function* () {
        if (rows.length === 0) return
        const removed = (yield* Effect.forEach(rows, command, { concurrency: 4 })).filter(
          (id): id is string => id !== undefined
        )
        if (removed.length > 0) yield* moveAll(removed, ended(), yield* now)
      }).pipe(
        Effect.catchSomeDefect((defect) =>
          isSqlError(defect)
            ? Option.some(Effect.logError("ending removed sessions failed (they are claimed again)", defect))
            : Option.none()
        )
      )

    const actOnHanded = Effect.suspend(() => {
      const sessions = [...handed.values()]
      handed.clear()
      return act(sessions)
    })

    const claimOnce = Effect.gen(function* () {
      const at = yield* now
      // First, so that a lease whose command went through is released before anyone could claim it.
      yield* markSubmitted(at.getTime() - SUBMIT_GRACE_MS)
      const claimed = yield* repo.claim(at, leaseFrom(at), CLAIM_BATCH)
      yield* act(claimed)
      return claimed.length
    }).pipe(Effect.catchAllCause((cause) => Effect.as(Effect.logError("session orchestration pass failed", cause), 0)))

    const claimAll = Effect.zipRight(
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        Effect.sync(() => {
          claimWanted = false
          lastClaim = at
        })
      ),
      Effect.repeat(claimOnce, { while: (n) => n > 0 })
    )

    /** Handed-over sessions need no claim; a claim runs when asked for, and at least every POLL. */
    const pass = (polled: boolean) =>
      Effect.gen(function* () {
        if (claimWanted) yield* restOfBurst
        yield* actOnHanded
        const at = yield* Clock.currentTimeMillis
        if (polled || claimWanted || at - lastClaim >= Duration.toMillis(POLL)) yield* claimAll
      })

    const observe = (status: ObservedStatus) =>
      Effect.gen(function* () {
        const m = observed(status)
        if (m) yield* move(status.sessionId, m, yield* now)
      }).pipe(
        Effect.catchAllCause((cause) => Effect.logError(`applying runtime status of ${status.sessionId} failed`, cause))
      )

    const wakeUp = Queue.offer(signal, undefined).pipe(Effect.asVoid)

    const sweep = Effect.gen(function* () {
      const at = yield* now
      // Stuck sessions are those whose command went through: every command waiting counts.
      yield* markSubmitted(Number.POSITIVE_INFINITY)
      const { idleBefore, stuckBefore } = sweepCutoffs(at, config.sessions)
      const idle = yield* repo.idle(idleBefore)
      for (const { id } of idle) yield* repo.setDesired(id, "hibernated", ["running"], at)
      const stuck = yield* repo.stuckPending(stuckBefore)
      for (const { id } of stuck)
        yield* fail(id, `the runtime did not start the session within ${config.sessions.startTimeoutSeconds} s`)
      if (idle.length > 0) {
        claimWanted = true
        yield* wakeUp
      }
    }).pipe(Effect.catchAllCause((cause) => Effect.logError("session sweep failed", cause)))

    yield* Stream.runForEach(runtime.changes, observe).pipe(Effect.forkScoped)
    // Work arrives by hand-over or nudge (same process) or by polling (other replicas, retries, backoff).
    yield* Queue.take(signal).pipe(
      Effect.timeoutOption(POLL),
      Effect.flatMap((woken) => pass(Option.isNone(woken))),
      Effect.forever,
      Effect.forkScoped
    )
    yield* Effect.schedule(sweep, Schedule.spaced("30 seconds")).pipe(Effect.forever, Effect.forkScoped)
    // Another replica may claim these once their lease runs out: say they went through before leaving.
    yield* Effect.addFinalizer(() =>
      markSubmitted(Number.POSITIVE_INFINITY).pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("marking session commands submitted failed", cause))
      )
    )
    yield* Effect.logInfo(
      `session runtime: ${runtime.kind}${runtime.kind === "simulated" ? " (no real containers: state changes are simulated)" : ""}`
    )
    return {
      nudge: Effect.zipRight(
        Effect.sync(() => {
          claimWanted = true
        }),
        wakeUp
      ),
      handOff: (session) =>
        Effect.zipRight(
          Effect.sync(() => void handed.set(session.id, session)),
          wakeUp
        ),
      releasable: (id) => Effect.sync(() => awaiting.get(id)?.leaseUntil),
      runOnce: Effect.zipRight(actOnHanded, claimAll)
    }
  })
)
