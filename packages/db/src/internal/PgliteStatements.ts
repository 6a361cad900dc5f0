/**
 * Server-side prepared statements over PGlite's one connection.
 *
 * `PGlite.query` sends Parse, Describe, Bind, Describe, Execute and Sync as
 * six separate calls into the WASM backend, every time. Here a statement is
 * parsed and described once, then each run is one call carrying Bind,
 * Execute and Sync: about a third of the cost of `query` (scripts/bench/sql.ts).
 * Parameters are serialized and rows parsed with the instance's own
 * serializers and parsers, so values come back exactly as from `query`.
 *
 * PostgreSQL itself keeps prepared statements correct across DDL and
 * search_path changes by re-planning; the one thing it refuses is a changed
 * result row type (`SELECT *` after `ALTER TABLE`), and a `DEALLOCATE ALL`
 * from user SQL drops our statements. Both evict the statement and, outside
 * a transaction block, retry once with a fresh one.
 */
import { type messages, parse, type PGlite, protocol, type Results, type RowMode } from "@electric-sql/pglite"
import { defaults, isStale, type PreparedStatementsOptions, worthPreparing } from "./PreparedStatements.ts"

const { serialize } = protocol
type BackendMessage = messages.BackendMessage

interface Prepared {
  readonly name: string
  readonly paramTypes: ReadonlyArray<number>
  /** The RowDescription from Describe, or none for statements without rows. */
  readonly head: ReadonlyArray<BackendMessage>
}

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

export class PgliteStatements {
  private readonly prepared = new Map<string, Prepared>()
  /** Evicted statements, closed with the next message rather than a call of their own. */
  private closing: Array<Uint8Array> = []
  private counter = 0
  readonly capacity: number
  readonly maxParams: number

  /** Beyond `capacity` the least recently used statement is closed. */
  constructor(
    private readonly db: PGlite,
    options: PreparedStatementsOptions = {}
  ) {
    this.capacity = options.capacity ?? defaults.capacity
    this.maxParams = options.maxParams ?? defaults.maxParams
  }

  /** Whether `query` runs these parameters through a prepared statement. */
  prepares(params: ReadonlyArray<unknown>): boolean {
    return worthPreparing(params, this.maxParams)
  }

  /** Like `db.query(text, params)`, through a prepared statement when it is worth one. */
  query<T>(text: string, params: ReadonlyArray<unknown>, rowMode?: RowMode): Promise<Results<T>> {
    if (!this.prepares(params))
      return this.db.query<T>(text, params as Array<unknown>, rowMode ? { rowMode } : undefined)
    return this.db.runExclusive(() => this.run<T>(text, params, rowMode, true))
  }

  /**
   * Runs a prepared statement in a transaction of its own that `begin` opens
   * (and may `SET LOCAL` role and search_path in): BEGIN, the statement and
   * COMMIT go to the backend as one message. A failure anywhere turns the
   * COMMIT into a rollback.
   */
  queryInTransaction<T>(
    begin: string,
    text: string,
    params: ReadonlyArray<unknown>,
    rowMode?: RowMode
  ): Promise<Results<T>> {
    return this.db.runExclusive(() => this.run<T>(text, params, rowMode, true, begin))
  }

  /** Statements currently prepared (for tests and diagnostics). */
  get size(): number {
    return this.prepared.size
  }

  private async run<T>(
    text: string,
    params: ReadonlyArray<unknown>,
    rowMode: RowMode | undefined,
    retry: boolean,
    begin?: string
  ): Promise<Results<T>> {
    if (this.db.closed) throw new Error("PGlite is closed")
    const statement = this.touch(text) ?? (await this.prepare(text, begin))
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null
      const serializer = this.db.serializers[statement.paramTypes[i]!]
      return serializer ? serializer(value) : String(value)
    })
    try {
      const messages = await this.exchange(
        [serialize.bind({ statement: statement.name, values }), serialize.execute({}), serialize.sync()],
        begin
      )
      return parse.parseResults(
        [...statement.head, ...messages],
        this.db.parsers,
        rowMode ? { rowMode } : undefined
      )[0] as Results<T>
    } catch (error) {
      if (!isStale(error)) throw error
      this.evict(text)
      // A transaction of the caller's is aborted now; one of our own (`begin`) is over.
      if (retry && (begin !== undefined || !this.db.isInTransaction()))
        return this.run(text, params, rowMode, false, begin)
      throw error
    }
  }

  /** Parses and describes `text` (under `begin`'s role and search_path, which name resolution needs). */
  private async prepare(text: string, begin?: string): Promise<Prepared> {
    const name = `streamspace_${++this.counter}`
    const messages = await this.exchange(
      [serialize.parse({ name, text }), serialize.describe({ type: "S", name }), serialize.sync()],
      begin
    )
    const statement: Prepared = {
      name,
      paramTypes: parse.parseDescribeStatementResults(messages),
      head: messages.filter((m) => m.name === "rowDescription")
    }
    this.prepared.set(text, statement)
    if (this.prepared.size > this.capacity) this.evict(this.prepared.keys().next().value!)
    return statement
  }

  /**
   * Sends extended-protocol `parts` (ending in Sync) in one call, with any
   * pending Close first; with `begin`, between `begin` and COMMIT. Returns
   * the replies to `parts`.
   */
  private async exchange(parts: ReadonlyArray<Uint8Array>, begin?: string): Promise<Array<BackendMessage>> {
    const closing = this.takeClosing()
    if (begin === undefined) return (await this.db.execProtocol(concat([...closing, ...parts]))).messages
    const { messages } = await this.db.execProtocol(
      concat([...closing, serialize.query(begin), ...parts, serialize.query("COMMIT")])
    )
    // ReadyForQuery ends the replies to `begin`, then those to `parts` (Sync).
    const first = messages.findIndex((m) => m.name === "readyForQuery")
    const second = messages.findIndex((m, i) => i > first && m.name === "readyForQuery")
    return messages.slice(first + 1, second)
  }

  /** Marks a statement as most recently used. */
  private touch(text: string): Prepared | undefined {
    const statement = this.prepared.get(text)
    if (statement) {
      this.prepared.delete(text)
      this.prepared.set(text, statement)
    }
    return statement
  }

  private evict(text: string) {
    const statement = this.prepared.get(text)
    if (!statement) return
    this.prepared.delete(text)
    this.closing.push(serialize.close({ type: "S", name: statement.name }))
  }

  private takeClosing(): Array<Uint8Array> {
    const closing = this.closing
    if (closing.length > 0) this.closing = []
    return closing
  }
}
