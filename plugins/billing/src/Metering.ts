/**
 * Metering from the core's session events. Each event is recorded once by
 * its id (`meter_transitions`), so a replayed or duplicated delivery changes
 * nothing; running intervals open on `session.started` / `session.woken` and
 * close on `session.hibernated` / `.stopped` / `.deleted` / `.failed`
 * (hibernated time is not billed). The hourly roll-up turns intervals into
 * immutable usage rows per session, hour and resource; a late event that
 * changes an hour already rolled up adds a correcting revision (the
 * difference), never an update.
 *
 * Times: an event's `occurredAt` is stamped by the database's clock; it is
 * read on the platform's clock (Effect's Clock) by the offset between the
 * two measured when the batch is handled, and stored with the event, so a
 * replay reuses it.
 */
import type { SqlClient } from "@effect/sql"
import { CoreEvents, Directory, Timestamps } from "@streamspace/core"
import type { Events } from "@streamspace/kernel"
import { Clock, Effect, Schema } from "effect"
import { HOUR_MS } from "./Periods.ts"
import * as UsageRows from "./UsageRows.ts"
import { rollUpStorage } from "./Storage.ts"

/** The core's session events carry the session's size and the instant of each change (`at`). */
export const SessionPayload = CoreEvents.SessionEvent
export type SessionEvent = Events.Event<string, Schema.Schema.Type<typeof SessionPayload>>

const opens = new Set(["session.started", "session.woken"])
const closes = new Set(["session.hibernated", "session.stopped", "session.deleted", "session.failed"])
const ends = new Set(["session.stopped", "session.deleted", "session.failed"])

const json = (value: unknown) => JSON.stringify(value)

/** The instant of a transition: the payload's `at` when the core sends one, else `occurredAt` on the platform's clock. */
const atOf = (e: SessionEvent, offset: number) => {
  const given = e.payload.at === undefined ? Number.NaN : Date.parse(e.payload.at)
  return Number.isNaN(given) ? e.occurredAt.getTime() + offset : given
}

export interface Meter {
  readonly handle: (batch: ReadonlyArray<SessionEvent>) => Effect.Effect<void, unknown>
  readonly recordSizing: (input: {
    readonly userId: string
    readonly templateId: string
    readonly cpu: number
    readonly memory: number
  }) => Effect.Effect<void, unknown>
  /** Rolls usage (sessions' running time, then stored bytes) up to `upTo` (a whole hour); returns the rows written. */
  readonly rollUp: (upTo: Date) => Effect.Effect<number, unknown>
}

export const makeMeter = (sql: SqlClient.SqlClient, directory: Directory.Directory["Type"]): Meter => {
  const handle = (batch: ReadonlyArray<SessionEvent>) =>
    sql.withTransaction(
      Effect.gen(function* () {
        const [clockRow] = yield* sql<{
          db_ms: string
        }>`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint::text AS db_ms`
        const offset = (yield* Clock.currentTimeMillis) - Number(clockRow!.db_ms)
        const rows = batch.map((e) => ({
          event_id: e.id,
          position: e.position,
          session_id: e.payload.sessionId,
          type: e.type,
          at: new Date(atOf(e, offset)).toISOString()
        }))
        const inserted = yield* sql<{ event_id: string; at: Date }>`
          INSERT INTO meter_transitions (event_id, position, session_id, type, at)
          SELECT event_id, position, session_id, type, at
          FROM jsonb_to_recordset(${json(rows)}::jsonb) AS x(event_id uuid, position bigint, session_id text, type text, at timestamptz)
          ON CONFLICT DO NOTHING RETURNING event_id, at`
        if (inserted.length === 0) return
        const timeOf = new Map(inserted.map((r) => [r.event_id, new Date(r.at).getTime()]))
        const fresh = batch.filter((e) => timeOf.has(e.id))

        // New sessions: their size (from the payload, else the hook's record) and the user's groups.
        const created = fresh.filter((e) => e.type === "session.created")
        if (created.length > 0) {
          const users = [...new Set(created.map((e) => e.payload.userId))]
          const pending = yield* sql<{ id: string; user_id: string; template_id: string; cpu: number; memory: number }>`
            SELECT id::text AS id, user_id, template_id, cpu, memory FROM pending_sizing
            WHERE user_id = ANY(${users}) ORDER BY id`
          const queues = new Map<string, Array<(typeof pending)[number]>>()
          for (const p of pending) {
            const key = `${p.user_id}\u0000${p.template_id}`
            queues.set(key, [...(queues.get(key) ?? []), p])
          }
          const consumed: Array<string> = []
          const people = yield* directory.users({ ids: users })
          const groupsOf = new Map(people.map((u) => [u.id, u.groups.map((g) => g.toLowerCase())]))
          const sessions = created.map((e) => {
            const queued = queues.get(`${e.payload.userId}\u0000${e.payload.templateId}`)?.shift()
            if (queued) consumed.push(queued.id)
            const fromEvent = e.payload.cpu !== undefined && e.payload.memory !== undefined
            return {
              session_id: e.payload.sessionId,
              user_id: e.payload.userId,
              template_id: e.payload.templateId,
              groups: groupsOf.get(e.payload.userId) ?? [],
              cpu: fromEvent ? e.payload.cpu : (queued?.cpu ?? 0),
              memory: fromEvent ? e.payload.memory : (queued?.memory ?? 0),
              sizing: fromEvent ? "event" : queued ? "hook" : "unknown",
              created_at: new Date(timeOf.get(e.id)!).toISOString()
            }
          })
          yield* sql`
            INSERT INTO meter_sessions (session_id, user_id, template_id, groups, cpu, memory, sizing, created_at)
            SELECT session_id, user_id, template_id, groups, cpu, memory, sizing, created_at
            FROM jsonb_to_recordset(${json(sessions)}::jsonb)
              AS x(session_id text, user_id text, template_id text, groups text[], cpu integer, memory integer, sizing text, created_at timestamptz)
            ON CONFLICT DO NOTHING`
          if (consumed.length > 0) yield* sql`DELETE FROM pending_sizing WHERE id = ANY(${consumed.map(BigInt)})`
        }

        // Intervals, in order per session.
        const moving = fresh.filter((e) => opens.has(e.type) || closes.has(e.type))
        if (moving.length === 0) return
        const ids = [...new Set(moving.map((e) => e.payload.sessionId))]
        const openNow = new Set(
          (yield* sql<{ session_id: string }>`
            SELECT session_id FROM run_intervals WHERE ended_at IS NULL AND session_id = ANY(${ids})`).map(
            (r) => r.session_id
          )
        )
        interface NewInterval {
          session_id: string
          started_at: string
          start_event: string
          ended_at: string | null
          end_event: string | null
        }
        const added: Array<NewInterval> = []
        const closing: Array<{ session_id: string; ended_at: string; end_event: string }> = []
        const openNew = new Map<string, NewInterval>()
        const dirty = new Map<string, number>()
        const ended: Array<{ session_id: string; ended_at: string }> = []
        for (const e of moving) {
          const s = e.payload.sessionId
          const at = timeOf.get(e.id)!
          const iso = new Date(at).toISOString()
          if (opens.has(e.type)) {
            if (openNow.has(s) || openNew.has(s)) continue
            const interval = { session_id: s, started_at: iso, start_event: e.id, ended_at: null, end_event: null }
            added.push(interval)
            openNew.set(s, interval)
          } else {
            const mine = openNew.get(s)
            if (mine) {
              mine.ended_at = iso
              mine.end_event = e.id
              openNew.delete(s)
            } else if (openNow.has(s)) {
              closing.push({ session_id: s, ended_at: iso, end_event: e.id })
              openNow.delete(s)
            }
            if (ends.has(e.type)) ended.push({ session_id: s, ended_at: iso })
          }
          const hour = Math.floor(at / HOUR_MS) * HOUR_MS
          dirty.set(s, Math.min(dirty.get(s) ?? hour, hour))
        }
        if (closing.length > 0)
          yield* sql`
            UPDATE run_intervals i SET ended_at = GREATEST(i.started_at, x.ended_at), end_event = x.end_event
            FROM jsonb_to_recordset(${json(closing)}::jsonb) AS x(session_id text, ended_at timestamptz, end_event uuid)
            WHERE i.session_id = x.session_id AND i.ended_at IS NULL`
        if (added.length > 0)
          yield* sql`
            INSERT INTO run_intervals (session_id, started_at, start_event, ended_at, end_event)
            SELECT session_id, started_at, start_event, CASE WHEN ended_at IS NULL THEN NULL ELSE GREATEST(started_at, ended_at) END, end_event
            FROM jsonb_to_recordset(${json(added)}::jsonb)
              AS x(session_id text, started_at timestamptz, start_event uuid, ended_at timestamptz, end_event uuid)
            ON CONFLICT DO NOTHING`
        if (ended.length > 0)
          yield* sql`
            UPDATE meter_sessions m SET ended_at = x.ended_at
            FROM jsonb_to_recordset(${json(ended)}::jsonb) AS x(session_id text, ended_at timestamptz)
            WHERE m.session_id = x.session_id AND m.ended_at IS NULL`
        const marks = [...dirty].map(([session_id, from]) => ({ session_id, from_hour: new Date(from).toISOString() }))
        yield* sql`
          INSERT INTO rollup_dirty (session_id, from_hour, mark)
          SELECT session_id, from_hour, nextval('rollup_mark_seq')
          FROM jsonb_to_recordset(${json(marks)}::jsonb) AS x(session_id text, from_hour timestamptz)
          ON CONFLICT (session_id) DO UPDATE
            SET from_hour = LEAST(rollup_dirty.from_hour, EXCLUDED.from_hour), mark = EXCLUDED.mark`
      })
    )

  const recordSizing: Meter["recordSizing"] = (input) =>
    Effect.flatMap(
      Timestamps.now,
      (at) =>
        sql`INSERT INTO pending_sizing (user_id, template_id, cpu, memory, at)
            VALUES (${input.userId}, ${input.templateId}, ${input.cpu}, ${input.memory}, ${at})`
    )

  const rollUpSessions = (upTo: Date) =>
    Effect.gen(function* () {
      const limit = upTo.getTime()
      const dirty = yield* sql<{ session_id: string; from_hour: Date; mark: string }>`
          SELECT session_id, from_hour, mark::text AS mark FROM rollup_dirty WHERE from_hour < ${upTo}`
      const open = yield* sql<{ session_id: string; started_at: Date; last_hour: Date | null }>`
          SELECT i.session_id, i.started_at,
            (SELECT max(u.hour_start) FROM usage_records u WHERE u.session_id = i.session_id) AS last_hour
          FROM run_intervals i WHERE i.ended_at IS NULL AND i.started_at < ${upTo}`
      const from = new Map<string, number>()
      for (const d of dirty) from.set(d.session_id, new Date(d.from_hour).getTime())
      for (const o of open) {
        const start = Math.floor(new Date(o.last_hour ?? o.started_at).getTime() / HOUR_MS) * HOUR_MS
        from.set(o.session_id, Math.min(from.get(o.session_id) ?? start, start))
      }
      if (from.size === 0) return 0
      const ids = [...from.keys()]
      const minFrom = new Date(Math.min(...from.values()))
      const intervals = yield* sql<{ session_id: string; started_at: Date; ended_at: Date | null }>`
          SELECT session_id, started_at, ended_at FROM run_intervals
          WHERE session_id = ANY(${ids}) AND (ended_at IS NULL OR ended_at > ${minFrom}) AND started_at < ${upTo}`
      const sessions = yield* sql<{
        session_id: string
        user_id: string
        template_id: string
        cpu: number
        memory: number
      }>`
          SELECT session_id, user_id, template_id, cpu, memory FROM meter_sessions WHERE session_id = ANY(${ids})`
      const existing = yield* sql<{ session_id: string; hour_start: Date; resource: string; q: string; rev: number }>`
          SELECT session_id, hour_start, resource, sum(quantity)::text AS q, max(revision) AS rev
          FROM usage_records WHERE session_id = ANY(${ids}) AND hour_start >= ${minFrom} AND resource IN ('cpu', 'memory')
          GROUP BY session_id, hour_start, resource`
      const sessionOf = new Map(sessions.map((s) => [s.session_id, s]))
      // Running milliseconds per session and hour, from each session's own `from` up to `upTo`.
      const ms = new Map<string, number>()
      let continues = new Set<string>()
      for (const i of intervals) {
        const start = new Date(i.started_at).getTime()
        const rawEnd = i.ended_at ? new Date(i.ended_at).getTime() : limit
        if (i.ended_at && rawEnd > limit) continues = continues.add(i.session_id)
        const end = Math.min(rawEnd, limit)
        const lower = Math.max(start, from.get(i.session_id)!)
        for (let h = Math.floor(lower / HOUR_MS) * HOUR_MS; h < end; h += HOUR_MS) {
          const part = Math.min(end, h + HOUR_MS) - Math.max(start, h)
          if (part <= 0) continue
          const key = `${i.session_id}|${h}`
          ms.set(key, (ms.get(key) ?? 0) + part)
        }
      }
      const want = new Map<string, bigint>()
      for (const [key, run] of ms) {
        const s = sessionOf.get(key.split("|")[0]!)
        if (!s) continue
        want.set(`${key}|cpu`, BigInt(run) * BigInt(s.cpu))
        want.set(`${key}|memory`, BigInt(run) * BigInt(s.memory))
      }
      const have = new Map<string, { q: bigint; rev: number }>()
      for (const e of existing) {
        const h = new Date(e.hour_start).getTime()
        if (h < from.get(e.session_id)!) continue
        have.set(`${e.session_id}|${h}|${e.resource}`, { q: BigInt(e.q), rev: Number(e.rev) })
      }
      const at = (yield* Timestamps.now).toISOString()
      const rows: Array<UsageRows.UsageRow> = []
      for (const key of new Set([...want.keys(), ...have.keys()])) {
        const delta = (want.get(key) ?? 0n) - (have.get(key)?.q ?? 0n)
        if (delta === 0n) continue
        const [sessionId, hour, resource] = key.split("|") as [string, string, string]
        const s = sessionOf.get(sessionId)
        if (!s) continue
        rows.push({
          session_id: sessionId,
          user_id: s.user_id,
          template_id: s.template_id,
          hour_start: new Date(Number(hour)).toISOString(),
          resource,
          quantity: delta.toString(),
          revision: (have.get(key)?.rev ?? 0) + 1,
          created_at: at
        })
      }
      yield* UsageRows.insert(sql, rows)
      if (dirty.length > 0)
        yield* sql`
            DELETE FROM rollup_dirty d USING jsonb_to_recordset(${json(dirty.map((d) => ({ session_id: d.session_id, mark: d.mark })))}::jsonb)
              AS x(session_id text, mark bigint)
            WHERE d.session_id = x.session_id AND d.mark = x.mark`
      if (continues.size > 0)
        yield* sql`
            INSERT INTO rollup_dirty (session_id, from_hour, mark)
            SELECT s, ${upTo}, nextval('rollup_mark_seq') FROM unnest(${[...continues]}::text[]) AS s
            ON CONFLICT (session_id) DO UPDATE SET from_hour = LEAST(rollup_dirty.from_hour, EXCLUDED.from_hour)`
      return rows.length
    })

  const rollUp = (upTo: Date) =>
    sql.withTransaction(
      Effect.gen(function* () {
        // One roll-up at a time, whichever replica or route runs it.
        yield* sql`SELECT pg_advisory_xact_lock(7340001)`
        const sessionRows = yield* rollUpSessions(upTo)
        const storageRows = yield* rollUpStorage(sql, upTo)
        yield* sql`DELETE FROM pending_sizing WHERE at < ${new Date(upTo.getTime() - 24 * HOUR_MS)}`
        return sessionRows + storageRows
      })
    )

  return { handle, recordSizing, rollUp }
}
