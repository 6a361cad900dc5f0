/**
 * A TCP proxy in front of PostgreSQL that reads the frontend/backend protocol
 * (v3) as it passes and counts, per database (the start-up message's
 * `database`, else its `user`) and in total:
 *
 * - statements: every simple `Query` ('Q') and every extended-protocol
 *   `Execute` ('E'), as pg_stat_statements would (BEGIN and COMMIT included);
 * - transactions: every `ReadyForQuery` ('Z') that reports the connection
 *   idle ('I') and answers a Query or a Sync that ran something (a Parse,
 *   Bind or Execute since the previous Sync, or a non-empty Query) — the end
 *   of an implicit or explicit transaction, committed or rolled back, as
 *   pg_stat_database's xact_commit + xact_rollback count them (read-only ones
 *   included); the ReadyForQuery after start-up is not one. An explicit
 *   `BEGIN … COMMIT` block is one transaction, counted when it ends.
 *
 * It also keeps the text of each counted statement (whitespace collapsed;
 * from the Query, or the Parse its Bind/Execute refer to), in the order the
 * server received them and tallied by text, so a test or a bench can list
 * what ran. The proxy answers SSL and GSS encryption requests with 'N'
 * itself, so the stream it reads is always plain. What it counts is what the
 * server was asked to do, whatever the driver or the pool.
 */
import type { Socket, TCPSocketListener } from "bun"

export interface Traffic {
  readonly statements: number
  readonly transactions: number
  /** The text of every statement (whitespace collapsed), in the order the server received them. */
  readonly texts: ReadonlyArray<string>
  /** Statement text (whitespace collapsed) → how often it ran. */
  readonly byText: ReadonlyMap<string, number>
}

export interface PgWireCounter {
  /** `upstream` with its host and port replaced by the proxy's. */
  readonly url: (upstream: string) => string
  /** What clients of `database` ran so far; what all clients ran without it. */
  readonly snapshot: (database?: string) => Traffic
  /** True when no connection waits for the server to answer a Query or a Sync. */
  readonly idle: () => boolean
  readonly close: () => void
}

const SSL_REQUEST = 80877103
const GSS_REQUEST = 80877104

/** Buffers what a socket could not take yet and writes it on drain. */
class Outbox {
  private readonly queued: Array<Uint8Array> = []
  socket: Socket<unknown> | undefined

  write(bytes: Uint8Array) {
    if (this.socket === undefined || this.queued.length > 0) {
      this.queued.push(bytes.slice())
      return
    }
    const written = this.socket.write(bytes)
    if (written >= 0 && written < bytes.length) this.queued.push(bytes.slice(written))
  }

  flush() {
    while (this.socket !== undefined && this.queued.length > 0) {
      const head = this.queued[0]!
      const written = this.socket.write(head)
      if (written < 0) return
      if (written < head.length) {
        this.queued[0] = head.slice(written)
        return
      }
      this.queued.shift()
    }
  }
}

/** Reassembles protocol messages from chunks; `typed` is false until the start-up message has passed. */
class MessageReader {
  private pending = new Uint8Array(0)
  constructor(private typed: boolean) {}

  /** Calls `onMessage(type, body)` per complete message; type 0 for the untyped start-up messages. */
  feed(chunk: Uint8Array, onMessage: (type: number, body: Uint8Array) => void) {
    let buf = chunk
    if (this.pending.length > 0) {
      buf = new Uint8Array(this.pending.length + chunk.length)
      buf.set(this.pending)
      buf.set(chunk, this.pending.length)
    }
    let at = 0
    for (;;) {
      const header = this.typed ? 5 : 4
      if (buf.length - at < header) break
      const view = new DataView(buf.buffer, buf.byteOffset + at)
      const length = view.getInt32(this.typed ? 1 : 0)
      const total = (this.typed ? 1 : 0) + length
      if (buf.length - at < total) break
      const type = this.typed ? buf[at]! : 0
      onMessage(type, buf.subarray(at + header, at + total))
      at += total
    }
    this.pending = buf.slice(at)
  }

  startTyped() {
    this.typed = true
  }
}

const decoder = new TextDecoder()

/** The NUL-terminated string at `offset` and the offset after it. */
const cString = (body: Uint8Array, offset: number): readonly [string, number] => {
  const end = body.indexOf(0, offset)
  return [decoder.decode(body.subarray(offset, end)), end + 1]
}

const normalise = (text: string) => text.replace(/\s+/g, " ").trim()

interface Tally {
  statements: number
  transactions: number
  readonly texts: Array<string>
  readonly byText: Map<string, number>
}

const emptyTally = (): Tally => ({ statements: 0, transactions: 0, texts: [], byText: new Map() })

const copy = (t: Tally): Traffic => ({
  statements: t.statements,
  transactions: t.transactions,
  texts: [...t.texts],
  byText: new Map(t.byText)
})

interface Connection {
  readonly toServer: Outbox
  readonly toClient: Outbox
  readonly frontend: MessageReader
  readonly backend: MessageReader
  /** Prepared statement name → text; portal name → text. */
  readonly statements: Map<string, string>
  readonly portals: Map<string, string>
  /** One entry per Query or Sync sent: whether it ran anything (a transaction ends at its ReadyForQuery). */
  readonly cycles: Array<boolean>
  ranSinceSync: boolean
  /** The database's tally, once the start-up message named it. */
  tally: Tally | undefined
  upstream: Socket<undefined> | undefined
}

/** Starts the proxy on an ephemeral port of 127.0.0.1, forwarding to `upstream`'s host and port. */
export const start = (upstream: string): PgWireCounter => {
  const target = new URL(upstream)
  const total = emptyTally()
  const tallies = new Map<string, Tally>()
  const connections = new Set<Connection>()
  const tallyOf = (database: string) => {
    let t = tallies.get(database)
    if (t === undefined) tallies.set(database, (t = emptyTally()))
    return t
  }
  const record = (tally: Tally, text: string) => {
    tally.statements++
    tally.texts.push(text)
    tally.byText.set(text, (tally.byText.get(text) ?? 0) + 1)
  }
  const counted = (conn: Connection, raw: string) => {
    const text = normalise(raw)
    record(total, text)
    if (conn.tally) record(conn.tally, text)
  }

  const startup = (conn: Connection, body: Uint8Array) => {
    const params = decoder.decode(body.subarray(4)).split("\0")
    const at = params.indexOf("database")
    conn.tally = tallyOf(at >= 0 ? params[at + 1]! : (params[params.indexOf("user") + 1] ?? ""))
  }

  const frontendMessage = (conn: Connection, client: Socket<Connection>) => (type: number, body: Uint8Array) => {
    if (type === 0) {
      const code = new DataView(body.buffer, body.byteOffset).getInt32(0)
      if (code === SSL_REQUEST || code === GSS_REQUEST) {
        client.write(new Uint8Array([0x4e])) // 'N': go on unencrypted
        return
      }
      startup(conn, body)
      conn.frontend.startTyped()
    }
    switch (String.fromCharCode(type)) {
      case "Q": {
        const text = cString(body, 0)[0]
        counted(conn, text)
        conn.cycles.push(text.trim().length > 0)
        break
      }
      case "P": {
        const [name, next] = cString(body, 0)
        conn.statements.set(name, cString(body, next)[0])
        conn.ranSinceSync = true
        break
      }
      case "B": {
        const [portal, next] = cString(body, 0)
        conn.portals.set(portal, conn.statements.get(cString(body, next)[0]) ?? "(unknown statement)")
        conn.ranSinceSync = true
        break
      }
      case "E":
        counted(conn, conn.portals.get(cString(body, 0)[0]) ?? "(unknown portal)")
        conn.ranSinceSync = true
        break
      case "S":
        conn.cycles.push(conn.ranSinceSync)
        conn.ranSinceSync = false
        break
    }
    // The encryption requests were answered here; everything else goes on as it came.
    const framed = new Uint8Array((type === 0 ? 4 : 5) + body.length)
    const view = new DataView(framed.buffer)
    if (type === 0) view.setInt32(0, body.length + 4)
    else {
      framed[0] = type
      view.setInt32(1, body.length + 4)
    }
    framed.set(body, type === 0 ? 4 : 5)
    conn.toServer.write(framed)
  }

  const backendMessage = (conn: Connection) => (type: number, body: Uint8Array) => {
    // 'Z' answers the oldest Query or Sync; the one after start-up answers none.
    if (type === 0x5a && conn.cycles.length > 0) {
      const ran = conn.cycles.shift()
      if (ran && body[0] === 0x49) {
        // 'I': idle, the transaction is over
        total.transactions++
        if (conn.tally) conn.tally.transactions++
      }
    }
  }

  const listener: TCPSocketListener<Connection> = Bun.listen<Connection>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        const conn: Connection = {
          toServer: new Outbox(),
          toClient: new Outbox(),
          frontend: new MessageReader(false),
          backend: new MessageReader(true),
          statements: new Map(),
          portals: new Map(),
          cycles: [],
          ranSinceSync: false,
          tally: undefined,
          upstream: undefined
        }
        connections.add(conn)
        conn.toClient.socket = client as Socket<unknown>
        client.data = conn
        const onBackend = backendMessage(conn)
        void Bun.connect<undefined>({
          hostname: target.hostname,
          port: Number(target.port || 5432),
          socket: {
            open(server) {
              conn.upstream = server
              conn.toServer.socket = server as Socket<unknown>
              conn.toServer.flush()
            },
            data(_server, chunk) {
              conn.backend.feed(chunk, onBackend)
              conn.toClient.write(chunk)
            },
            drain() {
              conn.toServer.flush()
            },
            close() {
              client.end()
            },
            error() {
              client.end()
            }
          }
        }).catch(() => client.end())
      },
      data(client, chunk) {
        client.data.frontend.feed(chunk, frontendMessage(client.data, client))
      },
      drain(client) {
        client.data.toClient.flush()
      },
      close(client) {
        connections.delete(client.data)
        client.data.upstream?.end()
      },
      error(client) {
        connections.delete(client.data)
        client.data.upstream?.end()
      }
    }
  })

  return {
    url: (raw) => {
      const u = new URL(raw)
      u.hostname = "127.0.0.1"
      u.port = String(listener.port)
      return u.toString()
    },
    snapshot: (database) => copy(database === undefined ? total : tallyOf(database)),
    idle: () => {
      for (const conn of connections) if (conn.cycles.length > 0) return false
      return true
    },
    close: () => listener.stop(true)
  }
}

/** What ran between two snapshots. */
export const between = (before: Traffic, after: Traffic): Traffic => {
  const byText = new Map<string, number>()
  for (const [text, n] of after.byText) {
    const delta = n - (before.byText.get(text) ?? 0)
    if (delta > 0) byText.set(text, delta)
  }
  return {
    statements: after.statements - before.statements,
    transactions: after.transactions - before.transactions,
    texts: after.texts.slice(before.texts.length),
    byText
  }
}
