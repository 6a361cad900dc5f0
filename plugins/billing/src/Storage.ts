/**
 * Storage metering from the core's file events. A durable subscription
 * (`storage-metering`: `file.uploaded`, `file.deleted`) records each file
 * once, by its id: its bytes are stored from the upload until the deletion,
 * so a replayed or duplicated event changes nothing (an upload seen again
 * does not move its start, a deletion seen again does not move its end). The
 * hourly roll-up (inside the session roll-up's transaction and lock) turns
 * stored bytes into immutable usage rows per session (or `files:<user>` for
 * a file without one), hour and `storage`, in byte-seconds; a late event adds
 * a correcting revision, never an update.
 *
 * Times: the payload's `at` when the core sends one, else the event's
 * `occurredAt` (the database's clock) read on the platform's clock by the
 * offset measured when the batch is handled; stored, so a replay reuses it.
 */
import type { SqlClient } from "@effect/sql"
import { CoreEvents, Timestamps } from "@streamspace/core"
import type { Events } from "@streamspace/kernel"
import { Clock, Effect, Schema } from "effect"
import { roundDiv } from "./Money.ts"
import { HOUR_MS } from "./Periods.ts"
import * as UsageRows from "./UsageRows.ts"

/** The core's file events; `at` is read when a core sends it (today's does not). */
export const FilePayload = CoreEvents.FileEvent
export type FileEvent = Events.Event<string, Schema.Schema.Type<typeof FilePayload>>

/** The usage rows' `session_id` of a file's bytes. */
export const usageKey = (userId: string, sessionId: string | null) => sessionId ?? `files:${userId}`

const json = (value: unknown) => JSON.stringify(value)
const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS

export const makeStorageMeter = (sql: SqlClient.SqlClient) => {
  const handle = (batch: ReadonlyArray<FileEvent>) =>
    sql.withTransaction(
      Effect.gen(function* () {
        const [clockRow] = yield* sql<{
          db_ms: string
        }>`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint::text AS db_ms`
        const offset = (yield* Clock.currentTimeMillis) - Number(clockRow!.db_ms)
        const atOf = (e: FileEvent) => {
          const given = e.payload.at === undefined ? Number.NaN : Date.parse(e.payload.at)
          return new Date(Number.isNaN(given) ? e.occurredAt.getTime() + offset : given).toISOString()
        }
        const rowOf = (e: FileEvent) => ({
          file_id: e.payload.fileId,
          user_id: e.payload.userId,
          session_id: e.payload.sessionId,
          usage_key: usageKey(e.payload.userId, e.payload.sessionId),
          size: Math.max(0, Math.trunc(e.payload.size)),
          at: atOf(e),
          event_id: e.id
        })
        const once = <A extends { file_id: string }>(rows: ReadonlyArray<A>) => {
          const first = new Map<string, A>()
          for (const r of rows) if (!first.has(r.file_id)) first.set(r.file_id, r)
          return [...first.values()]
        }
        const uploads = once(batch.filter((e) => e.type === "file.uploaded").map(rowOf))
        const deletes = once(batch.filter((e) => e.type === "file.deleted").map(rowOf))
        const changed: Array<{ usage_key: string; user_id: string; at: string }> = []
        if (uploads.length > 0) {
          // A deletion seen first left a zero-length row: the upload gives it its real start.
          const rows = yield* sql<{ usage_key: string; user_id: string; stored_at: Date }>`
            INSERT INTO storage_files (file_id, user_id, session_id, usage_key, size, stored_at, upload_event)
            SELECT file_id, user_id, session_id, usage_key, size, at, event_id
            FROM jsonb_to_recordset(${json(uploads)}::jsonb)
              AS x(file_id text, user_id text, session_id text, usage_key text, size bigint, at timestamptz, event_id uuid)
            ON CONFLICT (file_id) DO UPDATE SET stored_at = LEAST(storage_files.stored_at, EXCLUDED.stored_at),
              upload_event = EXCLUDED.upload_event
            WHERE storage_files.upload_event IS NULL
            RETURNING usage_key, user_id, stored_at`
          for (const r of rows) changed.push({ ...r, at: new Date(r.stored_at).toISOString() })
        }
        if (deletes.length > 0) {
          const rows = yield* sql<{ usage_key: string; user_id: string; deleted_at: Date }>`
            INSERT INTO storage_files (file_id, user_id, session_id, usage_key, size, stored_at, deleted_at, delete_event)
            SELECT file_id, user_id, session_id, usage_key, size, at, at, event_id
            FROM jsonb_to_recordset(${json(deletes)}::jsonb)
              AS x(file_id text, user_id text, session_id text, usage_key text, size bigint, at timestamptz, event_id uuid)
            ON CONFLICT (file_id) DO UPDATE SET deleted_at = GREATEST(storage_files.stored_at, EXCLUDED.deleted_at),
              delete_event = EXCLUDED.delete_event
            WHERE storage_files.deleted_at IS NULL
            RETURNING usage_key, user_id, deleted_at`
          for (const r of rows) changed.push({ ...r, at: new Date(r.deleted_at).toISOString() })
        }
        if (changed.length === 0) return
        const keys = new Map<string, { usage_key: string; user_id: string; from_hour: string }>()
        for (const c of changed) {
          const hour = floorHour(Date.parse(c.at))
          const known = keys.get(c.usage_key)
          if (!known || Date.parse(known.from_hour) > hour)
            keys.set(c.usage_key, {
              usage_key: c.usage_key,
              user_id: c.user_id,
              from_hour: new Date(hour).toISOString()
            })
        }
        const marks = [...keys.values()]
        yield* sql`
          INSERT INTO storage_keys (usage_key, user_id)
          SELECT usage_key, user_id FROM jsonb_to_recordset(${json(marks)}::jsonb) AS x(usage_key text, user_id text)
          ON CONFLICT DO NOTHING`
        yield* sql`
          INSERT INTO storage_dirty (usage_key, from_hour, mark)
          SELECT usage_key, from_hour, nextval('rollup_mark_seq')
          FROM jsonb_to_recordset(${json(marks)}::jsonb) AS x(usage_key text, from_hour timestamptz)
          ON CONFLICT (usage_key) DO UPDATE
            SET from_hour = LEAST(storage_dirty.from_hour, EXCLUDED.from_hour), mark = EXCLUDED.mark`
      })
    )
  return { handle }
}

/**
 * Stored bytes as usage rows up to `upTo` (a whole hour), in byte-seconds per
 * key and hour (each row's byte-milliseconds rounded half up once). Runs in
 * the caller's transaction, under the roll-up lock. Returns the rows written.
 */
export const rollUpStorage = (sql: SqlClient.SqlClient, upTo: Date) =>
  Effect.gen(function* () {
    const limit = upTo.getTime()
    const dirty = yield* sql<{ usage_key: string; from_hour: Date; mark: string }>`
      SELECT usage_key, from_hour, mark::text AS mark FROM storage_dirty WHERE from_hour < ${upTo}`
    // Keys with bytes that may count after what is rolled up already.
    const live = yield* sql<{ usage_key: string; rolled_to: Date | null; first: Date }>`
      SELECT k.usage_key, k.rolled_to, min(f.stored_at) AS first
      FROM storage_keys k JOIN storage_files f ON f.usage_key = k.usage_key
      WHERE f.stored_at < ${upTo} AND (k.rolled_to IS NULL OR k.rolled_to < ${upTo})
        AND (f.deleted_at IS NULL OR k.rolled_to IS NULL OR f.deleted_at > k.rolled_to)
      GROUP BY k.usage_key, k.rolled_to`
    const from = new Map<string, number>()
    for (const l of live) from.set(l.usage_key, floorHour(new Date(l.rolled_to ?? l.first).getTime()))
    for (const d of dirty) {
      const h = new Date(d.from_hour).getTime()
      from.set(d.usage_key, Math.min(from.get(d.usage_key) ?? h, h))
    }
    if (from.size === 0) return 0
    const keys = [...from.keys()]
    const minFrom = new Date(Math.min(...from.values()))
    const owners = yield* sql<{
      usage_key: string
      user_id: string
      rolled_to: Date | null
      template_id: string | null
    }>`
      SELECT k.usage_key, k.user_id, k.rolled_to, s.template_id
      FROM storage_keys k LEFT JOIN meter_sessions s ON s.session_id = k.usage_key
      WHERE k.usage_key = ANY(${keys})`
    const files = yield* sql<{ usage_key: string; size: string; stored_at: Date; deleted_at: Date | null }>`
      SELECT usage_key, size::text AS size, stored_at, deleted_at FROM storage_files
      WHERE usage_key = ANY(${keys}) AND stored_at < ${upTo} AND (deleted_at IS NULL OR deleted_at > ${minFrom})`
    const existing = yield* sql<{ session_id: string; hour_start: Date; q: string; rev: number }>`
      SELECT session_id, hour_start, sum(quantity)::text AS q, max(revision) AS rev
      FROM usage_records WHERE session_id = ANY(${keys}) AND resource = 'storage' AND hour_start >= ${minFrom}
      GROUP BY session_id, hour_start`
    const byteMs = new Map<string, bigint>()
    for (const f of files) {
      const start = new Date(f.stored_at).getTime()
      const end = Math.min(f.deleted_at ? new Date(f.deleted_at).getTime() : limit, limit)
      const lower = Math.max(start, from.get(f.usage_key)!)
      const size = BigInt(f.size)
      for (let h = floorHour(lower); h < end; h += HOUR_MS) {
        const part = Math.min(end, h + HOUR_MS) - Math.max(start, h)
        if (part <= 0) continue
        const key = `${f.usage_key}|${h}`
        byteMs.set(key, (byteMs.get(key) ?? 0n) + size * BigInt(part))
      }
    }
    const want = new Map([...byteMs].map(([k, v]) => [k, roundDiv(v, 1000n)]))
    const have = new Map<string, { q: bigint; rev: number }>()
    for (const e of existing) {
      const h = new Date(e.hour_start).getTime()
      if (h < from.get(e.session_id)!) continue
      have.set(`${e.session_id}|${h}`, { q: BigInt(e.q), rev: Number(e.rev) })
    }
    const ownerOf = new Map(owners.map((o) => [o.usage_key, o]))
    const at = (yield* Timestamps.now).toISOString()
    const rows: Array<UsageRows.UsageRow> = []
    for (const key of new Set([...want.keys(), ...have.keys()])) {
      const delta = (want.get(key) ?? 0n) - (have.get(key)?.q ?? 0n)
      if (delta === 0n) continue
      const [usageKeyOf, hour] = key.split("|") as [string, string]
      const owner = ownerOf.get(usageKeyOf)
      if (!owner) continue
      rows.push({
        session_id: usageKeyOf,
        user_id: owner.user_id,
        template_id: owner.template_id ?? "",
        hour_start: new Date(Number(hour)).toISOString(),
        resource: "storage",
        quantity: delta.toString(),
        revision: (have.get(key)?.rev ?? 0) + 1,
        created_at: at
      })
    }
    yield* UsageRows.insert(sql, rows)
    if (dirty.length > 0)
      yield* sql`
        DELETE FROM storage_dirty d USING jsonb_to_recordset(${json(dirty.map((d) => ({ usage_key: d.usage_key, mark: d.mark })))}::jsonb)
          AS x(usage_key text, mark bigint)
        WHERE d.usage_key = x.usage_key AND d.mark = x.mark`
    // A key rolled further before (a later `upTo`) than now: its later hours are redone next time.
    const ahead = owners.filter((o) => o.rolled_to && new Date(o.rolled_to).getTime() > limit).map((o) => o.usage_key)
    if (ahead.length > 0)
      yield* sql`
        INSERT INTO storage_dirty (usage_key, from_hour, mark)
        SELECT k, ${upTo}, nextval('rollup_mark_seq') FROM unnest(${ahead}::text[]) AS k
        ON CONFLICT (usage_key) DO UPDATE SET from_hour = LEAST(storage_dirty.from_hour, EXCLUDED.from_hour)`
    yield* sql`UPDATE storage_keys SET rolled_to = GREATEST(COALESCE(rolled_to, ${upTo}), ${upTo})
      WHERE usage_key = ANY(${keys})`
    return rows.length
  })
