/**
 * The request counts API replicas share (table `rate_limit_counters`, one
 * row per bucket and minute; UNLOGGED: counts are worthless after a crash,
 * and skipping the WAL keeps the writes cheap). Each replica adds its new
 * hits in one statement about once a second and reads back the rows that
 * have used at least half their budget, which is what the other replicas
 * need to know in time; `RateLimiter` does the counting and decides.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer } from "effect"

/** Hits of one bucket in one window (minutes since the epoch); `budget` is the bucket's, for the read-back filter. */
export interface Count {
  readonly bucket: string
  readonly window: number
  readonly hits: number
  readonly budget: number
}

export class RateLimitStore extends Context.Tag("@streamspace/server/RateLimitStore")<
  RateLimitStore,
  {
    /** Adds `hits` to each bucket's count and returns the new totals (every replica's hits included). */
    readonly add: (deltas: ReadonlyArray<Count>) => Effect.Effect<ReadonlyArray<Count>, SqlError>
    /** Buckets of `sinceWindow` or later that have used at least half their budget. */
    readonly busy: (sinceWindow: number) => Effect.Effect<ReadonlyArray<Count>, SqlError>
    /** Drops the counts of windows before `window`. */
    readonly forget: (window: number) => Effect.Effect<void, SqlError>
  }
>() {}

interface CountRow {
  readonly bucket: string
  readonly window_start: string | number
  readonly hits: number
  readonly budget: number
}

const fromRow = (row: CountRow): Count => ({
  bucket: row.bucket,
  window: Number(row.window_start),
  hits: row.hits,
  budget: row.budget
})

export const layer: Layer.Layer<RateLimitStore, never, SqlClient.SqlClient> = Layer.effect(
  RateLimitStore,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return {
      add: (deltas) =>
        deltas.length === 0
          ? Effect.succeed([])
          : Effect.map(
              sql<CountRow>`
                INSERT INTO rate_limit_counters (bucket, window_start, hits, budget)
                SELECT * FROM unnest(${deltas.map((d) => d.bucket)}::text[], ${deltas.map((d) => d.window)}::bigint[],
                                     ${deltas.map((d) => d.hits)}::integer[], ${deltas.map((d) => d.budget)}::integer[])
                ON CONFLICT (window_start, bucket) DO UPDATE SET hits = rate_limit_counters.hits + EXCLUDED.hits
                RETURNING bucket, window_start, hits, budget`,
              (rows) => rows.map(fromRow)
            ),
      busy: (sinceWindow) =>
        Effect.map(
          sql<CountRow>`
            SELECT bucket, window_start, hits, budget FROM rate_limit_counters
            WHERE window_start >= ${sinceWindow} AND hits * 2 >= budget`,
          (rows) => rows.map(fromRow)
        ),
      forget: (window) => Effect.asVoid(sql`DELETE FROM rate_limit_counters WHERE window_start < ${window}`)
    }
  })
)
