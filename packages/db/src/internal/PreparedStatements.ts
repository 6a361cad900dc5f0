/**
 * What both clients share about server-side prepared statements: which
 * statements are worth preparing, how statements get their names, and which
 * errors mean a prepared statement went stale.
 */

export interface PreparedStatementsOptions {
  /** Distinct statements kept prepared. */
  readonly capacity?: number
  /** Statements with more parameters (bulk inserts, long IN lists) are not prepared. */
  readonly maxParams?: number
}

export const defaults = { capacity: 512, maxParams: 64 } as const

/** Bulk statements vary in text with their row count: preparing them would only churn the cache. */
export const worthPreparing = (params: ReadonlyArray<unknown>, maxParams: number) =>
  params.length > 0 && params.length <= maxParams

// 0A000 "cached plan must not change result type" (`SELECT *` after ALTER TABLE),
// 26000 "prepared statement does not exist" (DEALLOCATE ALL / DISCARD ALL from user SQL).
const STALE = new Set(["0A000", "26000"])

/** PostgreSQL re-plans prepared statements after DDL itself; these two errors it leaves to the client. */
export const isStale = (error: unknown) =>
  typeof error === "object" && error !== null && "code" in error && STALE.has(String(error.code))

/**
 * Names for statement texts, for node-postgres, which prepares a named
 * statement once per pooled connection and reuses it. A name always stands
 * for one text; a stale statement gets a new name (the old one cannot be
 * closed on every pooled connection). Past `capacity` texts, new ones run
 * unnamed rather than grow every connection's statement list without bound.
 */
export class StatementNames {
  private readonly names = new Map<string, string>()
  private counter = 0
  private readonly capacity: number
  private readonly maxParams: number

  constructor(options: PreparedStatementsOptions = {}) {
    this.capacity = options.capacity ?? defaults.capacity
    this.maxParams = options.maxParams ?? defaults.maxParams
  }

  nameFor(text: string, params: ReadonlyArray<unknown>): string | undefined {
    if (!worthPreparing(params, this.maxParams)) return undefined
    const known = this.names.get(text)
    if (known !== undefined || this.names.size >= this.capacity) return known
    const name = `streamspace_${++this.counter}`
    this.names.set(text, name)
    return name
  }

  /** Forgets a stale statement's name so that the next use prepares it again. */
  forget(text: string) {
    this.names.delete(text)
  }
}
