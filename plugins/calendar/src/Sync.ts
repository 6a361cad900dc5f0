/**
 * Google Calendar and Outlook (Microsoft Graph): OAuth 2.0 authorization
 * code flow with PKCE (S256) and a random `state` kept hashed, bound to the
 * browser that asked (a cookie whose hash is stored with it), single use
 * and expiring after ten minutes; tokens sealed at rest (AES-256-GCM) and
 * refreshed before expiry; schedules pushed as recurring events (created,
 * patched when the schedule's sequence moved, deleted with it) and busy
 * times read back. Base URLs come from the config, so tests point them at
 * stand-ins on 127.0.0.1.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { SecretBox, ValidationError } from "@streamspace/core"
import { Data, Effect } from "effect"
import { createHash, randomBytes } from "node:crypto"
import type { CalendarConfig } from "./Config.ts"
import { localStamp, toRRule, weekdayName, weekdayOfLocal } from "./Recurrence.ts"
import { columns, ruleOf, type ScheduleRow } from "./Schedules.ts"
import { formatDate, fromFloating, offsetMinutes, utcOf } from "./Time.ts"

export type ProviderId = "google" | "microsoft"
export const providers: ReadonlyArray<ProviderId> = ["google", "microsoft"]

/** A provider refused or could not be reached; never carries tokens or the request. */
export class ProviderError extends Data.TaggedError("ProviderError")<{ readonly message: string }> {
  static readonly status = 502
  readonly status = 502
  readonly code = "calendar_provider_error"
}

export class ProviderNotConfigured extends Data.TaggedError("ProviderNotConfigured")<{ readonly message: string }> {
  static readonly status = 503
  readonly status = 503
  readonly code = "calendar_provider_not_configured"
}

export const STATE_TTL_MS = 10 * 60_000
export const BINDING_COOKIE = "streamspace_calendar_oauth"

const sha256 = (s: string) => createHash("sha256").update(s).digest("base64url")
const random = () => randomBytes(32).toString("base64url")

export interface IntegrationRow {
  readonly id: string
  readonly user_id: string
  readonly provider: ProviderId
  readonly access_token_sealed: string
  readonly refresh_token_sealed: string | null
  readonly expires_at: Date | null
  readonly calendar_id: string
  readonly last_synced_at: Date | null
  readonly last_error: string | null
  readonly created_at: Date
}

type Box = ReturnType<typeof SecretBox.make>

export const makeSync = (deps: {
  readonly sql: SqlClient.SqlClient
  readonly http: HttpClient.HttpClient
  readonly config: CalendarConfig
  readonly box: Box
}) => {
  const { sql, http, config, box } = deps
  const settings = (p: ProviderId) => {
    const c = p === "google" ? config.google : config.microsoft
    const secret = p === "google" ? config.googleClientSecret : config.microsoftClientSecret
    return { ...c, secret }
  }
  const configured = (p: ProviderId) =>
    settings(p).clientId === "" || settings(p).secret === undefined
      ? Effect.fail(new ProviderNotConfigured({ message: `${p}: no OAuth client id and secret are configured` }))
      : Effect.succeed(settings(p))

  const call = (
    method: "GET" | "POST" | "PATCH" | "DELETE",
    url: string,
    options: { readonly token?: string; readonly json?: unknown; readonly form?: Record<string, string> }
  ) =>
    Effect.gen(function* () {
      const base = HttpClientRequest.make(method)(url)
      const request = base.pipe(
        HttpClientRequest.setHeaders({
          accept: "application/json",
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {})
        }),
        options.form
          ? HttpClientRequest.bodyText(
              new URLSearchParams(options.form).toString(),
              "application/x-www-form-urlencoded"
            )
          : options.json !== undefined
            ? HttpClientRequest.bodyText(JSON.stringify(options.json), "application/json")
            : (r) => r
      )
      const answer = yield* http.execute(request).pipe(
        Effect.flatMap((res) => Effect.map(res.text, (text) => ({ status: res.status, text }))),
        Effect.scoped,
        Effect.mapError(() => new ProviderError({ message: `could not reach ${new URL(url).host}` }))
      )
      let body: Record<string, unknown> = {}
      try {
        const parsed: unknown = answer.text ? JSON.parse(answer.text) : {}
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed as Record<string, unknown>
      } catch {
        body = {}
      }
      return { status: answer.status, body }
    })

  const str = (v: unknown) => (typeof v === "string" ? v : undefined)

  /** The authorization URL, and the browser binding to set as a cookie. */
  const start = (userId: string, provider: ProviderId, redirectUri: string, now: Date) =>
    Effect.gen(function* () {
      const p = yield* configured(provider)
      const state = random()
      const binding = random()
      const verifier = random()
      yield* sql`DELETE FROM oauth_states WHERE expires_at < ${now}`
      yield* sql`INSERT INTO oauth_states (state_hash, binding_hash, user_id, provider, verifier_sealed, expires_at)
        VALUES (${sha256(state)}, ${sha256(binding)}, ${userId}, ${provider}, ${box.seal(verifier)},
                ${new Date(now.getTime() + STATE_TTL_MS)})`
      const url = new URL(p.authUrl)
      url.search = new URLSearchParams({
        response_type: "code",
        client_id: p.clientId,
        redirect_uri: redirectUri,
        scope: p.scope,
        state,
        code_challenge: createHash("sha256").update(verifier).digest("base64url"),
        code_challenge_method: "S256",
        ...(provider === "google" ? { access_type: "offline", prompt: "consent" } : {})
      }).toString()
      return { authUrl: url.toString(), binding }
    })

  const tokensFrom = (body: Record<string, unknown>, now: Date) => {
    const access = str(body.access_token)
    const expiresIn = typeof body.expires_in === "number" ? body.expires_in : undefined
    return {
      access,
      refresh: str(body.refresh_token),
      expiresAt: expiresIn === undefined ? null : new Date(now.getTime() + expiresIn * 1000)
    }
  }

  /** Takes the state (once), checks its binding and expiry, exchanges the code, stores the sealed tokens. */
  const callback = (input: {
    readonly state: string
    readonly binding: string | undefined
    readonly code: string
    readonly redirectUri: string
    readonly now: Date
  }) =>
    Effect.gen(function* () {
      const [taken] = yield* sql<{
        user_id: string
        provider: ProviderId
        binding_hash: string
        verifier_sealed: string
        expires_at: Date
      }>`UPDATE oauth_states SET used_at = ${input.now}
        WHERE state_hash = ${sha256(input.state)} AND used_at IS NULL
        RETURNING user_id, provider, binding_hash, verifier_sealed, expires_at`
      if (!taken) return yield* ValidationError.field("query.state", "unknown or already used")
      if (taken.expires_at.getTime() <= input.now.getTime())
        return yield* ValidationError.field("query.state", "expired")
      if (input.binding === undefined || sha256(input.binding) !== taken.binding_hash)
        return yield* ValidationError.field("query.state", "not issued to this browser")
      const p = yield* configured(taken.provider)
      const answer = yield* call("POST", p.tokenUrl, {
        form: {
          grant_type: "authorization_code",
          code: input.code,
          redirect_uri: input.redirectUri,
          client_id: p.clientId,
          client_secret: p.secret ?? "",
          code_verifier: box.open(taken.verifier_sealed)
        }
      })
      const tokens = tokensFrom(answer.body, input.now)
      if (answer.status !== 200 || !tokens.access)
        return yield* new ProviderError({
          message: `${taken.provider} refused the authorization code (${answer.status})`
        })
      const id = crypto.randomUUID()
      yield* sql`INSERT INTO integrations (id, user_id, provider, access_token_sealed, refresh_token_sealed, expires_at,
          calendar_id, created_at)
        VALUES (${id}, ${taken.user_id}, ${taken.provider}, ${box.seal(tokens.access)},
          ${tokens.refresh ? box.seal(tokens.refresh) : null}, ${tokens.expiresAt},
          ${taken.provider === "google" ? "primary" : "calendar"}, ${input.now})
        ON CONFLICT (user_id, provider) DO UPDATE SET access_token_sealed = EXCLUDED.access_token_sealed,
          refresh_token_sealed = COALESCE(EXCLUDED.refresh_token_sealed, integrations.refresh_token_sealed),
          expires_at = EXCLUDED.expires_at, last_error = NULL`
      return { userId: taken.user_id, provider: taken.provider }
    })

  /** A valid access token, refreshed (and stored) when it expires within a minute. */
  const accessToken = (row: IntegrationRow, now: Date) =>
    Effect.gen(function* () {
      if (row.expires_at === null || row.expires_at.getTime() > now.getTime() + 60_000)
        return box.open(row.access_token_sealed)
      if (row.refresh_token_sealed === null)
        return yield* new ProviderError({ message: `${row.provider}: the token expired and there is no refresh token` })
      const p = yield* configured(row.provider)
      const answer = yield* call("POST", p.tokenUrl, {
        form: {
          grant_type: "refresh_token",
          refresh_token: box.open(row.refresh_token_sealed),
          client_id: p.clientId,
          client_secret: p.secret ?? ""
        }
      })
      const tokens = tokensFrom(answer.body, now)
      if (answer.status !== 200 || !tokens.access)
        return yield* new ProviderError({ message: `${row.provider} refused the refresh token (${answer.status})` })
      yield* sql`UPDATE integrations SET access_token_sealed = ${box.seal(tokens.access)}, expires_at = ${tokens.expiresAt},
          refresh_token_sealed = COALESCE(${tokens.refresh ? box.seal(tokens.refresh) : null}, refresh_token_sealed)
        WHERE id = ${row.id}`
      return tokens.access
    })

  // ---- event shapes ----

  const endLocalOf = (row: ScheduleRow) => {
    const rule = ruleOf(row)
    const end = utcOf(rule.start, rule.timeZone) + rule.durationMinutes * 60_000
    return fromFloating(end + offsetMinutes(end, rule.timeZone) * 60_000)
  }
  const iso = (l: { year: number; month: number; day: number; hour: number; minute: number }) =>
    `${formatDate({ ...l, second: 0 })}T${String(l.hour).padStart(2, "0")}:${String(l.minute).padStart(2, "0")}:00`

  const googleEvent = (row: ScheduleRow) => {
    const rule = ruleOf(row)
    const rrule = toRRule(rule)
    return {
      summary: row.name,
      description: row.description,
      start: { dateTime: iso(rule.start), timeZone: rule.timeZone },
      end: { dateTime: iso(endLocalOf(row)), timeZone: rule.timeZone },
      recurrence: rrule
        ? [
            `RRULE:${rrule}`,
            ...(rule.exceptions.length > 0
              ? [
                  `EXDATE;TZID=${rule.timeZone}:${[...rule.exceptions]
                    .sort()
                    .map((d) => localStamp({ ...rule.start, ...dateParts(d) }))
                    .join(",")}`
                ]
              : [])
          ]
        : [],
      extendedProperties: { private: { streamspaceScheduleId: row.id } }
    }
  }

  const graphEvent = (row: ScheduleRow) => {
    const rule = ruleOf(row)
    const r = rule.recurrence
    return {
      subject: row.name,
      body: { contentType: "text", content: row.description },
      start: { dateTime: iso(rule.start), timeZone: rule.timeZone },
      end: { dateTime: iso(endLocalOf(row)), timeZone: rule.timeZone },
      recurrence: r
        ? {
            pattern: {
              type: r.freq === "DAILY" ? "daily" : r.freq === "WEEKLY" ? "weekly" : "absoluteMonthly",
              interval: r.interval,
              ...(r.freq === "WEEKLY"
                ? { daysOfWeek: (r.byDay ?? [weekdayOfLocal(rule.start)]).map(weekdayName), firstDayOfWeek: "monday" }
                : {}),
              ...(r.freq === "MONTHLY" ? { dayOfMonth: r.byMonthDay?.[0] ?? rule.start.day } : {})
            },
            range: {
              type: r.until ? "endDate" : r.count ? "numbered" : "noEnd",
              startDate: formatDate(rule.start),
              ...(r.until ? { endDate: r.until } : {}),
              ...(r.count ? { numberOfOccurrences: r.count } : {})
            }
          }
        : null
    }
  }

  const eventsUrl = (row: IntegrationRow, p: ReturnType<typeof settings>, id?: string) =>
    row.provider === "google"
      ? `${p.apiUrl}/calendars/${encodeURIComponent(row.calendar_id)}/events${id ? `/${encodeURIComponent(id)}` : ""}`
      : id
        ? `${p.apiUrl}/me/events/${encodeURIComponent(id)}`
        : `${p.apiUrl}/me/calendar/events`

  /**
   * Brings one integration's calendar in line with the user's schedules: creates events for new ones,
   * patches those whose sequence moved, deletes those of deleted or disabled schedules.
   */
  const syncOne = (row: IntegrationRow, now: Date) =>
    Effect.gen(function* () {
      const p = settings(row.provider)
      const token = yield* accessToken(row, now)
      const schedules =
        yield* sql<ScheduleRow>`SELECT ${sql.literal(columns)} FROM schedules WHERE user_id = ${row.user_id}`
      const mapped = yield* sql<{ schedule_id: string; external_id: string; synced_sequence: number }>`
        SELECT schedule_id, external_id, synced_sequence FROM external_events WHERE integration_id = ${row.id}`
      const byId = new Map(mapped.map((m) => [m.schedule_id, m]))
      let created = 0
      let updated = 0
      let deleted = 0
      for (const s of schedules) {
        const m = byId.get(s.id)
        const live = s.deleted_at === null && s.enabled
        if (!live) {
          if (m) {
            const answer = yield* call("DELETE", eventsUrl(row, p, m.external_id), { token })
            if (answer.status >= 300 && answer.status !== 404 && answer.status !== 410)
              return yield* new ProviderError({
                message: `${row.provider} refused to delete an event (${answer.status})`
              })
            yield* sql`DELETE FROM external_events WHERE schedule_id = ${s.id} AND integration_id = ${row.id}`
            deleted++
          }
          continue
        }
        const json = row.provider === "google" ? googleEvent(s) : graphEvent(s)
        if (m && m.synced_sequence === s.sequence) continue
        const answer = m
          ? yield* call("PATCH", eventsUrl(row, p, m.external_id), { token, json })
          : yield* call("POST", eventsUrl(row, p), { token, json })
        const externalId = str(answer.body.id)
        if (answer.status >= 300 || !externalId)
          return yield* new ProviderError({ message: `${row.provider} refused an event (${answer.status})` })
        yield* sql`INSERT INTO external_events (schedule_id, integration_id, external_id, synced_sequence, synced_at)
          VALUES (${s.id}, ${row.id}, ${externalId}, ${s.sequence}, ${now})
          ON CONFLICT (schedule_id, integration_id) DO UPDATE SET external_id = EXCLUDED.external_id,
            synced_sequence = EXCLUDED.synced_sequence, synced_at = EXCLUDED.synced_at`
        if (m) updated++
        else created++
      }
      yield* sql`UPDATE integrations SET last_synced_at = ${now}, last_error = NULL WHERE id = ${row.id}`
      return { created, updated, deleted }
    })

  const recordFailure = (row: IntegrationRow, message: string) =>
    sql`UPDATE integrations SET last_error = ${message} WHERE id = ${row.id}`

  /** Every integration (or one user's), each on its own; failures are recorded on the integration. */
  const syncAll = (now: Date, userId?: string): Effect.Effect<void, SqlError> =>
    Effect.gen(function* () {
      const rows = userId
        ? yield* sql<IntegrationRow>`SELECT * FROM integrations WHERE user_id = ${userId}`
        : yield* sql<IntegrationRow>`SELECT * FROM integrations`
      for (const row of rows)
        yield* syncOne(row, now).pipe(
          Effect.catchTags({
            ProviderError: (e) => recordFailure(row, e.message),
            ProviderNotConfigured: (e) => recordFailure(row, e.message)
          })
        )
      // Deleted schedules nobody mirrors any more can go.
      yield* sql`DELETE FROM schedules s WHERE s.deleted_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM external_events e WHERE e.schedule_id = s.id)`
    })

  /** Busy intervals from the user's connected calendars. */
  const busy = (row: IntegrationRow, from: Date, to: Date, now: Date) =>
    Effect.gen(function* () {
      const p = settings(row.provider)
      const token = yield* accessToken(row, now)
      if (row.provider === "google") {
        const answer = yield* call("POST", `${p.apiUrl}/freeBusy`, {
          token,
          json: { timeMin: from.toISOString(), timeMax: to.toISOString(), items: [{ id: row.calendar_id }] }
        })
        if (answer.status !== 200)
          return yield* new ProviderError({ message: `google freeBusy answered ${answer.status}` })
        const calendars = answer.body.calendars as
          | Record<string, { busy?: Array<{ start: string; end: string }> }>
          | undefined
        return (calendars?.[row.calendar_id]?.busy ?? []).map((b) => ({
          start: new Date(b.start),
          end: new Date(b.end)
        }))
      }
      const url = new URL(`${p.apiUrl}/me/calendarView`)
      url.searchParams.set("startDateTime", from.toISOString())
      url.searchParams.set("endDateTime", to.toISOString())
      const answer = yield* call("GET", url.toString(), { token })
      if (answer.status !== 200)
        return yield* new ProviderError({ message: `microsoft calendarView answered ${answer.status}` })
      const value = (answer.body.value ?? []) as Array<{
        showAs?: string
        start: { dateTime: string; timeZone: string }
        end: { dateTime: string; timeZone: string }
      }>
      // Graph answers in UTC unless a Prefer: outlook.timezone header asks otherwise.
      const utc = (s: string) => new Date(/Z|[+-]\d\d:\d\d$/.test(s) ? s : `${s}Z`)
      return value
        .filter((e) => e.showAs !== "free")
        .map((e) => ({ start: utc(e.start.dateTime), end: utc(e.end.dateTime) }))
    })

  /** Deletes the mirrored events, revokes the token where the provider can, forgets the integration. */
  const disconnect = (row: IntegrationRow, now: Date) =>
    Effect.gen(function* () {
      const p = settings(row.provider)
      const token = yield* accessToken(row, now).pipe(Effect.option)
      if (token._tag === "Some") {
        const mapped = yield* sql<{
          external_id: string
        }>`SELECT external_id FROM external_events WHERE integration_id = ${row.id}`
        for (const m of mapped)
          yield* Effect.ignore(call("DELETE", eventsUrl(row, p, m.external_id), { token: token.value }))
        if (p.revokeUrl !== "") {
          const revoke = row.refresh_token_sealed ? box.open(row.refresh_token_sealed) : token.value
          yield* Effect.ignore(call("POST", p.revokeUrl, { form: { token: revoke } }))
        }
      }
      yield* sql`DELETE FROM integrations WHERE id = ${row.id}`
    })

  return { start, callback, accessToken, syncOne, syncAll, busy, disconnect }
}

const dateParts = (d: string) => {
  const [year, month, day] = d.split("-").map(Number)
  return { year: year!, month: month!, day: day! }
}
