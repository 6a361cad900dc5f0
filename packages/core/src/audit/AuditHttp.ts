/** `GET /api/audit`: query the audit trail by actor, action, target and time range. */
import { Effect, Schema } from "effect"
import * as HttpRoute from "../HttpRoute.ts"
import { BySerial, ListQuery, Page } from "../Pagination.ts"
import * as Text from "../Text.ts"
import { AuditEntryJson, AuditLog } from "./AuditLog.ts"

const AuditQuery = Schema.Struct({
  ...ListQuery(BySerial).fields,
  actor: Schema.optional(Text.Short),
  action: Schema.optional(Text.Short),
  target: Schema.optional(Text.Line),
  from: Schema.optional(Text.Timestamp),
  to: Schema.optional(Text.Timestamp)
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
