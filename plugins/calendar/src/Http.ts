/** The calendar's API under /api/plugins/calendar (docs/plugins/calendar.md lists every route). */
import type { SqlClient } from "@effect/sql"
import { Actor, Directory, HttpRoute, NotFound, Text, Timestamps, ValidationError } from "@streamspace/core"
import type { Routes } from "@streamspace/kernel"
import { Effect, Schema } from "effect"
import { createHash, randomBytes } from "node:crypto"
import type { CalendarConfig } from "./Config.ts"
import type { makeExecutor } from "./Executor.ts"
import { OccurrenceState } from "./Executor.ts"
import { calendar, type FeedEvent } from "./ICalendar.ts"
import {
  check,
  checkConflicts,
  columns,
  merge,
  ruleOf,
  Schedule,
  ScheduleConflict,
  ScheduleInput,
  SchedulePatch,
  type ScheduleRow,
  toSchedule
} from "./Schedules.ts"
import {
  BINDING_COOKIE,
  type IntegrationRow,
  type makeSync,
  ProviderError,
  ProviderNotConfigured,
  STATE_TTL_MS
} from "./Sync.ts"

const sha256 = (s: string) => createHash("sha256").update(s).digest("base64url")

const userOf = (actor: Actor.Actor) => Actor.actorId(actor) ?? ""

const Occurrence = Schema.Struct({
  id: Schema.String,
  scheduleId: Schema.String,
  startsAt: Schema.Date,
  endsAt: Schema.Date,
  launchAt: Schema.Date,
  state: OccurrenceState,
  sessionId: Schema.NullOr(Schema.String),
  error: Schema.NullOr(Schema.String),
  launchedAt: Schema.NullOr(Schema.Date),
  stoppedAt: Schema.NullOr(Schema.Date)
})

const Provider = Schema.Literal("google", "microsoft")
const IsoInstant = Schema.compose(Text.make(64), Schema.Date)

export const addRoutes = (deps: {
  readonly sql: SqlClient.SqlClient
  readonly routes: Routes["Type"]
  readonly directory: Directory.Directory["Type"]
  readonly config: CalendarConfig
  readonly executor: ReturnType<typeof makeExecutor>
  readonly sync: ReturnType<typeof makeSync>
}) =>
  Effect.gen(function* () {
    const { sql, routes, directory, config, executor, sync } = deps
    const nowMs = Effect.map(Timestamps.now, (d) => d.getTime())

    const own = (id: string, userId: string) =>
      Effect.flatMap(
        sql<ScheduleRow>`SELECT ${sql.literal(columns)} FROM schedules
          WHERE id = ${id} AND user_id = ${userId} AND deleted_at IS NULL`,
        ([row]) => (row ? Effect.succeed(row) : Effect.fail(new NotFound({ resource: "schedule", id })))
      )

    const checkTemplate = (templateId: string) =>
      Effect.flatMap(Effect.orDie(directory.template(templateId)), (t) =>
        t._tag === "Some" ? Effect.void : Effect.fail(ValidationError.field("body.templateId", "no such template"))
      )

    const origin = (request: Request) =>
      (config.publicUrl !== "" ? config.publicUrl : new URL(request.url).origin).replace(/\/+$/, "")
    const redirectUri = (request: Request) => `${origin(request)}/api/plugins/calendar/oauth/callback`

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/schedules",
        summary: "Your scheduled sessions",
        permission: "calendar:read",
        response: Schema.Struct({ items: Schema.Array(Schedule) }),
        handler: ({ actor }) =>
          Effect.gen(function* () {
            const now = yield* nowMs
            const rows = yield* sql<ScheduleRow>`SELECT ${sql.literal(columns)} FROM schedules
              WHERE user_id = ${userOf(actor)} AND deleted_at IS NULL ORDER BY created_at, id`
            return { items: rows.map((r) => toSchedule(r, now)) }
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/schedules",
        summary: "Schedule a session: once or recurring (RRULE subset), in a time zone",
        permission: "calendar:write",
        body: ScheduleInput,
        response: Schedule,
        successStatus: 201,
        errors: [ScheduleConflict],
        audit: { action: "calendar.schedule.create", target: (_i, s) => s.id },
        handler: ({ body, actor }) =>
          Effect.gen(function* () {
            const userId = userOf(actor)
            const now = yield* nowMs
            yield* check(body)
            yield* checkTemplate(body.templateId)
            const [{ n }] = (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM schedules
              WHERE user_id = ${userId} AND deleted_at IS NULL`) as unknown as [{ n: number }]
            if (n >= config.maxSchedulesPerUser)
              return yield* ValidationError.field("body", `at most ${config.maxSchedulesPerUser} schedules per user`)
            yield* checkConflicts(sql, userId, body, null, now, config.conflictWindowDays)
            const id = crypto.randomUUID()
            const at = new Date(now)
            const [row] = yield* sql<ScheduleRow>`INSERT INTO schedules (id, user_id, template_id, name, description,
                time_zone, start_local, duration_minutes, recurrence, exceptions, pre_warm_minutes, auto_stop, enabled,
                created_at, updated_at)
              VALUES (${id}, ${userId}, ${body.templateId}, ${body.name}, ${body.description}, ${body.timeZone},
                ${body.start}, ${body.durationMinutes}, ${body.recurrence === null ? null : JSON.stringify(body.recurrence)}::jsonb,
                ${JSON.stringify(body.exceptions)}::jsonb, ${body.preWarmMinutes}, ${body.autoStop}, ${body.enabled}, ${at}, ${at})
              RETURNING ${sql.literal(columns)}`
            yield* executor.reschedule(row!, now)
            return toSchedule(row!, now)
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/schedules/:id",
        summary: "One of your scheduled sessions",
        permission: "calendar:read",
        params: Schema.Struct({ id: Text.Id }),
        response: Schedule,
        errors: [NotFound],
        handler: ({ params, actor }) =>
          Effect.gen(function* () {
            return toSchedule(yield* own(params.id, userOf(actor)), yield* nowMs)
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "PATCH",
        path: "/schedules/:id",
        summary: "Change a scheduled session (pending occurrences follow; synced calendars are updated)",
        permission: "calendar:write",
        params: Schema.Struct({ id: Text.Id }),
        body: SchedulePatch,
        response: Schedule,
        errors: [NotFound, ScheduleConflict],
        audit: { action: "calendar.schedule.update", target: (i) => i.params.id },
        handler: ({ params, body, actor }) =>
          Effect.gen(function* () {
            const userId = userOf(actor)
            const now = yield* nowMs
            const current = yield* own(params.id, userId)
            const next = merge(current, body)
            yield* check(next)
            if (body.templateId !== undefined) yield* checkTemplate(next.templateId)
            yield* checkConflicts(sql, userId, next, current.id, now, config.conflictWindowDays)
            const [row] =
              yield* sql<ScheduleRow>`UPDATE schedules SET template_id = ${next.templateId}, name = ${next.name},
                description = ${next.description}, time_zone = ${next.timeZone}, start_local = ${next.start},
                duration_minutes = ${next.durationMinutes},
                recurrence = ${next.recurrence === null ? null : JSON.stringify(next.recurrence)}::jsonb,
                exceptions = ${JSON.stringify(next.exceptions)}::jsonb, pre_warm_minutes = ${next.preWarmMinutes},
                auto_stop = ${next.autoStop}, enabled = ${next.enabled}, sequence = sequence + 1, updated_at = ${new Date(now)}
              WHERE id = ${current.id} RETURNING ${sql.literal(columns)}`
            yield* executor.reschedule(row!, now)
            return toSchedule(row!, now)
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "DELETE",
        path: "/schedules/:id",
        summary: "Delete a scheduled session (pending occurrences are cancelled; synced events deleted)",
        permission: "calendar:write",
        params: Schema.Struct({ id: Text.Id }),
        errors: [NotFound],
        audit: { action: "calendar.schedule.delete", target: (i) => i.params.id },
        handler: ({ params, actor }) =>
          Effect.gen(function* () {
            const row = yield* own(params.id, userOf(actor))
            const now = new Date(yield* nowMs)
            // Kept as a tombstone until every synced calendar has deleted its copy.
            yield* sql`UPDATE schedules SET deleted_at = ${now}, enabled = false, sequence = sequence + 1, updated_at = ${now}
              WHERE id = ${row.id}`
            yield* sql`UPDATE occurrences SET state = 'cancelled' WHERE schedule_id = ${row.id} AND state = 'pending'`
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/occurrences",
        summary: "Occurrences the executor knows about (launched, failed, pending…), newest first",
        permission: "calendar:read",
        query: Schema.Struct({
          scheduleId: Schema.optional(Text.Id),
          from: Schema.optional(IsoInstant),
          to: Schema.optional(IsoInstant),
          limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500)), {
            default: () => 100
          })
        }),
        response: Schema.Struct({ items: Schema.Array(Occurrence) }),
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const rows = yield* sql<{
              id: string
              schedule_id: string
              starts_at: Date
              ends_at: Date
              launch_at: Date
              state: typeof OccurrenceState.Type
              session_id: string | null
              error: string | null
              launched_at: Date | null
              stopped_at: Date | null
            }>`SELECT id, schedule_id, starts_at, ends_at, launch_at, state, session_id, error, launched_at, stopped_at
              FROM occurrences WHERE user_id = ${userOf(actor)}
              ${query.scheduleId ? sql`AND schedule_id = ${query.scheduleId}` : sql``}
              ${query.from ? sql`AND ends_at > ${query.from}` : sql``}
              ${query.to ? sql`AND starts_at < ${query.to}` : sql``}
              ORDER BY starts_at DESC LIMIT ${query.limit}`
            return {
              items: rows.map((r) => ({
                id: r.id,
                scheduleId: r.schedule_id,
                startsAt: r.starts_at,
                endsAt: r.ends_at,
                launchAt: r.launch_at,
                state: r.state,
                sessionId: r.session_id,
                error: r.error,
                launchedAt: r.launched_at,
                stoppedAt: r.stopped_at
              }))
            }
          })
      })
    )

    // ---- iCalendar ----

    const feedOf = (userId: string, request: Request) =>
      Effect.gen(function* () {
        const rows = yield* sql<ScheduleRow>`SELECT ${sql.literal(columns)} FROM schedules
          WHERE user_id = ${userId} AND deleted_at IS NULL AND enabled ORDER BY created_at, id`
        const events: Array<FeedEvent> = rows.map((r) => ({
          id: r.id,
          rule: ruleOf(r),
          summary: r.name,
          description: r.description,
          sequence: r.sequence,
          updatedAt: r.updated_at,
          cancelled: false
        }))
        const body = calendar("StreamSpace sessions", new URL(origin(request)).host, events, yield* Timestamps.now)
        return body
      })

    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/feed/rotate",
        summary: "A new secret subscribe URL for your calendar feed (the old one stops working); shown once",
        permission: "calendar:write",
        rateLimit: "strict",
        response: Schema.Struct({ url: Schema.String, webcalUrl: Schema.String }),
        audit: { action: "calendar.feed.rotate" },
        handler: ({ actor, request }) =>
          Effect.gen(function* () {
            const token = randomBytes(32).toString("base64url")
            yield* sql`INSERT INTO feed_tokens (user_id, token_hash, created_at)
              VALUES (${userOf(actor)}, ${sha256(token)}, ${yield* Timestamps.now})
              ON CONFLICT (user_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = EXCLUDED.created_at`
            const url = `${origin(request)}/api/plugins/calendar/feeds/${token}/calendar.ics`
            return { url, webcalUrl: url.replace(/^https?:/, "webcal:") }
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/feed",
        summary: "Whether you have a subscribe URL, and since when (the URL itself is shown only when made)",
        permission: "calendar:read",
        response: Schema.Struct({ active: Schema.Boolean, createdAt: Schema.NullOr(Schema.Date) }),
        handler: ({ actor }) =>
          Effect.map(
            sql<{ created_at: Date }>`SELECT created_at FROM feed_tokens WHERE user_id = ${userOf(actor)}`,
            ([row]) => ({ active: row !== undefined, createdAt: row?.created_at ?? null })
          )
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "DELETE",
        path: "/feed",
        summary: "Revoke your subscribe URL",
        permission: "calendar:write",
        audit: { action: "calendar.feed.revoke" },
        handler: ({ actor }) => Effect.asVoid(sql`DELETE FROM feed_tokens WHERE user_id = ${userOf(actor)}`)
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/feeds/:token/calendar.ics",
        summary: "A user's calendar feed (text/calendar) at its secret subscribe URL",
        permission: "public",
        params: Schema.Struct({ token: Text.make(64) }),
        errors: [NotFound],
        handler: ({ params, request }) =>
          Effect.gen(function* () {
            const [row] = yield* sql<{ user_id: string }>`SELECT user_id FROM feed_tokens
              WHERE token_hash = ${sha256(params.token)}`
            if (!row) return yield* new NotFound({ resource: "feed", id: "(secret)", detail: "no such feed" })
            return new Response(yield* feedOf(row.user_id, request), {
              headers: { "content-type": "text/calendar; charset=utf-8", "cache-control": "private, max-age=300" }
            })
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/calendar.ics",
        summary: "Download your scheduled sessions as an iCalendar file",
        permission: "calendar:read",
        handler: ({ actor, request }) =>
          Effect.map(
            feedOf(userOf(actor), request),
            (body) =>
              new Response(body, {
                headers: {
                  "content-type": "text/calendar; charset=utf-8",
                  "content-disposition": 'attachment; filename="streamspace.ics"'
                }
              })
          )
      })
    )

    // ---- Google / Outlook ----

    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/connect/:provider",
        summary: "Start connecting Google Calendar or Outlook: answers the provider's authorization URL",
        permission: "calendar:write",
        rateLimit: "strict",
        params: Schema.Struct({ provider: Provider }),
        errors: [ProviderNotConfigured],
        audit: { action: "calendar.connect" },
        handler: ({ params, actor, request }) =>
          Effect.gen(function* () {
            const started = yield* sync.start(
              userOf(actor),
              params.provider,
              redirectUri(request),
              yield* Timestamps.now
            )
            const secure = origin(request).startsWith("https:") ? "; Secure" : ""
            return new Response(JSON.stringify({ authUrl: started.authUrl }), {
              status: 200,
              headers: {
                "content-type": "application/json",
                // Binds the state to this browser: the callback must come back with it.
                "set-cookie": `${BINDING_COOKIE}=${started.binding}; Path=/api/plugins/calendar/oauth; HttpOnly; SameSite=Lax; Max-Age=${STATE_TTL_MS / 1000}${secure}`
              }
            })
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/oauth/callback",
        summary: "Where Google or Microsoft sends the browser back: takes the state once, stores sealed tokens",
        permission: "public",
        rateLimit: "strict",
        query: Schema.Struct({
          state: Text.make(128).pipe(Schema.minLength(1)),
          code: Schema.optional(Text.make(4096).pipe(Schema.minLength(1))),
          error: Schema.optional(Text.Short)
        }),
        errors: [ProviderError, ProviderNotConfigured],
        audit: { action: "calendar.oauth.callback" },
        handler: ({ query, request }) =>
          Effect.gen(function* () {
            if (query.error !== undefined) return yield* ValidationError.field("query.error", query.error)
            if (query.code === undefined) return yield* ValidationError.field("query.code", "missing")
            const cookie = (request.headers.get("cookie") ?? "")
              .split(";")
              .map((c) => c.trim().split("="))
              .find(([k]) => k === BINDING_COOKIE)?.[1]
            const done = yield* sync.callback({
              state: query.state,
              binding: cookie,
              code: query.code,
              redirectUri: redirectUri(request),
              now: yield* Timestamps.now
            })
            return new Response(null, {
              status: 302,
              headers: {
                location: `/plugins/calendar/schedules?connected=${done.provider}`,
                "set-cookie": `${BINDING_COOKIE}=; Path=/api/plugins/calendar/oauth; HttpOnly; SameSite=Lax; Max-Age=0`
              }
            })
          })
      })
    )

    const Integration = Schema.Struct({
      provider: Provider,
      calendarId: Schema.String,
      connectedAt: Schema.Date,
      lastSyncedAt: Schema.NullOr(Schema.Date),
      lastError: Schema.NullOr(Schema.String)
    })
    const integrationOf = (userId: string, provider: "google" | "microsoft") =>
      Effect.flatMap(
        sql<IntegrationRow>`SELECT * FROM integrations WHERE user_id = ${userId} AND provider = ${provider}`,
        ([row]) => (row ? Effect.succeed(row) : Effect.fail(new NotFound({ resource: "integration", id: provider })))
      )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/integrations",
        summary: "Your connected calendars and their sync status (never tokens)",
        permission: "calendar:read",
        response: Schema.Struct({ items: Schema.Array(Integration) }),
        handler: ({ actor }) =>
          Effect.map(
            sql<IntegrationRow>`SELECT * FROM integrations WHERE user_id = ${userOf(actor)} ORDER BY provider`,
            (rows) => ({
              items: rows.map((r) => ({
                provider: r.provider,
                calendarId: r.calendar_id,
                connectedAt: r.created_at,
                lastSyncedAt: r.last_synced_at,
                lastError: r.last_error
              }))
            })
          )
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/integrations/:provider/sync",
        summary: "Push your schedules to a connected calendar now",
        permission: "calendar:write",
        rateLimit: "strict",
        params: Schema.Struct({ provider: Provider }),
        response: Schema.Struct({ created: Schema.Number, updated: Schema.Number, deleted: Schema.Number }),
        errors: [NotFound, ProviderError, ProviderNotConfigured],
        transactional: false,
        handler: ({ params, actor }) =>
          Effect.gen(function* () {
            const row = yield* integrationOf(userOf(actor), params.provider)
            const now = yield* Timestamps.now
            return yield* sync
              .syncOne(row, now)
              .pipe(Effect.tapError((e) => sql`UPDATE integrations SET last_error = ${e.message} WHERE id = ${row.id}`))
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "DELETE",
        path: "/integrations/:provider",
        summary: "Disconnect a calendar: its mirrored events are deleted and the token revoked",
        permission: "calendar:write",
        params: Schema.Struct({ provider: Provider }),
        errors: [NotFound],
        transactional: false,
        handler: ({ params, actor }) =>
          Effect.gen(function* () {
            const row = yield* integrationOf(userOf(actor), params.provider)
            yield* sync.disconnect(row, yield* Timestamps.now)
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/busy",
        summary: "Busy times from your connected calendars",
        permission: "calendar:read",
        query: Schema.Struct({ from: IsoInstant, to: IsoInstant }),
        response: Schema.Struct({
          items: Schema.Array(Schema.Struct({ provider: Provider, start: Schema.Date, end: Schema.Date }))
        }),
        errors: [ProviderError, ProviderNotConfigured],
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            if (query.to.getTime() <= query.from.getTime())
              return yield* ValidationError.field("query.to", "must be after from")
            if (query.to.getTime() - query.from.getTime() > 62 * 86_400_000)
              return yield* ValidationError.field("query.to", "at most 62 days after from")
            const now = yield* Timestamps.now
            const rows = yield* sql<IntegrationRow>`SELECT * FROM integrations WHERE user_id = ${userOf(actor)}`
            const items: Array<{ provider: "google" | "microsoft"; start: Date; end: Date }> = []
            for (const row of rows)
              for (const b of yield* sync.busy(row, query.from, query.to, now))
                items.push({ provider: row.provider, ...b })
            return { items: items.sort((a, b) => a.start.getTime() - b.start.getTime()) }
          })
      })
    )
  })
