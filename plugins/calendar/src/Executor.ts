/**
 * The executor: materializes each enabled schedule's occurrences a short
 * horizon ahead (one row per (schedule, start), so an occurrence exists
 * once), then on every tick claims the due ones with `FOR UPDATE SKIP
 * LOCKED` and launches each exactly once (its state moves off `pending`
 * in the claiming statement), and stops the running ones whose end has come
 * (hibernate or delete, the schedule's `autoStop`). Every outcome is kept
 * on the occurrence (state, session, error) and published.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Events, type SessionControl } from "@streamspace/kernel"
import { Effect, Schema } from "effect"
import { expand } from "./Recurrence.ts"
import { columns, ruleOf, type ScheduleRow } from "./Schedules.ts"

export const OccurrenceState = Schema.Literal(
  "pending",
  "launching",
  "running",
  "failed",
  "missed",
  "stopping",
  "stopped",
  "stop_failed",
  "cancelled"
)

export const Triggered = Events.define(
  "calendar.schedule.triggered",
  Schema.Struct({
    scheduleId: Schema.String,
    occurrenceId: Schema.String,
    userId: Schema.String,
    startsAt: Schema.String,
    outcome: Schema.Literal("launched", "failed", "missed"),
    sessionId: Schema.NullOr(Schema.String),
    error: Schema.NullOr(Schema.String)
  }),
  "A scheduled session's occurrence came due: launched, failed to launch (error), or missed (its end passed first)."
)

export const OccurrenceStopped = Events.define(
  "calendar.occurrence.stopped",
  Schema.Struct({
    scheduleId: Schema.String,
    occurrenceId: Schema.String,
    userId: Schema.String,
    sessionId: Schema.String,
    action: Schema.Literal("hibernate", "delete", "none"),
    outcome: Schema.Literal("stopped", "failed"),
    error: Schema.NullOr(Schema.String)
  }),
  "A scheduled session reached its end and was hibernated or deleted (or that failed)."
)

/** Launches a session for the schedule's user, as that user (their quotas and hooks apply), through the platform. */
export const launchSession = (
  sessions: SessionControl["Type"],
  userId: string,
  templateId: string
): Effect.Effect<string, { readonly message: string; readonly status?: number }> =>
  Effect.map(sessions.create(userId, { templateId }), (s) => s.id)

const stopSession = (
  sessions: SessionControl["Type"],
  action: "hibernate" | "delete",
  sessionId: string
): Effect.Effect<void, { readonly message: string; readonly status?: number }> =>
  Effect.asVoid(action === "hibernate" ? sessions.hibernate(sessionId) : sessions.delete(sessionId))

interface OccurrenceRow {
  readonly id: string
  readonly schedule_id: string
  readonly user_id: string
  readonly starts_at: Date
  readonly session_id: string | null
}

export const makeExecutor = (
  sql: SqlClient.SqlClient,
  sessions: SessionControl["Type"],
  events: Events["Type"],
  horizonDays: number
) => {
  /** Rows for the schedule's occurrences that may need launching within the horizon (existing ones kept). */
  const materializeOne = (row: ScheduleRow, now: number): Effect.Effect<void, SqlError> =>
    Effect.gen(function* () {
      if (!row.enabled || row.deleted_at !== null) return
      const to = now + (horizonDays * 1440 + row.pre_warm_minutes) * 60_000
      for (const i of expand(ruleOf(row), now, to)) {
        const launchAt = new Date(i.start - row.pre_warm_minutes * 60_000)
        yield* sql`INSERT INTO occurrences (id, schedule_id, user_id, starts_at, ends_at, launch_at)
          VALUES (${crypto.randomUUID()}, ${row.id}, ${row.user_id}, ${new Date(i.start)}, ${new Date(i.end)}, ${launchAt})
          ON CONFLICT (schedule_id, starts_at) DO NOTHING`
      }
    })

  /** After a change: pending occurrences of the old rule go, the new rule's come. */
  const reschedule = (row: ScheduleRow, now: number): Effect.Effect<void, SqlError> =>
    Effect.gen(function* () {
      yield* sql`DELETE FROM occurrences WHERE schedule_id = ${row.id} AND state = 'pending'`
      yield* materializeOne(row, now)
    })

  const materialize = (now: number) =>
    Effect.gen(function* () {
      const rows = yield* sql<ScheduleRow>`SELECT ${sql.literal(columns)} FROM schedules
        WHERE enabled AND deleted_at IS NULL`
      for (const row of rows) yield* materializeOne(row, now)
    })

  const launchDue = (at: Date) =>
    Effect.gen(function* () {
      const missed = yield* sql<OccurrenceRow>`UPDATE occurrences SET state = 'missed'
        WHERE state = 'pending' AND ends_at <= ${at}
        RETURNING id, schedule_id, user_id, starts_at, session_id`
      for (const o of missed)
        yield* events.publish(Triggered, {
          scheduleId: o.schedule_id,
          occurrenceId: o.id,
          userId: o.user_id,
          startsAt: o.starts_at.toISOString(),
          outcome: "missed",
          sessionId: null,
          error: null
        })
      // Claimed and moved off `pending` in one statement: another replica or a later tick never sees them again.
      const due = yield* sql<OccurrenceRow & { readonly template_id: string }>`
        WITH claimed AS (
          UPDATE occurrences SET state = 'launching', launched_at = ${at}
          WHERE id IN (SELECT id FROM occurrences WHERE state = 'pending' AND launch_at <= ${at}
                       ORDER BY launch_at LIMIT 100 FOR UPDATE SKIP LOCKED)
          RETURNING id, schedule_id, user_id, starts_at, session_id)
        SELECT c.id, c.schedule_id, c.user_id, c.starts_at, c.session_id, s.template_id
        FROM claimed c JOIN schedules s ON s.id = c.schedule_id ORDER BY c.starts_at`
      for (const o of due) {
        const outcome = yield* Effect.either(launchSession(sessions, o.user_id, o.template_id))
        if (outcome._tag === "Right")
          yield* sql`UPDATE occurrences SET state = 'running', session_id = ${outcome.right} WHERE id = ${o.id}`
        else yield* sql`UPDATE occurrences SET state = 'failed', error = ${outcome.left.message} WHERE id = ${o.id}`
        yield* events.publish(Triggered, {
          scheduleId: o.schedule_id,
          occurrenceId: o.id,
          userId: o.user_id,
          startsAt: o.starts_at.toISOString(),
          outcome: outcome._tag === "Right" ? ("launched" as const) : ("failed" as const),
          sessionId: outcome._tag === "Right" ? outcome.right : null,
          error: outcome._tag === "Left" ? outcome.left.message : null
        })
      }
    })

  const stopEnded = (at: Date) =>
    Effect.gen(function* () {
      const ending = yield* sql<OccurrenceRow & { readonly auto_stop: "hibernate" | "delete" | "none" }>`
        WITH claimed AS (
          UPDATE occurrences SET state = 'stopping'
          WHERE id IN (SELECT id FROM occurrences WHERE state = 'running' AND ends_at <= ${at}
                       ORDER BY ends_at LIMIT 100 FOR UPDATE SKIP LOCKED)
          RETURNING id, schedule_id, user_id, starts_at, session_id)
        SELECT c.id, c.schedule_id, c.user_id, c.starts_at, c.session_id, s.auto_stop
        FROM claimed c JOIN schedules s ON s.id = c.schedule_id`
      for (const o of ending) {
        const sessionId = o.session_id ?? ""
        const outcome =
          o.auto_stop === "none"
            ? { _tag: "Right" as const }
            : yield* Effect.either(stopSession(sessions, o.auto_stop, sessionId))
        // A session that already ended (409) needs no stopping.
        const ok = outcome._tag === "Right" || outcome.left.status === 409
        const error = outcome._tag === "Left" ? outcome.left.message : null
        yield* sql`UPDATE occurrences SET state = ${ok ? "stopped" : "stop_failed"}, stopped_at = ${at}, error = ${error}
          WHERE id = ${o.id}`
        yield* events.publish(OccurrenceStopped, {
          scheduleId: o.schedule_id,
          occurrenceId: o.id,
          userId: o.user_id,
          sessionId,
          action: o.auto_stop,
          outcome: ok ? ("stopped" as const) : ("failed" as const),
          error
        })
      }
    })

  const tick = (now: number) =>
    Effect.gen(function* () {
      yield* materialize(now)
      yield* launchDue(new Date(now))
      yield* stopEnded(new Date(now))
    })

  return { materializeOne, reschedule, tick }
}
