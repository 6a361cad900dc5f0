/**
 * `GET /api/sessions/:id/vnc`: a WebSocket that carries a session's VNC
 * (RFB) stream to the browser over TCP to the session's endpoint — an
 * RFB-aware relay, not a TCP tunnel.
 *
 * Who: `?ticket=` from `POST /api/sessions/:id/vnc-ticket` (single use,
 * short-lived, bound to the session; browsers cannot set headers on a
 * WebSocket), or an `Authorization: Bearer` header for other clients. A
 * token in the query string is refused (it would sit in logs and history).
 * The caller is re-derived when the ticket is redeemed (current permissions,
 * narrowed by the API key's current scopes), must hold `sessions:connect`
 * and have access to the session (owner, share, `sessions:admin`). Upgrades
 * are rate limited per caller (`strict`) and audited (`session.connect`).
 *
 * What: every byte goes through `@streamspace/rfb`'s parser, whatever the
 * WebSocket framing. Nothing from the client reaches the session before the
 * session's side has sent an RFB ProtocolVersion, so a peer that is not a
 * VNC server gets nothing and the connection closes. A view share's input
 * (KeyEvent, PointerEvent, ClientCutText) is dropped; SetEncodings keeps
 * only the encodings the parser can frame (`RfbEncodings.withoutRefused`).
 * The session's stream is framed as it passes (each chunk is forwarded as
 * it arrives); ServerCutText, the desktop's clipboard, arrives whole and,
 * like ClientCutText, goes through the stream tap's clipboard filters (DLP)
 * before it is forwarded. A protocol error closes the WebSocket with 4400
 * (client) or 4502 (session). Connecting wakes a
 * hibernated session (not for a view share); an open connection counts as
 * activity, so the session is not hibernated as idle.
 */
import {
  Actor,
  AuditLog,
  Auth,
  Authenticator,
  type HttpRoute,
  type ServiceUnavailable,
  ServerConfig,
  Sessions,
  Text,
  type Unauthorized
} from "@streamspace/core"
import { Bytes, RfbConnection, RfbEncodings, RfbMessage, type RfbProtocolError, RfbTap } from "@streamspace/rfb"
import type { Socket } from "bun"
import { Cause, Data, Effect, Either, type ManagedRuntime, Option, Schema } from "effect"
import type { Elysia } from "elysia"
import * as ClientIp from "./ClientIp.ts"
import { requestIdOf } from "./HttpApp.ts"
import type * as Platform from "./Platform.ts"
import * as Problem from "./Problem.ts"
import { RateLimiter } from "./RateLimiter.ts"

export const path = "/api/sessions/:id/vnc"
export const rateLimit: HttpRoute.RateLimitClass = "strict"

/** Close codes (4000–4999 are the application's), as documented in OpenAPI. */
export const closeCodes = {
  4400: "the client broke the RFB protocol (or sent an extension message the proxy refuses)",
  4401: "no credential, or an invalid, used or expired ticket or token",
  4403: "missing permission sessions:connect, or the caller may not connect this way",
  4404: "no such session (or not visible to the caller)",
  4409: "the session is ended, or hibernated and the caller (a view share) cannot wake it",
  4429: "too many connections; retry later",
  4502: "the session's endpoint cannot be reached or does not speak RFB",
  4504: "the session did not become ready, or its VNC server did not greet",
  1003: "text frames are not RFB: send binary frames",
  1011: "internal error",
  1013: "the database is unavailable; retry later"
} as const

const ACTIVITY_EVERY_MS = 30_000
const WAKE_TIMEOUT_MS = 120_000
/** How long the session's VNC server has to send its ProtocolVersion. */
const GREETING_TIMEOUT_MS = 10_000

/** Why a connection is refused or ended: the close code and reason the client sees. */
class Refusal extends Data.TaggedError("Refusal")<{
  readonly code: keyof typeof closeCodes
  readonly reason: string
}> {}

interface Connection {
  readonly rfb: RfbConnection.RfbConnection
  /** Until the caller is known, nothing it sends could be forwarded anyway; then a view share's input is dropped. */
  viewOnly: boolean
  tcp?: Socket<undefined>
  /** Bytes for the session that its socket has not taken yet. */
  readonly unsent: Array<Uint8Array>
  greeted: boolean
  timers: Array<ReturnType<typeof setTimeout>>
  /** Interrupts what still runs for the connection (the caller's lookup, waking the session, activity ticks). */
  readonly abort: AbortController
  closed: boolean
  /** The stream tap's side of this connection (RfbTap): subscribers see what is relayed. */
  tap?: RfbTap.ConnectionTap
}

interface WsLike {
  readonly raw: {
    send: (data: Uint8Array | string) => unknown
    close: (code?: number, reason?: string) => void
    readonly remoteAddress: string
  }
  readonly data: {
    readonly params: Record<string, string>
    readonly query: Record<string, unknown>
    readonly headers: Record<string, string | undefined>
  }
}

const bytesOf = (message: unknown): Uint8Array | undefined => {
  if (message instanceof Uint8Array) return message
  if (message instanceof ArrayBuffer) return new Uint8Array(message)
  return undefined
}

/** A close reason fits in 123 bytes of UTF-8. */
const reasonText = (reason: string) => {
  const bytes = new TextEncoder().encode(reason)
  return bytes.length <= 123 ? reason : `${new TextDecoder().decode(bytes.subarray(0, 120)).replace(/\uFFFD$/, "")}...`
}

/** Session ids and tickets: short strings without NUL (anything else cannot name one). */
const isId = Schema.is(Text.Id)

const bearerOf = (header: string | undefined) => /^Bearer\s+(.+)$/i.exec(header?.trim() ?? "")?.[1]

/** The caller behind the ticket or bearer header; refusals carry the close code. */
const identify = (id: string, query: Record<string, unknown>, authorization: string | undefined) =>
  Effect.gen(function* () {
    const ticket = query["ticket"]
    const bearer = bearerOf(authorization)
    if (ticket !== undefined) {
      if (typeof ticket !== "string" || !isId(ticket))
        return yield* new Refusal({ code: 4401, reason: "invalid ticket: one ?ticket= as issued" })
      const sessions = yield* Sessions.Sessions
      const holder = yield* sessions.redeemVncTicket(id, ticket)
      return yield* Auth.actorOf(
        holder.userId,
        Option.map(holder.apiKey, (key) => key.id),
        Option.match(holder.apiKey, { onNone: () => null, onSome: (key) => key.scopes })
      )
    }
    if (bearer !== undefined) return yield* Effect.flatMap(Authenticator.Authenticator, (a) => a.authenticate(bearer))
    return yield* new Refusal({
      code: 4401,
      reason:
        query["token"] === undefined
          ? "authentication required: ?ticket= (POST /api/sessions/:id/vnc-ticket) or an Authorization header"
          : "?token= is not accepted: get a ticket with POST /api/sessions/:id/vnc-ticket"
    })
  }).pipe(
    Effect.catchTags({
      Unauthorized: (e: Unauthorized) => Effect.fail(new Refusal({ code: 4401, reason: e.message })),
      ServiceUnavailable: (e: ServiceUnavailable) => Effect.fail(new Refusal({ code: 1013, reason: e.message }))
    })
  )

/** Waits (waking the session if the caller may) until it runs; its endpoint and the caller's access. */
const endpointFor = (id: string, actor: Actor.Actor) =>
  Effect.gen(function* () {
    const sessions = yield* Sessions.Sessions
    const lookup = sessions.resolveEndpoint(id).pipe(
      Effect.provideService(Actor.CurrentActor, actor),
      Effect.catchTags({
        NotFound: (e) => Effect.fail(new Refusal({ code: 4404, reason: e.message })),
        Forbidden: (e) => Effect.fail(new Refusal({ code: 4403, reason: e.message })),
        Conflict: (e) => Effect.fail(new Refusal({ code: 4409, reason: e.message }))
      })
    )
    const deadline = Date.now() + WAKE_TIMEOUT_MS
    for (;;) {
      const found = yield* lookup
      if (found.endpoint) return { endpoint: found.endpoint, access: found.access }
      // Only a caller who may wake it waits for a hibernated session.
      if (found.state === "hibernated" && found.access === "view")
        return yield* new Refusal({ code: 4409, reason: "session is hibernated; a view share cannot wake it" })
      if (found.state === "terminated" || found.state === "failed")
        return yield* new Refusal({ code: 4409, reason: `session is ${found.state}` })
      if (Date.now() > deadline) return yield* new Refusal({ code: 4504, reason: "session did not become ready" })
      yield* Effect.promise(() => Bun.sleep(500))
    }
  })

const refusalOf = (cause: Cause.Cause<unknown>): Refusal | undefined =>
  Option.getOrUndefined(Option.filter(Cause.failureOption(cause), (e): e is Refusal => e instanceof Refusal))

/** `host:port` (the host may be a DNS name; IPv6 literals come bracketed). */
const parseEndpoint = (endpoint: string) => {
  const at = endpoint.lastIndexOf(":")
  return { hostname: endpoint.slice(0, at).replace(/^\[(.*)\]$/, "$1"), port: Number(endpoint.slice(at + 1)) }
}

/** The OpenAPI operation of the WebSocket (see OpenApi.ts): a GET answered 101 Switching Protocols. */
export const openApiOperation = {
  path,
  method: "get",
  operation: {
    summary: "Open the session's desktop: a WebSocket carrying its RFB (VNC) stream, binary frames",
    description: [
      "Upgrade to a WebSocket with `?ticket=` from `POST /api/sessions/{id}/vnc-ticket` (single use, bound to this session, valid `auth.vncTicketTtlSeconds`), or with an `Authorization: Bearer` header (access token or API key) where the client can set one; a token in the query string is refused.",
      "Needs `sessions:connect` (for an API key: as a scope) and access to the session (owner, share, `sessions:admin`). A view share receives the screen; its key, pointer and clipboard messages are dropped. Connecting wakes a hibernated session unless the caller only has a view share.",
      "The stream is parsed as RFB 3.3/3.7/3.8 (security None or VNC authentication): extension messages and protocol errors close the connection. Refusals and errors after the upgrade are close codes:",
      ...Object.entries(closeCodes).map(([code, meaning]) => `- ${code}: ${meaning}`)
    ].join("\n\n"),
    tags: ["sessions"],
    "x-permission": Sessions.connectPermission,
    "x-rate-limit": rateLimit,
    "x-websocket": true,
    parameters: [
      { name: "id", in: "path", required: true, schema: { type: "string" } },
      {
        name: "ticket",
        in: "query",
        required: false,
        description: "A ticket from POST /api/sessions/{id}/vnc-ticket (or send an Authorization header instead)",
        schema: { type: "string" }
      }
    ],
    responses: {
      "101": { description: "Switching Protocols: the WebSocket carries the session's RFB stream" },
      "426": {
        description: "Upgrade Required: the request was not a WebSocket upgrade",
        content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } }
      }
    }
  }
} as const

export const mount = (app: Elysia, runtime: ManagedRuntime.ManagedRuntime<Platform.Services, unknown>) => {
  const connections = new WeakMap<object, Connection>()
  const config = runtime.runSync(ServerConfig.ServerConfig)
  const clientIp = ClientIp.make(config.trustedProxies)
  const limiter = runtime.runSync(RateLimiter)
  const taps = runtime.runSync(RfbTap.TapHub)

  /** Stops the connection's timers and work and ends its TCP socket; false if it was already released. */
  const release = (conn: Connection) => {
    if (conn.closed) return false
    conn.closed = true
    for (const timer of conn.timers) clearTimeout(timer)
    conn.abort.abort()
    conn.tap?.close()
    conn.tcp?.end()
    return true
  }

  const close = (socket: WsLike, conn: Connection, code: number, reason: string) => {
    if (release(conn)) socket.raw.close(code, reasonText(reason))
  }

  const protocolError = (socket: WsLike, conn: Connection, error: RfbProtocolError) =>
    error.direction === "client"
      ? close(socket, conn, 4400, `RFB protocol error: ${error.message}`)
      : close(socket, conn, 4502, `the session's VNC server ${error.message}`)

  const flush = (conn: Connection) => {
    if (conn.tcp) Bytes.writeQueued(conn.tcp, conn.unsent)
  }

  /** Forwards what the parser classified: server messages to the browser, client messages to the session. */
  const relay = (socket: WsLike, conn: Connection, parsed: ReturnType<RfbConnection.RfbConnection["push"]>) => {
    if (Either.isLeft(parsed)) return protocolError(socket, conn, parsed.left)
    const tap = conn.tap
    for (const message of parsed.right) {
      if (message.direction === "server") {
        conn.greeted = true
        // Subscribers (DLP) may drop or replace the desktop's clipboard text before it reaches the viewer.
        const bytes =
          message.type === "ServerCutText" && tap?.active() ? tap.clipboard("server", message.bytes) : message.bytes
        if (bytes === undefined) continue
        socket.raw.send(bytes)
        tap?.record(bytes === message.bytes ? message : { ...message, bytes })
      } else if (!(conn.viewOnly && RfbMessage.carriesInput(message))) {
        let bytes: Uint8Array | undefined =
          message.type === "SetEncodings" ? RfbEncodings.withoutRefused(message.bytes) : message.bytes
        // Subscribers (DLP) may drop or replace clipboard text before it reaches the desktop.
        if (message.type === "ClientCutText" && tap?.active()) bytes = tap.clipboard("client", bytes)
        if (bytes === undefined) continue
        conn.unsent.push(bytes)
        tap?.record(bytes === message.bytes ? message : { ...message, bytes })
      }
    }
    flush(conn)
  }

  /** A plain GET (no upgrade) gets a problem document rather than Elysia's bare text. */
  app.get(path, ({ request }) =>
    Problem.response(
      Problem.problem(426, "upgrade_required", "this endpoint is a WebSocket: send an upgrade request", {
        title: "Upgrade Required"
      }),
      { upgrade: "websocket", "x-request-id": requestIdOf(request) }
    )
  )

  app.ws(path, {
    open: async (ws) => {
      const socket = ws as unknown as WsLike
      const conn: Connection = {
        rfb: RfbConnection.make(),
        viewOnly: true,
        unsent: [],
        greeted: false,
        timers: [],
        abort: new AbortController(),
        closed: false
      }
      connections.set(ws.raw, conn)
      const id = socket.data.params["id"] ?? ""
      const headers = socket.data.headers
      const info: Actor.RequestInfo = {
        requestId: crypto.randomUUID(),
        ip: clientIp.resolve(socket.raw.remoteAddress, headers["x-forwarded-for"] ?? null),
        userAgent: headers["user-agent"] ?? ""
      }
      const audit = (actor: Actor.Actor, result: "success" | "denied", detail: string) =>
        Effect.flatMap(AuditLog.AuditLog, (log) =>
          log.record({ actor, action: "session.connect", target: id, ...info, result, detail })
        ).pipe(Effect.ignore)

      const connect = Effect.gen(function* () {
        if (!isId(id) || id.length === 0) return yield* new Refusal({ code: 4404, reason: "no such session" })
        const identified = yield* Effect.either(identify(id, socket.data.query, headers["authorization"]))
        const caller = Either.isRight(identified) ? Actor.actorId(identified.right) : null
        const decision = limiter.check(rateLimit, `GET ${path} ${caller ? `u:${caller}` : `ip:${info.ip}`}`)
        if (!decision.allowed)
          return yield* new Refusal({
            code: 4429,
            reason: `rate limit exceeded; retry in ${decision.retryAfterSeconds} s`
          })
        const actor = yield* identified
        const permitted = Actor.hasPermission(actor, Sessions.connectPermission)
          ? Effect.void
          : new Refusal({ code: 4403, reason: `missing permission ${Sessions.connectPermission}` })
        return yield* Effect.zipRight(permitted, endpointFor(id, actor)).pipe(
          Effect.tap(({ access }) => audit(actor, "success", `access: ${access}`)),
          Effect.tapError((refusal) => audit(actor, "denied", `${refusal.code} ${refusal.reason}`)),
          Effect.map((found) => ({ ...found, actor }))
        )
      })
      const exit = await runtime.runPromiseExit(connect, { signal: conn.abort.signal })
      if (conn.closed) return
      if (exit._tag === "Failure") {
        const refusal = refusalOf(exit.cause)
        if (!refusal) runtime.runFork(Effect.logError("VNC connection failed", exit.cause))
        const failure = refusal ?? new Refusal({ code: 1011, reason: "internal error" })
        return close(socket, conn, failure.code, failure.reason)
      }
      const { endpoint, access, actor } = exit.value
      conn.viewOnly = access === "view"
      try {
        conn.tcp = await Bun.connect({
          ...parseEndpoint(endpoint),
          socket: {
            data: (_s, data) => {
              const dropped = conn.rfb.droppedServerCutTexts()
              relay(socket, conn, conn.rfb.push("server", data))
              if (conn.rfb.droppedServerCutTexts() > dropped)
                runtime.runFork(
                  Effect.logWarning(`VNC session ${id}: a copy out of the desktop over 1 MiB was dropped`)
                )
            },
            drain: () => flush(conn),
            close: () => close(socket, conn, 1000, "the session closed the connection"),
            error: () => close(socket, conn, 4502, "the session connection failed")
          }
        })
      } catch {
        return close(socket, conn, 4502, "cannot reach the session")
      }
      if (conn.closed) return void conn.tcp.end()
      conn.tap = taps.open(
        {
          sessionId: id,
          connectionId: info.requestId,
          userId: Actor.actorId(actor),
          viewOnly: conn.viewOnly,
          openedAt: RfbTap.now()
        },
        (bytes) => {
          if (conn.closed) return
          conn.unsent.push(bytes)
          flush(conn)
        }
      )
      conn.timers.push(
        setTimeout(() => {
          if (!conn.greeted) close(socket, conn, 4504, "the session's VNC server did not send an RFB ProtocolVersion")
        }, GREETING_TIMEOUT_MS)
      )
      // Activity keeps the session from idling out; a lost share or permission ends the connection.
      const activity = setInterval(() => {
        const check = endpointFor(id, actor).pipe(Effect.timeout(ACTIVITY_EVERY_MS))
        runtime.runPromiseExit(check, { signal: conn.abort.signal }).then((tick) => {
          const refusal = tick._tag === "Failure" ? refusalOf(tick.cause) : undefined
          if (refusal) close(socket, conn, refusal.code, refusal.reason)
        })
      }, ACTIVITY_EVERY_MS)
      conn.timers.push(activity)
    },
    message: (ws, message) => {
      const socket = ws as unknown as WsLike
      const conn = connections.get(ws.raw)
      if (!conn || conn.closed) return
      const bytes = bytesOf(message)
      if (!bytes) return close(socket, conn, 1003, "RFB travels in binary frames")
      relay(socket, conn, conn.rfb.push("client", bytes))
    },
    close: (ws) => {
      const conn = connections.get(ws.raw)
      if (conn) release(conn)
    }
  })
}
