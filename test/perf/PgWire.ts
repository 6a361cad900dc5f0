/**
 * A TCP proxy in front of PostgreSQL that reads the frontend/backend protocol
 * going through it and counts, per database, the statements clients ran
 * (one per simple `Query`, one per extended-protocol `Execute`) and the
 * transactions they opened (a statement run while the connection was idle:
 * an autocommitted statement, or the `BEGIN` of a block). What it counts is
 * what the server was asked to do, whatever the driver or the pool.
 */
import * as Net from "node:net"

export interface Counts {
  readonly statements: number
  readonly transactions: number
  /** The text of every statement, in the order the server received them. */
  readonly texts: ReadonlyArray<string>
}

export interface PgWire {
  /** `url` with its host and port replaced by the proxy's. */
  readonly proxied: (url: string) => string
  /** What clients of `database` ran so far. */
  readonly counts: (database: string) => Counts
  /** True when no connection waits for an answer from the server. */
  readonly idle: () => boolean
  readonly close: () => Promise<void>
}

interface Tally {
  statements: number
  transactions: number
  texts: Array<string>
}

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104

const cstring = (buf: Buffer, at: number): [string, number] => {
  const end = buf.indexOf(0, at)
  return [buf.toString("utf8", at, end), end + 1]
}

export const start = async (target: { readonly host: string; readonly port: number }): Promise<PgWire> => {
  const tallies = new Map<string, Tally>()
  const sockets = new Set<Net.Socket>()
  let waiting = 0
  const tallyOf = (database: string) => {
    let t = tallies.get(database)
    if (!t) tallies.set(database, (t = { statements: 0, transactions: 0, texts: [] }))
    return t
  }

  const server = Net.createServer((client) => {
    const upstream = Net.connect(target.port, target.host)
    sockets.add(client).add(upstream)
    let tally: Tally | undefined
    let fromClient = Buffer.alloc(0)
    let fromServer = Buffer.alloc(0)
    let started = false
    let rawServerBytes = 0
    let status = "I"
    let ran = 0
    let pending = 0
    const named = new Map<string, string>()
    const portals = new Map<string, string>()

    const ranStatement = (text: string) => {
      if (!tally) return
      tally.statements++
      tally.texts.push(text.replace(/\s+/g, " ").trim())
      ran++
    }

    const readClient = () => {
      for (;;) {
        if (!started) {
          if (fromClient.length < 8) return
          const length = fromClient.readInt32BE(0)
          if (fromClient.length < length) return
          const code = fromClient.readInt32BE(4)
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) rawServerBytes++
          else {
            started = true
            const params = fromClient.subarray(8, length).toString("utf8").split("\0")
            const at = params.indexOf("database")
            tally = tallyOf(at >= 0 ? params[at + 1]! : params[params.indexOf("user") + 1]!)
          }
          fromClient = fromClient.subarray(length)
          continue
        }
        if (fromClient.length < 5) return
        const length = fromClient.readInt32BE(1)
        if (fromClient.length < length + 1) return
        const type = String.fromCharCode(fromClient[0]!)
        const body = fromClient.subarray(5, length + 1)
        if (type === "Q") {
          ranStatement(cstring(body, 0)[0])
          pending++
        } else if (type === "P") {
          const [name, next] = cstring(body, 0)
          named.set(name, cstring(body, next)[0])
        } else if (type === "B") {
          const [portal, next] = cstring(body, 0)
          portals.set(portal, named.get(cstring(body, next)[0]) ?? "")
        } else if (type === "E") {
          ranStatement(portals.get(cstring(body, 0)[0]) ?? "")
        } else if (type === "S") {
          pending++
        }
        fromClient = fromClient.subarray(length + 1)
      }
    }

    const readServer = () => {
      for (;;) {
        if (rawServerBytes > 0) {
          if (fromServer.length < 1) return
          rawServerBytes--
          fromServer = fromServer.subarray(1)
          continue
        }
        if (fromServer.length < 5) return
        const length = fromServer.readInt32BE(1)
        if (fromServer.length < length + 1) return
        if (fromServer[0] === 0x5a /* ReadyForQuery */) {
          const next = String.fromCharCode(fromServer[5]!)
          if (ran > 0 && status === "I" && tally) tally.transactions++
          ran = 0
          status = next
          if (pending > 0) pending--
        }
        fromServer = fromServer.subarray(length + 1)
      }
    }

    const track = (delta: number) => {
      waiting += delta
    }
    client.on("data", (chunk: Buffer) => {
      const before = pending
      fromClient = Buffer.concat([fromClient, chunk])
      readClient()
      track(pending - before)
      upstream.write(chunk)
    })
    upstream.on("data", (chunk: Buffer) => {
      const before = pending
      fromServer = Buffer.concat([fromServer, chunk])
      readServer()
      track(pending - before)
      client.write(chunk)
    })
    const end = () => {
      track(-pending)
      pending = 0
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on("close", end).on("error", end)
    upstream.on("close", end).on("error", end)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as Net.AddressInfo).port

  return {
    proxied: (url) => {
      const u = new URL(url)
      u.hostname = "127.0.0.1"
      u.port = String(port)
      return u.toString()
    },
    counts: (database) => {
      const t = tallyOf(database)
      return { statements: t.statements, transactions: t.transactions, texts: [...t.texts] }
    },
    idle: () => waiting === 0,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** What ran between two counts. */
export const between = (before: Counts, after: Counts): Counts => ({
  statements: after.statements - before.statements,
  transactions: after.transactions - before.transactions,
  texts: after.texts.slice(before.texts.length)
})
