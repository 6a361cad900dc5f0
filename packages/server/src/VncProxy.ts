/**
 * `GET /api/sessions/:id/vnc`: a WebSocket that carries a session's VNC
 * (RFB) stream to the browser, websockify-style, over TCP to the session's
 * endpoint. The token comes as `?token=` (browsers cannot set headers on
 * WebSockets) or an Authorization header. Connecting to a hibernated
 * session wakes it; an open connection counts as activity, so the session
 * is not hibernated as idle. `view` shares receive the screen but their
 * input events (RFB key, pointer, clipboard) are dropped.
 */
import { Actor, Authenticator, Sessions } from "@streamspace/core"
import type { Socket } from "bun"
import { Effect, type ManagedRuntime } from "effect"
import type { Elysia } from "elysia"
import type * as Platform from "./Platform.ts"

const ACTIVITY_EVERY_MS = 30_000
const WAKE_TIMEOUT_MS = 120_000
/** Client → server RFB messages after the handshake that carry input. */
const INPUT_MESSAGES = new Set([4, 5, 6])

interface Connection {
  tcp?: Socket<undefined>
  readonly pending: Array<Uint8Array>
  viewOnly: boolean
  clientMessages: number
  timer?: ReturnType<typeof setInterval>
  closed: boolean
}

interface WsLike {
  readonly raw: { send: (data: Uint8Array | string) => unknown; close: (code?: number, reason?: string) => void }
  readonly data: {
    readonly params: Record<string, string>
    readonly query: Record<string, string | undefined>
    readonly headers: Record<string, string | undefined>
  }
}

const bytesOf = (message: unknown): Uint8Array | undefined => {
  if (message instanceof Uint8Array) return message
  if (message instanceof ArrayBuffer) return new Uint8Array(message)
  if (typeof message === "string") return new TextEncoder().encode(message)
  return undefined
}

export const mount = (app: Elysia, runtime: ManagedRuntime.ManagedRuntime<Platform.Services, unknown>) => {
  const connections = new WeakMap<object, Connection>()

  const resolve = (id: string, bearer: string | undefined) =>
    Effect.gen(function* () {
      if (!bearer) return yield* Effect.fail({ code: 4401, reason: "authentication required" })
      const actor = yield* Effect.flatMap(Authenticator.Authenticator, (a) => a.authenticate(bearer)).pipe(
        Effect.mapError(() => ({ code: 4401, reason: "invalid token" }))
      )
      const sessions = yield* Sessions.Sessions
      const lookup = sessions.resolveEndpoint(id).pipe(
        Effect.provideService(Actor.CurrentActor, actor),
        Effect.mapError((e) => ({
          code: e._tag === "NotFound" ? 4404 : e._tag === "Forbidden" ? 4403 : 4500,
          reason: e.message
        }))
      )
      const deadline = Date.now() + WAKE_TIMEOUT_MS
      for (;;) {
        const found = yield* lookup
        if (found.endpoint) return { endpoint: found.endpoint, viewOnly: found.access === "view", actor }
        if (found.state === "terminated" || found.state === "failed")
          return yield* Effect.fail({ code: 4409, reason: `session is ${found.state}` })
        if (Date.now() > deadline) return yield* Effect.fail({ code: 4504, reason: "session did not become ready" })
        yield* Effect.promise(() => Bun.sleep(500))
      }
    })

  app.ws("/api/sessions/:id/vnc", {
    open: async (ws) => {
      const socket = ws as unknown as WsLike
      const conn: Connection = { pending: [], viewOnly: true, clientMessages: 0, closed: false }
      connections.set(ws.raw, conn)
      const header = socket.data.headers["authorization"]
      const bearer =
        socket.data.query["token"] ?? (header?.toLowerCase().startsWith("bearer ") ? header.slice(7).trim() : undefined)
      const id = socket.data.params["id"] ?? ""
      const exit = await runtime.runPromiseExit(resolve(id, bearer))
      if (conn.closed) return
      if (exit._tag === "Failure") {
        const failure =
          exit.cause._tag === "Fail"
            ? (exit.cause.error as { code: number; reason: string })
            : { code: 1011, reason: "internal error" }
        socket.raw.close(failure.code, failure.reason)
        return
      }
      const { endpoint, viewOnly } = exit.value
      conn.viewOnly = viewOnly
      const [host, portText] = [
        endpoint.slice(0, endpoint.lastIndexOf(":")),
        endpoint.slice(endpoint.lastIndexOf(":") + 1)
      ]
      try {
        conn.tcp = await Bun.connect({
          hostname: host,
          port: Number(portText),
          socket: {
            data: (_s, data) => void socket.raw.send(data),
            close: () => socket.raw.close(1000, "session closed the connection"),
            error: () => socket.raw.close(1011, "session connection failed")
          }
        })
      } catch {
        socket.raw.close(4502, "cannot reach the session")
        return
      }
      for (const chunk of conn.pending.splice(0)) conn.tcp.write(chunk)
      conn.timer = setInterval(() => {
        runtime.runFork(
          Effect.flatMap(Sessions.Sessions, (s) => s.resolveEndpoint(id)).pipe(
            Effect.provideService(Actor.CurrentActor, exit.value.actor),
            Effect.ignore
          )
        )
      }, ACTIVITY_EVERY_MS)
    },
    message: (ws, message) => {
      const conn = connections.get(ws.raw)
      const bytes = bytesOf(message)
      if (!conn || !bytes) return
      conn.clientMessages++
      // The first three client messages are the RFB handshake (version, security, ClientInit).
      if (conn.viewOnly && conn.clientMessages > 3 && INPUT_MESSAGES.has(bytes[0] ?? -1)) return
      if (conn.tcp) conn.tcp.write(bytes)
      else conn.pending.push(bytes)
    },
    close: (ws) => {
      const conn = connections.get(ws.raw)
      if (!conn) return
      conn.closed = true
      if (conn.timer) clearInterval(conn.timer)
      conn.tcp?.end()
    }
  })
}
