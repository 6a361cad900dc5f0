/**
 * Deleting recordings: the retention job (recordings older than their
 * policy's `retentionDays`, counted from their end), and purges on request
 * (the `purge` method for the compliance plugin). A recording under legal
 * hold is never deleted; one still recording neither.
 *
 * A deletion first claims the row (`status = 'purging'`, only when not on
 * hold — a hold cannot be placed on a claimed row), then deletes the blobs
 * (`<id>/…`: chunks and manifest), then the row (its access log goes with
 * it). A crash in between leaves a `purging` row that the next run finishes.
 * The job runs once per tick across replicas (the platform's scheduler).
 */
import type { SqlClient } from "@effect/sql"
import type { PluginBlobs } from "@streamspace/kernel"
import { Effect } from "effect"

export interface PurgeResult {
  readonly purged: ReadonlyArray<string>
  /** Matching recordings kept because they are under legal hold. */
  readonly held: number
}

/** Claims, then deletes, each of `ids` that is not on hold and not recording; the ids deleted. */
export const purgeIds = (sql: SqlClient.SqlClient, blobs: PluginBlobs["Type"], ids: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const purged: Array<string> = []
    for (const id of ids) {
      const claimed = yield* sql<{ id: string }>`UPDATE recordings SET status = 'purging'
        WHERE id = ${id} AND legal_hold = false AND status <> 'recording' RETURNING id`
      if (claimed.length === 0) continue
      for (const blob of yield* blobs.list(`${id}/`)) yield* blobs.delete(blob.key)
      yield* sql`DELETE FROM recordings WHERE id = ${id} AND status = 'purging'`
      purged.push(id)
    }
    return purged
  })

/** Recordings past retention at `now` (and unfinished purges), deleted; held ones counted. */
export const purgeExpired = (sql: SqlClient.SqlClient, blobs: PluginBlobs["Type"], now: Date) =>
  Effect.gen(function* () {
    const due = yield* sql<{ id: string; legal_hold: boolean }>`SELECT id, legal_hold FROM recordings
      WHERE status = 'purging' OR (status <> 'recording'
        AND COALESCE(ended_at, started_at) + retention_days * interval '1 day' <= ${now})
      ORDER BY started_at LIMIT 1000`
    const purged = yield* purgeIds(
      sql,
      blobs,
      due.filter((r) => !r.legal_hold).map((r) => r.id)
    )
    return { purged, held: due.filter((r) => r.legal_hold).length } satisfies PurgeResult
  })

/** Recordings matching a purge request (a user's, or given ids, optionally only those started before a time). */
export const purgeMatching = (
  sql: SqlClient.SqlClient,
  blobs: PluginBlobs["Type"],
  match: {
    readonly userId?: string | undefined
    readonly recordingIds?: ReadonlyArray<string> | undefined
    readonly startedBefore?: Date | undefined
  }
) =>
  Effect.gen(function* () {
    const ids = match.recordingIds ?? []
    const rows = yield* sql<{ id: string; legal_hold: boolean }>`SELECT id, legal_hold FROM recordings
      WHERE (${match.userId ?? null}::text IS NULL OR owner_id = ${match.userId ?? null})
        AND (${ids.length === 0} OR id = ANY(${ids}::text[]))
        AND (${match.startedBefore ?? null}::timestamptz IS NULL OR started_at < ${match.startedBefore ?? null})
        AND status <> 'recording'`
    const purged = yield* purgeIds(
      sql,
      blobs,
      rows.filter((r) => !r.legal_hold).map((r) => r.id)
    )
    return { purged, held: rows.filter((r) => r.legal_hold).length } satisfies PurgeResult
  })

/** Stored bytes (chunks and manifests) per recording owner, for billing. */
export const storageByUser = (sql: SqlClient.SqlClient, userId: string | undefined) =>
  Effect.map(
    sql<{ owner_id: string | null; bytes: number | string; recordings: number | string }>`
      SELECT owner_id, COALESCE(SUM(size_bytes), 0) AS bytes, COUNT(*) AS recordings FROM recordings
      WHERE ${userId ?? null}::text IS NULL OR owner_id = ${userId ?? null}
      GROUP BY owner_id ORDER BY owner_id`,
    (rows) => rows.map((r) => ({ userId: r.owner_id, bytes: Number(r.bytes), recordings: Number(r.recordings) }))
  )
