/** REST for sessions (paths from docs/architecture.md). */
import { Effect, Schema } from "effect"
import type { CurrentActor } from "../Actor.ts"
import * as HttpRoute from "../HttpRoute.ts"
import { ByTime, ListQuery, Page } from "../Pagination.ts"
import * as Text from "../Text.ts"
import { CreateSession, Session, SessionShare, SessionState, ShareInput } from "./SessionModel.ts"
import { connectPermission, Sessions } from "./Sessions.ts"
import { Conflict, NotFound, QuotaExceeded } from "../Errors.ts"
import { ServerConfig } from "../ServerConfig.ts"
const IdParams = Schema.Struct({ id: Text.Id })
const ShareParams = Schema.Struct({ id: Text.Id, userId: Text.Id })
const SessionQuery = Schema.Struct({ ...ListQuery(ByTime).fields, state: Schema.optional(SessionState) })

const lifecycleErrors = [NotFound, Conflict] as const

const VncTicketResponse = Schema.Struct({
  ticket: Schema.String,
  expiresAt: Schema.Date,
  /** Where to open the WebSocket with it (relative to the server). */
  url: Schema.String
})

const lifecycle = (
  path: string,
  summary: string,
  action: string,
  run: (
    s: Sessions["Type"],
    id: string
  ) => Effect.Effect<Session, HttpRoute.AllowedError<typeof lifecycleErrors>, CurrentActor>
) =>
  HttpRoute.make({
    method: "POST",
    path,
    summary,
    tags: ["sessions"],
    permission: "sessions:write",
    params: IdParams,
    response: Session,
    successStatus: 202,
    // One write (the intent, its lease and the audit row in one statement): atomic without a transaction.
    transactional: false,
    audit: { action, target: (i) => i.params.id },
    errors: lifecycleErrors,
    handler: ({ params }) => Effect.flatMap(Sessions, (s) => run(s, params.id))
  })

export const sessionRoutes = [
  HttpRoute.make({
    method: "GET",
    path: "/api/sessions",
    summary: "Your sessions and those shared with you (sessions:admin: all), newest first",
    tags: ["sessions"],
    permission: "sessions:read",
    query: SessionQuery,
    response: Page(Session),
    handler: ({ query }) => Effect.flatMap(Sessions, (s) => s.list(query))
  }),
  HttpRoute.make({
    method: "POST",
    path: "/api/sessions",
    summary: "Launch a session from a template; it starts pending and the runtime brings it up",
    tags: ["sessions"],
    permission: "sessions:write",
    body: CreateSession,
    response: Session,
    successStatus: 201,
    // One write (the session, its event and the audit row in one statement): atomic without a transaction.
    transactional: false,
    audit: { action: "session.create", target: (_, out) => out.id },
    errors: [NotFound, QuotaExceeded],
    handler: ({ body }) => Effect.flatMap(Sessions, (s) => s.create(body))
  }),
  HttpRoute.make({
    method: "GET",
    path: "/api/sessions/:id",
    summary: "Read a session",
    tags: ["sessions"],
    permission: "sessions:read",
    params: IdParams,
    response: Session,
    errors: [NotFound],
    handler: ({ params }) => Effect.flatMap(Sessions, (s) => s.get(params.id))
  }),
  lifecycle(
    "/api/sessions/:id/hibernate",
    "Scale a running session to zero (its home stays)",
    "session.hibernate",
    (s, id) => s.hibernate(id)
  ),
  lifecycle("/api/sessions/:id/wake", "Bring a hibernated session back", "session.wake", (s, id) => s.wake(id)),
  HttpRoute.make({
    method: "DELETE",
    path: "/api/sessions/:id",
    summary: "End a session (the record stays as history, state terminated)",
    tags: ["sessions"],
    permission: "sessions:write",
    params: IdParams,
    response: Session,
    successStatus: 202,
    transactional: false,
    audit: { action: "session.delete", target: (i) => i.params.id },
    errors: [NotFound, Conflict],
    handler: ({ params }) => Effect.flatMap(Sessions, (s) => s.delete(params.id))
  }),
  HttpRoute.make({
    method: "POST",
    path: "/api/sessions/:id/heartbeat",
    summary: "Report activity so the session is not hibernated as idle",
    tags: ["sessions"],
    permission: "sessions:write",
    params: IdParams,
    // Frequent and harmless: not worth an audit row each.
    audit: false,
    errors: [NotFound, Conflict],
    handler: ({ params }) => Effect.flatMap(Sessions, (s) => s.heartbeat(params.id))
  }),
  HttpRoute.make({
    method: "GET",
    path: "/api/sessions/:id/shares",
    summary: "Who the session is shared with",
    tags: ["sessions"],
    permission: "sessions:write",
    params: IdParams,
    response: Schema.Struct({ items: Schema.Array(SessionShare) }),
    errors: [NotFound, Conflict],
    handler: ({ params }) =>
      Effect.map(
        Effect.flatMap(Sessions, (s) => s.shares(params.id)),
        (items) => ({ items })
      )
  }),
  HttpRoute.make({
    method: "POST",
    path: "/api/sessions/:id/shares",
    summary: "Share with a user: view (watch) or control (use)",
    tags: ["sessions"],
    permission: "sessions:write",
    params: IdParams,
    body: ShareInput,
    audit: { action: "session.share", target: (i) => `${i.params.id}/${i.body.userId}` },
    errors: [NotFound, Conflict],
    handler: ({ params, body }) => Effect.flatMap(Sessions, (s) => s.share(params.id, body.userId, body.access))
  }),
  HttpRoute.make({
    method: "POST",
    path: "/api/sessions/:id/vnc-ticket",
    summary:
      "A ticket for the session's desktop: open GET /api/sessions/:id/vnc?ticket=… (WebSocket) with it, once, within auth.vncTicketTtlSeconds",
    tags: ["sessions"],
    permission: connectPermission,
    rateLimit: "strict",
    params: IdParams,
    response: VncTicketResponse,
    audit: { action: "session.vnc_ticket", target: (i) => i.params.id },
    errors: [NotFound],
    handler: ({ params }) =>
      Effect.gen(function* () {
        const config = yield* ServerConfig
        const sessions = yield* Sessions
        const { ticket, expiresAt } = yield* sessions.vncTicket(params.id, config.auth.vncTicketTtlSeconds)
        return { ticket, expiresAt, url: `/api/sessions/${encodeURIComponent(params.id)}/vnc?ticket=${ticket}` }
      })
  }),
  HttpRoute.make({
    method: "DELETE",
    path: "/api/sessions/:id/shares/:userId",
    summary: "Stop sharing with a user",
    tags: ["sessions"],
    permission: "sessions:write",
    params: ShareParams,
    audit: { action: "session.unshare", target: (i) => `${i.params.id}/${i.params.userId}` },
    errors: [NotFound, Conflict],
    handler: ({ params }) => Effect.flatMap(Sessions, (s) => s.unshare(params.id, params.userId))
  })
]
