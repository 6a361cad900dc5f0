/** `GET /api/audit`: query the audit trail by actor, action, target and time range. */
import { Effect, Schema } from "effect"
import * as HttpRoute from "../HttpRoute.ts"
import { ListQuery, Page } from "../Pagination.ts"
import { AuditEntryJson, AuditLog } from "./AuditLog.ts"

const AuditQuery = Schema.Struct({
  ...ListQuery.fields,
  actor: Schema.optional(Schema.String),
  action: Schema.optional(Schema.String),
  target: Schema.optional(Schema.String),
  from: Schema.optional(Schema.Date),
  to: Schema.optional(Schema.Date)
})

export const auditRoutes = [
  HttpRoute.make({
    method: "GET",
    path: "/api/audit",
    summary: "Audit entries, newest first; filter by actor (user id), action, target, from/to (ISO time)",
    tags: ["audit"],
    permission: "audit:read",
    query: AuditQuery,
    response: Page(AuditEntryJson),
    handler: ({ query }) =>
      Effect.flatMap(AuditLog, (a) =>
        a.query({
          limit: query.limit,
          ...(query.cursor ? { cursor: query.cursor } : {}),
          ...(query.actor ? { actorId: query.actor } : {}),
          ...(query.action ? { action: query.action } : {}),
          ...(query.target ? { target: query.target } : {}),
          ...(query.from ? { since: query.from } : {}),
          ...(query.to ? { until: query.to } : {})
        })
      )
  })
]
