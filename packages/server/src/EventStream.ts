/**
 * `GET /api/events/stream`: server-sent events (text/event-stream) that let
 * the console follow sessions and plugins live instead of polling. A normal
 * authenticated GET (`Authorization: Bearer`), read by browsers with fetch.
 *
 * One reader per server follows the event outbox in (tx_id, position) order
 * below the oldest running transaction (as EventDelivery does, so a late
 * commit is never skipped). It reads when woken — in-process after a commit
 * that wrote events, and on PostgreSQL by the NOTIFY every replica's
 * EventDelivery sends on `streamspace_events` — and every two seconds while
 * clients are connected (wake-ups are best effort). Each event is offered
 * to every client whose caller may see it:
 *
 * - `session.*`: the session's owner, users it is shared with, and holders
 *   of `sessions:admin`; the caller needs `sessions:read` (or admin).
 * - `plugin.*` (core events only): every logged-in user, with just the
 *   plugin id.
 *
 * Each event is `event: <type>`, `id: <cursor>` (opaque: `<tx_id>-<position>`
 * in the outbox), `data: <json>`. A client that reconnects with
 * `Last-Event-ID` gets what it missed; when that is too much (or the cursor
 * is unknown) it gets one `event: reset` and should reload what it shows.
 * The first frame is `event: ready` with the current cursor. A comment
 * every 15 s keeps proxies from closing an idle stream.
 *
 * Bounded: a client that does not read (more than 1 MiB waiting) is cut off
 * and resumes with Last-Event-ID; a caller may hold 8 streams; a stream
 * ends after 5 minutes so that the caller (token, permissions, shares) is
 * checked again on reconnect. `close()` ends every stream, for shutdown.
 */
import { SqlClient } from "@effect/sql"
import {
  Actor,
  Authenticator,
  ChannelListener,
  EventOutbox,
  type HttpRoute,
  type ServiceUnavailable,
  type Unauthorized
} from "@streamspace/core"
import { Cause, Effect, Exit, type ManagedRuntime, Option, Schedule, Scope, Stream } from "effect"
import type { Elysia } from "elysia"
import * as ClientIp from "./ClientIp.ts"
import { requestIdOf } from "./HttpApp.ts"
import type * as Platform from "./Platform.ts"
import * as Problem from "./Problem.ts"
import { RateLimiter } from "./RateLimiter.ts"
import { ServerConfig } from "@streamspace/core"

export const path = "/api/events/stream"
/** Any logged-in caller; what each event needs is checked per event (see `visibleTo`). */
export const permission = "authenticated"
export const rateLimit: HttpRoute.RateLimitClass = "standard"
export const readPermission = "sessions:read"
export const allSessionsPermission = "sessions:admin"

export const heartbeatMs = 15_000
const POLL_MS = 2_000
const MAX_LIFETIME_MS = 5 * 60_000
const MAX_WAITING_BYTES = 1 << 20
const MAX_STREAMS_PER_CALLER = 8
const PAGE = 500
/** Rows a resuming client may be replayed; beyond that it gets `reset`. */
const CATCH_UP_MAX = 5_000
const CHANNEL = "streamspace_events"

/** A place in the outbox: events are ordered by (tx_id, position). */
export interface Cursor {
  readonly tx: bigint
  readonly position: bigint
}

export const formatCursor = (c: Cursor): string => `${c.tx}-${c.position}`

/** The cursor a `Last-Event-ID` names; undefined when it is not one this server wrote. */
export const parseCursor = (text: string): Cursor | undefined => {
  const m = /^(\d{1,20})-(\d{1,20})$/.exec(text.trim())
  return m ? { tx: BigInt(m[1]!), position: BigInt(m[2]!) } : undefined
}

export const isAfter = (a: Cursor, b: Cursor): boolean => a.tx > b.tx || (a.tx === b.tx && a.position > b.position)

export interface OutboxEvent {
  readonly cursor: Cursor
  readonly id: string
  readonly type: string
  readonly payload: Readonly<Record<string, unknown>>
  readonly occurredAt: string
}

/** Who is reading a stream, as far as event visibility goes. */
export interface Viewer {
  readonly userId: string
  readonly readsSessions: boolean
  readonly seesAllSessions: boolean
}

const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined)

/**
 * The JSON the viewer receives for `event`, or undefined when the viewer may
 * not see it. `sharedWith(sessionId)`: whether the session is shared with them.
 */
export const visibleTo = (
  viewer: Viewer,
  event: OutboxEvent,
  sharedWith: (sessionId: string) => boolean
): Record<string, unknown> | undefined => {
  if (event.type.startsWith("session.")) {
    const sessionId = text(event.payload["sessionId"])
    if (!sessionId) return undefined
    const may =
      viewer.seesAllSessions ||
      (viewer.readsSessions && (event.payload["userId"] === viewer.userId || sharedWith(sessionId)))
    if (!may) return undefined
    const { sessionId: _, userId, templateId, state, reason } = event.payload
    return {
      id: event.id,
      type: event.type,
      sessionId,
      userId,
      templateId,
      state,
      ...(reason !== undefined ? { reason } : {}),
      occurredAt: event.occurredAt
    }
  }
  if (event.type.startsWith("plugin.")) {
    const pluginId = text(event.payload["pluginId"]) ?? text(event.payload["plugin"]) ?? text(event.payload["id"])
    return pluginId ? { id: event.id, type: event.type, pluginId, occurredAt: event.occurredAt } : undefined
  }
  return undefined
}

/** One server-sent event; `data` is one line of JSON. */
export const frame = (type: string, cursor: Cursor | undefined, data: unknown): string =>
  `event: ${type}\n${cursor ? `id: ${formatCursor(cursor)}\n` : ""}data: ${JSON.stringify(data)}\n\n`

interface EventRow {
  readonly tx_id: string
  readonly position: string
  readonly id: string
  readonly type: string
  readonly payload: unknown
  readonly occurred_at: Date | string
}

const toEvent = (row: EventRow): OutboxEvent => {
  const payload = typeof row.payload === "string" ? (JSON.parse(row.payload) as unknown) : row.payload
  return {
    cursor: { tx: BigInt(row.tx_id), position: BigInt(row.position) },
    id: row.id,
    type: row.type,
    payload: typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>) : {},
    occurredAt: new Date(row.occurred_at).toISOString()
  }
}

/** Outbox rows after `from` (up to `to`, if given) of the types the stream carries. */
const readAfter = (from: Cursor, to: Cursor | undefined, limit: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<EventRow>`
      SELECT tx_id::text AS tx_id, position::text AS position, id, type, payload, occurred_at FROM events
      WHERE (tx_id, position) > (${from.tx.toString()}::xid8, ${from.position.toString()}::bigint)
        ${to ? sql`AND (tx_id, position) <= (${to.tx.toString()}::xid8, ${to.position.toString()}::bigint)` : sql``}
        AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
        AND source = 'core' AND (type LIKE 'session.%' OR type LIKE 'plugin.%')
      ORDER BY tx_id, position LIMIT ${limit}`.pipe(Effect.map((rows) => rows.map(toEvent)))
  )

/** Where a new reader starts: after everything committed before now (later commits are read). */
const currentCursor = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ xmin: string }>`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`.pipe(
    Effect.map((rows): Cursor => ({ tx: BigInt(rows[0]!.xmin), position: 0n }))
  )
)

/** Which of `sessionIds` are shared with which users. */
const sharesOf = (sessionIds: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ session_id: string; user_id: string }>`
      SELECT session_id, user_id FROM session_shares WHERE session_id = ANY(${sessionIds})`.pipe(
      Effect.map((rows) => new Set(rows.map((r) => `${r.session_id}\0${r.user_id}`)))
    )
  )

interface Client {
  readonly viewer: Viewer
  readonly controller: ReadableStreamDefaultController<Uint8Array>
  /** The last cursor sent: nothing at or before it is sent again. */
  last: Cursor
  /** Live events that arrive while a resuming client is replayed; undefined once it is live. */
  pending: Array<OutboxEvent> | undefined
  pendingShares: Set<string>
  closed: boolean
  readonly timers: Array<ReturnType<typeof setTimeout>>
}

const encoder = new TextEncoder()

export interface EventStreamHandle {
  /** Ends every stream and refuses new ones (server shutdown). */
  readonly close: () => void
  /** Streams open now. */
  readonly clients: () => number
}

const handles = new WeakMap<object, EventStreamHandle>()

/** The handle of the stream mounted on `app` (for shutdown), if any. */
export const handleOf = (app: object): EventStreamHandle | undefined => handles.get(app)

/** The OpenAPI operation (see OpenApi.ts): a GET answered with a text/event-stream. */
export const openApiOperation = {
  path,
  method: "get",
  operation: {
    summary: "Follow session and plugin events live (server-sent events)",
    description: [
      "A `text/event-stream` of the events the caller may see: `session.*` for sessions they own or that are shared with them (all with `sessions:admin`; needs `sessions:read`), and `plugin.*` lifecycle events (installed, enabled, disabled, uninstalled, configured) for every logged-in user, carrying only the plugin id.",
      "Each event has `event: <type>`, `id: <cursor>` (opaque) and `data: <json>` (`{ id, type, sessionId, userId, templateId, state, reason?, occurredAt }` or `{ id, type, pluginId, occurredAt }`). The stream starts with `event: ready` carrying the current cursor; a comment line is sent every 15 s.",
      "Send `Accept: text/event-stream` (a request that does not accept it gets 406). Send `Last-Event-ID` (header, or `?lastEventId=`) to resume after a cursor; when the gap is too large or the cursor unknown, the stream sends `event: reset` and the client should reload what it shows. A stream ends after 5 minutes (reconnect with `Last-Event-ID`); a client that does not read is cut off. Browsers read it with `fetch` (EventSource cannot send the Authorization header)."
    ].join("\n\n"),
    tags: ["events"],
    "x-permission": permission,
    "x-rate-limit": rateLimit,
    parameters: [
      {
        name: "Last-Event-ID",
        in: "header",
        required: false,
        description: "The `id` of the last event received: the stream resumes after it",
        schema: { type: "string" }
      },
      {
        name: "lastEventId",
        in: "query",
        required: false,
        description: "Same as the Last-Event-ID header, for clients that cannot set it",
        schema: { type: "string" }
      }
    ],
    responses: {
      "200": {
        description: "The event stream",
        content: { "text/event-stream": { schema: { type: "string" } } }
      },
      ...Object.fromEntries(
        [401, 406, 429, 503].map((status) => [
          String(status),
          {
            description: Problem.titles[status] ?? "Problem",
            content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } }
          }
        ])
      )
    }
  }
} as const

/**
 * Whether an Accept header asks for text/event-stream by name. Wildcards do not count: a generic client
 * (accepting any type) reads a body to its end, and a stream has none.
 */
export const acceptsEventStream = (accept: string | null): boolean =>
  accept !== null &&
  accept.split(",").some((part) => {
    const [type = "", ...params] = part.trim().toLowerCase().split(";")
    const refused = params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p))
    return !refused && type.trim() === "text/event-stream"
  })

const bearerOf = (header: string | null) => /^Bearer\s+(.+)$/i.exec(header?.trim() ?? "")?.[1]

export const mount = (
  app: Elysia,
  runtime: ManagedRuntime.ManagedRuntime<Platform.Services, unknown>
): EventStreamHandle => {
  const config = runtime.runSync(ServerConfig.ServerConfig)
  const clientIp = ClientIp.make(config.trustedProxies)
  const limiter = runtime.runSync(RateLimiter)
  const clients = new Set<Client>()
  const perCaller = new Map<string, number>()
  let closed = false

  // The reader: started with the first client, kept for the server's life.
  let cursor: Cursor | undefined
  let starting: Promise<Cursor> | undefined
  let scope: Scope.CloseableScope | undefined
  let pollTimer: ReturnType<typeof setInterval> | undefined
  let reading = false
  let readAgain = false

  const send = (client: Client, chunk: string) => {
    if (client.closed) return
    try {
      client.controller.enqueue(encoder.encode(chunk))
    } catch {
      return drop(client)
    }
    // desiredSize goes below zero by what the client has not read yet.
    if ((client.controller.desiredSize ?? 0) < -MAX_WAITING_BYTES) drop(client)
  }

  const drop = (client: Client) => {
    if (client.closed) return
    client.closed = true
    for (const timer of client.timers) clearTimeout(timer)
    clients.delete(client)
    const n = (perCaller.get(client.viewer.userId) ?? 1) - 1
    if (n <= 0) perCaller.delete(client.viewer.userId)
    else perCaller.set(client.viewer.userId, n)
    try {
      client.controller.close()
    } catch {
      // already closed or errored by the client going away
    }
  }

  const deliver = (client: Client, event: OutboxEvent, shared: ReadonlySet<string>) => {
    if (!isAfter(event.cursor, client.last)) return
    const data = visibleTo(client.viewer, event, (sessionId) => shared.has(`${sessionId}\0${client.viewer.userId}`))
    client.last = event.cursor
    if (data) send(client, frame(event.type, event.cursor, data))
  }

  /** The shares a batch of events needs looked up: sessions of others, for clients that do not see all. */
  const sharesFor = (events: ReadonlyArray<OutboxEvent>, readers: Iterable<Client>) => {
    const ids = new Set<string>()
    for (const c of readers) {
      if (c.viewer.seesAllSessions || !c.viewer.readsSessions) continue
      for (const e of events) {
        const sessionId = text(e.payload["sessionId"])
        if (e.type.startsWith("session.") && sessionId && e.payload["userId"] !== c.viewer.userId) ids.add(sessionId)
      }
    }
    return ids.size === 0 ? Effect.succeed(new Set<string>()) : sharesOf([...ids])
  }

  const readPass = Effect.gen(function* () {
    for (;;) {
      const from = cursor!
      const events = yield* readAfter(from, undefined, PAGE)
      if (events.length === 0) return
      const shared = yield* sharesFor(events, clients)
      cursor = events[events.length - 1]!.cursor
      for (const client of [...clients]) {
        for (const event of events) {
          if (client.pending) client.pending.push(event)
          else deliver(client, event, shared)
        }
        if (client.pending) for (const s of shared) client.pendingShares.add(s)
        if (client.pending && client.pending.length > PAGE * 4) drop(client)
      }
      if (events.length < PAGE) return
    }
  })

  /** Reads once now, and once more after if asked meanwhile (single-flight). */
  const read = () => {
    if (closed || cursor === undefined) return
    if (reading) return void (readAgain = true)
    reading = true
    runtime.runPromiseExit(readPass).then((exit) => {
      reading = false
      if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause))
        runtime.runFork(
          Effect.logWarning("event stream: reading the outbox failed; retrying on the next wake-up", exit.cause)
        )
      if (readAgain) {
        readAgain = false
        read()
      }
    })
  }

  const start = (): Promise<Cursor> =>
    (starting ??= (async () => {
      const at = await runtime.runPromise(currentCursor)
      cursor ??= at
      scope = runtime.runSync(Scope.make())
      const wakeups = Effect.gen(function* () {
        const outbox = yield* EventOutbox.EventOutbox
        yield* outbox.whenWritten(Effect.sync(read))
        const listener = yield* Effect.serviceOption(ChannelListener.ChannelListener)
        if (Option.isSome(listener)) {
          yield* listener.value.listen(CHANNEL).pipe(
            Stream.runForEach(() => Effect.sync(read)),
            Effect.tapErrorCause((cause) =>
              Effect.logWarning("event stream: LISTEN dropped; polling meanwhile", cause)
            ),
            Effect.retry(Schedule.spaced("5 seconds")),
            Effect.forkScoped
          )
        }
      })
      await runtime.runPromise(Scope.extend(wakeups, scope))
      pollTimer = setInterval(() => {
        if (clients.size > 0) read()
      }, POLL_MS)
      pollTimer.unref?.()
      return at
    })().catch((e: unknown) => {
      starting = undefined
      throw e
    }))

  /** Replays what a resuming client missed, then lets it receive live events. */
  const catchUp = async (client: Client, upTo: Cursor) => {
    let scanned = 0
    while (!client.closed && isAfter(upTo, client.last)) {
      const events = await runtime.runPromise(readAfter(client.last, upTo, PAGE))
      if (events.length === 0) break
      scanned += events.length
      if (scanned > CATCH_UP_MAX) {
        client.last = upTo
        send(client, frame("reset", upTo, { reason: "too many events missed: reload" }))
        break
      }
      const shared = await runtime.runPromise(sharesFor(events, [client]))
      for (const event of events) deliver(client, event, shared)
    }
    const pending = client.pending ?? []
    const shared = client.pendingShares
    client.pending = undefined
    for (const event of pending) deliver(client, event, shared)
  }

  const refuse = (
    request: Request,
    status: number,
    code: string,
    detail: string,
    headers: Record<string, string> = {}
  ) => Problem.response(Problem.problem(status, code, detail), { "x-request-id": requestIdOf(request), ...headers })

  app.get(path, async ({ request, server }) => {
    if (closed)
      return refuse(request, 503, "service_unavailable", "the server is shutting down", { "retry-after": "1" })
    const ip = clientIp.resolve(server?.requestIP(request)?.address ?? "", request.headers.get("x-forwarded-for"))
    const bearer = bearerOf(request.headers.get("authorization"))
    if (bearer === undefined) return refuse(request, 401, "unauthorized", "authentication required")
    const url = new URL(request.url)
    const resumeText = request.headers.get("last-event-id") ?? url.searchParams.get("lastEventId")
    const resume = resumeText === null || resumeText === "" ? undefined : parseCursor(resumeText)
    const authenticated = await runtime.runPromiseExit(
      Effect.flatMap(Authenticator.Authenticator, (a) => a.authenticate(bearer))
    )
    if (Exit.isFailure(authenticated)) {
      const failure = Cause.failureOption(authenticated.cause)
      if (Option.isSome(failure)) {
        const e = failure.value as Unauthorized | ServiceUnavailable
        return e._tag === "ServiceUnavailable"
          ? refuse(request, 503, "service_unavailable", e.message, { "retry-after": String(e.retryAfterSeconds ?? 5) })
          : refuse(request, 401, "unauthorized", e.message)
      }
      runtime.runFork(Effect.logError("event stream: authentication failed", authenticated.cause))
      return refuse(request, 500, "internal_error", "internal server error")
    }
    const actor = authenticated.value
    const userId = Actor.actorId(actor)
    if (userId === null) return refuse(request, 401, "unauthorized", "authentication required")
    // A client that does not ask for a stream (a plain HTTP client reading the body to its end) would wait forever.
    if (!acceptsEventStream(request.headers.get("accept")))
      return refuse(request, 406, "not_acceptable", "this endpoint is an event stream: send Accept: text/event-stream")
    const decision = limiter.check(rateLimit, `GET ${path} u:${userId}`)
    if (!decision.allowed)
      return refuse(request, 429, "too_many_requests", "rate limit exceeded", {
        "retry-after": String(decision.retryAfterSeconds)
      })
    if ((perCaller.get(userId) ?? 0) >= MAX_STREAMS_PER_CALLER)
      return refuse(
        request,
        429,
        "too_many_requests",
        `at most ${MAX_STREAMS_PER_CALLER} event streams per user: close another tab or stream`,
        { "retry-after": "5" }
      )
    let at: Cursor
    try {
      at = await start()
    } catch {
      return refuse(request, 503, "service_unavailable", "the database is unavailable; try again shortly", {
        "retry-after": "5"
      })
    }
    if (closed)
      return refuse(request, 503, "service_unavailable", "the server is shutting down", { "retry-after": "1" })
    const viewer: Viewer = {
      userId,
      seesAllSessions: Actor.hasPermission(actor, allSessionsPermission),
      readsSessions: Actor.hasPermission(actor, readPermission) || Actor.hasPermission(actor, allSessionsPermission)
    }
    const live = cursor ?? at
    let client: Client | undefined
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          const c: Client = {
            viewer,
            controller,
            last: resume ?? live,
            pending: resume ? [] : undefined,
            pendingShares: new Set(),
            closed: false,
            timers: []
          }
          client = c
          clients.add(c)
          perCaller.set(userId, (perCaller.get(userId) ?? 0) + 1)
          send(c, `retry: 3000\n\n`)
          if (resumeText && !resume) {
            c.last = live
            send(c, frame("reset", live, { reason: "unknown Last-Event-ID: reload" }))
          } else if (!resume) {
            send(c, frame("ready", live, {}))
          }
          const heartbeat = setInterval(() => send(c, `: heartbeat\n\n`), heartbeatMs)
          c.timers.push(
            heartbeat,
            setTimeout(() => drop(c), MAX_LIFETIME_MS)
          )
          if (resume) {
            catchUp(c, live).catch((e: unknown) => {
              runtime.runFork(Effect.logWarning("event stream: replaying missed events failed", String(e)))
              drop(c)
            })
          }
        },
        cancel: () => {
          if (client) drop(client)
        }
      },
      { highWaterMark: 64 * 1024, size: (chunk) => chunk?.byteLength ?? 0 }
    )
    request.signal.addEventListener("abort", () => client && drop(client), { once: true })
    runtime.runFork(Effect.logDebug("event stream opened").pipe(Effect.annotateLogs({ route: path, user: userId, ip })))
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
        "x-request-id": requestIdOf(request)
      }
    })
  })

  const handle: EventStreamHandle = {
    close: () => {
      closed = true
      if (pollTimer) clearInterval(pollTimer)
      for (const client of [...clients]) drop(client)
      if (scope) {
        const s = scope
        scope = undefined
        void runtime.runPromise(Scope.close(s, Exit.void)).catch(() => undefined)
      }
    },
    clients: () => clients.size
  }
  handles.set(app, handle)
  app.onStop(handle.close)
  return handle
}
