/** REST for sessions (paths from docs/architecture.md). */
import { Effect, Schema } from "effect"
import type { CurrentActor } from "../Actor.ts"
import * as HttpRoute from "../HttpRoute.ts"
import { ListQuery, Page } from "../Pagination.ts"
import { CreateSession, Session, SessionShare, SessionState, ShareInput } from "./SessionModel.ts"
import { Sessions } from "./Sessions.ts"
import { Conflict, NotFound, QuotaExceeded } from "../Errors.ts"
const IdParams = Schema.Struct({ id: Schema.String })
const ShareParams = Schema.Struct({ id: Schema.String, userId: Schema.String })
const SessionQuery = Schema.Struct({ ...ListQuery.fields, state: Schema.optional(SessionState) })

const lifecycleErrors = [NotFound, Conflict] as const

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
