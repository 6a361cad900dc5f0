/**
 * One socket write per statement for a node-postgres client.
 *
 * node-postgres sends each protocol message of a statement (Parse, Bind,
 * Describe, Execute, Sync) with its own `socket.write`, corking the socket
 * around them so the kernel sees one packet. Under Bun every one of those
 * writes still runs the Writable machinery (buffer an entry, then on uncork
 * `_writev`, `Buffer.concat`, `_write`): a fixed JS cost per message, several
 * times per statement. Here the messages written between `cork()` and
 * `uncork()` (which `Query.submit` brackets a statement with) are collected
 * and handed to the socket as one buffer in one `write`; outside that bracket
 * (start-up, simple queries, `end`) writes pass through unchanged.
 *
 * Installed per connection by `PostgresClient`; `test/db/coalesced-writes.pg.test.ts`
 * fails if a statement ever takes more than one write again (e.g. after a
 * node-postgres upgrade renames what this hooks).
 */
import type Pg from "pg"

/** The parts of node-postgres's (untyped) `Connection` this relies on. */
interface PgConnection {
  readonly stream: { cork?: () => void; uncork?: () => void; writable: boolean; write: (chunk: Buffer) => boolean }
  _send: (buffer: Buffer) => boolean
  flush: () => void
}

/** The protocol's Flush message: "H" and its length, 4. */
const flushMessage = Buffer.from([0x48, 0, 0, 0, 4])
const installed = Symbol.for("@streamspace/db/CoalescedWrites")

const connectionOf = (client: Pg.Client): PgConnection | undefined => {
  const connection = (client as unknown as { connection?: PgConnection }).connection
  const stream = connection?.stream
  return connection && typeof connection._send === "function" && stream && typeof stream.uncork === "function"
    ? connection
    : undefined
}

/** Makes `client` write each statement's messages at once. Returns false when its internals are not as expected. */
export const install = (client: Pg.Client): boolean => {
  const connection = connectionOf(client)
  if (connection === undefined) return false
  if (Reflect.get(connection, installed) === true) return true
  const stream = connection.stream
  const send = connection._send.bind(connection)
  const flush = connection.flush.bind(connection)
  const pending: Array<Buffer> = []
  let depth = 0

  const release = () => {
    if (pending.length === 0) return
    const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending)
    pending.length = 0
    send(chunk)
  }
  connection._send = (buffer) => {
    if (depth === 0) return send(buffer)
    pending.push(buffer)
    return stream.writable
  }
  // A cursor's page request ends with Flush instead of Sync; node-postgres writes it past `_send`.
  connection.flush = () => {
    if (depth === 0) flush()
    else pending.push(flushMessage)
  }
  stream.cork = () => {
    depth++
  }
  stream.uncork = () => {
    if (depth === 0) return
    depth--
    if (depth === 0) release()
  }
  Reflect.set(connection, installed, true)
  return true
}
