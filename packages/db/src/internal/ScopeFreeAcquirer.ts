/**
 * `@effect/sql` runs every statement as `Effect.scoped(acquire connection →
 * run)`, so that a pooled checkout is released. Our clients hand out one
 * shared connection object whose statements hold nothing (transactions and
 * streams reserve their own), and the Scope opened and closed per statement
 * costs ~10 µs: on PostgreSQL a sixth of a `select 1` round trip
 * (`bun run bench sql`). `patches/@effect%2Fsql@0.52.1.patch` skips that
 * Scope for a statement whose acquirer carries this mark; `IsolatedSqlClient`
 * marks ours. Unmarked acquirers keep the library's behaviour, and without
 * the patch the mark is ignored.
 */

/** The property the patched `@effect/sql` looks for. */
export const ScopeFreeAcquirer: unique symbol = Symbol.for("@effect/sql/SqlConnection/ScopeFreeAcquirer") as never
