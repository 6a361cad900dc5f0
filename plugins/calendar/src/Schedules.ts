/**
 * Scheduled sessions: the API's input and output, the checks that need
 * more than one field, conflict detection over every occurrence in a
 * window, and the rows.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Text, ValidationError } from "@streamspace/core"
import { Data, Effect, Schema } from "effect"
import { expand, isEmpty, LocalDate, Recurrence, type Rule } from "./Recurrence.ts"
import { isTimeZone, parseLocal } from "./Time.ts"

export const TimeZone = Schema.String.pipe(
  Schema.filter((s) => isTimeZone(s) || "an IANA time zone (Europe/Paris)", { identifier: "TimeZone" })
)
export const LocalStart = Schema.String.pipe(
  Schema.filter((s) => parseLocal(s) !== undefined || "a local date and time YYYY-MM-DDTHH:MM", {
    identifier: "LocalDateTime"
  })
)
export const AutoStop = Schema.Literal("hibernate", "delete", "none")

const fields = {
  name: Text.Short.pipe(Schema.minLength(1)),
  description: Text.Long,
  templateId: Text.Id.pipe(Schema.minLength(1)),
  timeZone: TimeZone,
  /** Wall-clock start of the first occurrence in `timeZone`. */
  start: LocalStart,
  durationMinutes: Schema.Int.pipe(Schema.between(1, 10_080)),
  recurrence: Schema.NullOr(Recurrence),
  /** Local dates without an occurrence (EXDATE). */
  exceptions: Schema.Array(LocalDate).pipe(Schema.maxItems(500)),
  preWarmMinutes: Schema.Int.pipe(Schema.between(0, 240)),
  autoStop: AutoStop,
  enabled: Schema.Boolean
}

export const ScheduleInput = Schema.Struct({
  name: fields.name,
  description: Schema.optionalWith(fields.description, { default: () => "" }),
  templateId: fields.templateId,
  timeZone: fields.timeZone,
  start: fields.start,
  durationMinutes: fields.durationMinutes,
  recurrence: Schema.optionalWith(fields.recurrence, { default: () => null }),
  exceptions: Schema.optionalWith(fields.exceptions, { default: () => [] }),
  preWarmMinutes: Schema.optionalWith(fields.preWarmMinutes, { default: () => 0 }),
  autoStop: Schema.optionalWith(fields.autoStop, { default: () => "hibernate" as const }),
  enabled: Schema.optionalWith(fields.enabled, { default: () => true })
})
export type ScheduleInput = typeof ScheduleInput.Type

export const SchedulePatch = Schema.Struct({
  name: Schema.optional(fields.name),
  description: Schema.optional(fields.description),
  templateId: Schema.optional(fields.templateId),
  timeZone: Schema.optional(fields.timeZone),
  start: Schema.optional(fields.start),
  durationMinutes: Schema.optional(fields.durationMinutes),
  recurrence: Schema.optional(fields.recurrence),
  exceptions: Schema.optional(fields.exceptions),
  preWarmMinutes: Schema.optional(fields.preWarmMinutes),
  autoStop: Schema.optional(fields.autoStop),
  enabled: Schema.optional(fields.enabled)
})

export const Schedule = Schema.Struct({
  id: Schema.String,
  userId: Schema.String,
  ...ScheduleInput.fields,
  name: Schema.String,
  description: Schema.String,
  templateId: Schema.String,
  timeZone: Schema.String,
  start: Schema.String,
  exceptions: Schema.Array(Schema.String),
  sequence: Schema.Number,
  nextOccurrence: Schema.NullOr(Schema.Struct({ start: Schema.Date, end: Schema.Date })),
  createdAt: Schema.Date,
  updatedAt: Schema.Date
})
export type Schedule = typeof Schedule.Type

export interface ScheduleRow {
  readonly id: string
  readonly user_id: string
  readonly template_id: string
  readonly name: string
  readonly description: string
  readonly time_zone: string
  readonly start_local: string
  readonly duration_minutes: number
  readonly recurrence: unknown
  readonly exceptions: ReadonlyArray<string>
  readonly pre_warm_minutes: number
  readonly auto_stop: "hibernate" | "delete" | "none"
  readonly enabled: boolean
  readonly sequence: number
  readonly deleted_at: Date | null
  readonly created_at: Date
  readonly updated_at: Date
}

export const columns = `id, user_id, template_id, name, description, time_zone, start_local, duration_minutes, recurrence,
  exceptions, pre_warm_minutes, auto_stop, enabled, sequence, deleted_at, created_at, updated_at`

const decodeRecurrence = Schema.decodeUnknownSync(Schema.NullOr(Recurrence))

export const ruleOf = (row: ScheduleRow): Rule => ({
  timeZone: row.time_zone,
  start: parseLocal(row.start_local)!,
  durationMinutes: row.duration_minutes,
  recurrence: decodeRecurrence(row.recurrence ?? null),
  exceptions: row.exceptions
})

export const inputOf = (row: ScheduleRow): ScheduleInput => ({
  name: row.name,
  description: row.description,
  templateId: row.template_id,
  timeZone: row.time_zone,
  start: row.start_local,
  durationMinutes: row.duration_minutes,
  recurrence: decodeRecurrence(row.recurrence ?? null),
  exceptions: row.exceptions,
  preWarmMinutes: row.pre_warm_minutes,
  autoStop: row.auto_stop,
  enabled: row.enabled
})

export const toSchedule = (row: ScheduleRow, now: number): Schedule => {
  const [next] = expand(ruleOf(row), now, Number.POSITIVE_INFINITY, 5000).slice(0, 1)
  return {
    id: row.id,
    userId: row.user_id,
    ...inputOf(row),
    sequence: row.sequence,
    nextOccurrence: next ? { start: new Date(next.start), end: new Date(next.end) } : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at
  }
}

const ruleOfInput = (input: ScheduleInput): Rule => ({
  timeZone: input.timeZone,
  start: parseLocal(input.start)!,
  durationMinutes: input.durationMinutes,
  recurrence: input.recurrence,
  exceptions: input.exceptions
})

/** Checks between fields, each failure naming its field. */
export const check = (input: ScheduleInput): Effect.Effect<void, ValidationError> => {
  const r = input.recurrence
  const fail = (path: string, message: string) => Effect.fail(ValidationError.field(path, message))
  if (r?.byDay && r.freq !== "WEEKLY") return fail("body.recurrence.byDay", "only with freq WEEKLY")
  if (r?.byMonthDay && r.freq !== "MONTHLY") return fail("body.recurrence.byMonthDay", "only with freq MONTHLY")
  if (r?.count !== undefined && r.until !== undefined)
    return fail("body.recurrence.until", "COUNT and UNTIL cannot both be set")
  if (r?.until !== undefined && r.until < input.start.slice(0, 10))
    return fail("body.recurrence.until", "before the start date")
  if (!r && input.exceptions.length > 0) return fail("body.exceptions", "only for a recurring schedule")
  if (isEmpty(ruleOfInput(input))) return fail("body.exceptions", "every occurrence is excepted")
  return Effect.void
}

/** Refused: an occurrence would overlap one of the user's other schedules (pre-warm included). */
export class ScheduleConflict extends Data.TaggedError("ScheduleConflict")<{
  readonly message: string
  readonly errors: ReadonlyArray<{ readonly path: string; readonly message: string }>
}> {
  static readonly status = 409
  readonly status = 409
  readonly code = "schedule_conflict"
}

/**
 * The first overlap between the new schedule's occurrences and the user's other enabled schedules within
 * [now, now + windowDays), as a 409 naming `body.start`.
 */
export const checkConflicts = (
  sql: SqlClient.SqlClient,
  userId: string,
  input: ScheduleInput,
  exceptId: string | null,
  now: number,
  windowDays: number
): Effect.Effect<void, ScheduleConflict | SqlError> =>
  Effect.gen(function* () {
    if (!input.enabled) return
    const to = now + windowDays * 86_400_000
    const others = yield* sql<ScheduleRow>`SELECT ${sql.literal(columns)} FROM schedules
      WHERE user_id = ${userId} AND deleted_at IS NULL AND enabled AND id <> ${exceptId ?? ""}`
    const busy = others
      .flatMap((row) =>
        expand(ruleOf(row), now, to).map((i) => ({
          from: i.start - row.pre_warm_minutes * 60_000,
          to: i.end,
          row,
          start: i.start
        }))
      )
      .sort((a, b) => a.from - b.from)
    if (busy.length === 0) return
    for (const i of expand(ruleOfInput(input), now, to)) {
      const from = i.start - input.preWarmMinutes * 60_000
      const hit = busy.find((b) => b.from < i.end && from < b.to)
      if (hit) {
        const message = `the occurrence at ${new Date(i.start).toISOString()} overlaps schedule "${hit.row.name}" (${hit.row.id}) at ${new Date(hit.start).toISOString()}`
        return yield* new ScheduleConflict({
          message: `body.start: ${message}`,
          errors: [{ path: "body.start", message }]
        })
      }
    }
  })

export const merge = (row: ScheduleRow, patch: typeof SchedulePatch.Type): ScheduleInput => ({
  ...inputOf(row),
  ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined))
})
