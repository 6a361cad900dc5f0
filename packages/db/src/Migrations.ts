/**
 * Forward-only SQL migrations with the `@effect/sql` Migrator, on both
 * engines. Two processes starting together on one empty database both
 * succeed and each migration runs once: the migrations table is created
 * under an advisory lock, and the Migrator then runs under an exclusive lock
 * on that table. A migration numbered below one already applied would be
 * skipped silently by the Migrator, so that is refused up front.
 */
import { Migrator, SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Data, Effect } from "effect"

export interface MigrationSource {
  readonly id: number
  readonly name: string
  readonly sql: string
}

export interface MigrationOptions {
  readonly migrations: ReadonlyArray<MigrationSource>
  /** Table that records applied migrations; may be schema-qualified (`plugin_x.migrations`). */
  readonly table: string
}

export class MigrationError extends Data.TaggedError("MigrationError")<{ readonly message: string }> {}

export interface MigrationStatus {
  readonly applied: ReadonlyArray<{ readonly id: number; readonly name: string }>
  readonly pending: ReadonlyArray<MigrationSource>
}

/** A stable 31-bit key for `pg_advisory_xact_lock`, per migrations table. */
const lockKey = (table: string) => {
  let h = 0
  for (const ch of `streamspace.migrations:${table}`) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0
  return h & 0x7fffffff
}

const checkNumbering = (migrations: ReadonlyArray<MigrationSource>) => {
  const problems: Array<string> = []
  migrations.forEach((m, i) => {
    if (!Number.isInteger(m.id) || m.id < 1) problems.push(`${m.id}_${m.name}: id must be a positive integer`)
    const prev = migrations[i - 1]
    if (prev && m.id <= prev.id) problems.push(`${m.id}_${m.name}: not numbered above ${prev.id}_${prev.name}`)
  })
  return problems
}

const ensureTable = (table: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.withTransaction(
      Effect.gen(function* () {
        yield* sql`SELECT pg_advisory_xact_lock(${lockKey(table)})`
        yield* sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
        migration_id integer PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        name text NOT NULL
      )`
      })
    )
  })

const appliedIn = (table: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{
      migration_id: number
      name: string
    }>`SELECT migration_id, name FROM ${sql(table)} ORDER BY migration_id`.pipe(
      Effect.map((rows) => rows.map((r) => ({ id: Number(r.migration_id), name: r.name })))
    )
  )

export const status = (options: MigrationOptions): Effect.Effect<MigrationStatus, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    yield* ensureTable(options.table)
    const applied = yield* appliedIn(options.table)
    const done = new Set(applied.map((m) => m.id))
    return { applied, pending: options.migrations.filter((m) => !done.has(m.id)) }
  })

/** Applies pending migrations; returns those it applied (empty when another process did). */
export const run = (
  options: MigrationOptions
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, MigrationError | SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const numbering = checkNumbering(options.migrations)
    if (numbering.length > 0) return yield* new MigrationError({ message: numbering.join("; ") })
    const current = yield* status(options)
    const highest = Math.max(0, ...current.applied.map((m) => m.id))
    const skipped = current.pending.filter((m) => m.id < highest)
    if (skipped.length > 0) {
      return yield* new MigrationError({
        message: `migration(s) ${skipped.map((m) => `${m.id}_${m.name}`).join(", ")} numbered below the highest applied (${highest}) would never run; renumber them above ${highest}`
      })
    }
    if (current.pending.length === 0) return []
    const migrator = Migrator.make({})
    return yield* migrator({
      table: options.table,
      loader: Effect.succeed(
        options.migrations.map(
          (m) =>
            [m.id, m.name, Effect.succeed(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(m.sql)))] as const
        )
      )
    }).pipe(Effect.catchTag("MigrationError", (e) => new MigrationError({ message: e.message })))
  })
