/** REST for quotas: users read their own; `quotas:admin` reads and sets any. */
import { Effect, Schema } from "effect"
import { hasPermission } from "../Actor.ts"
import { Forbidden, NotFound } from "../Errors.ts"
import { Groups } from "../identity/Groups.ts"
import { Users } from "../identity/Users.ts"
import * as HttpRoute from "../HttpRoute.ts"
import { Quota, QuotaInput, Quotas } from "./Quotas.ts"
import * as Text from "../Text.ts"

const IdParams = Schema.Struct({ id: Text.Id })
const Usage = Schema.Struct({
  sessions: Schema.Number,
  cpu: Schema.Number,
  memory: Schema.Number,
  storage: Schema.Number
})

export const quotaRoutes = [
  HttpRoute.make({
    method: "GET",
    path: "/api/quotas/users/:id",
    summary: "A user's own limits and current usage (your own, or anyone's with quotas:admin)",
    tags: ["quotas"],
    permission: "quotas:read",
    params: IdParams,
    response: Schema.Struct({ quota: Quota, usage: Usage }),
    errors: [NotFound],
    handler: ({ params, actor }) =>
      Effect.gen(function* () {
        if (!(actor._tag === "User" && actor.userId === params.id) && !hasPermission(actor, "quotas:admin")) {
          return yield* new Forbidden({ message: "you may read only your own quota", permission: "quotas:admin" })
        }
        yield* Effect.flatMap(Users, (u) => u.get(params.id))
        const quotas = yield* Quotas
        return { quota: yield* quotas.get("user", params.id), usage: yield* quotas.usage(params.id) }
      })
  }),
  HttpRoute.make({
    method: "PUT",
    path: "/api/quotas/users/:id",
    summary: "Set a user's limits (null: no limit)",
    tags: ["quotas"],
    permission: "quotas:admin",
    params: IdParams,
    body: QuotaInput,
    response: Quota,
    audit: { action: "quota.set", target: (i) => `user:${i.params.id}` },
    errors: [NotFound],
    handler: ({ params, body }) =>
      Effect.zipRight(
        Effect.flatMap(Users, (u) => u.get(params.id)),
        Effect.flatMap(Quotas, (q) => q.set("user", params.id, new Quota(body)))
      )
  }),
  HttpRoute.make({
    method: "GET",
    path: "/api/quotas/groups/:id",
    summary: "A group's limits (they bind each member)",
    tags: ["quotas"],
    permission: "quotas:read",
    params: IdParams,
    response: Quota,
    errors: [NotFound],
    handler: ({ params }) =>
      Effect.zipRight(
        Effect.flatMap(Groups, (g) => g.get(params.id)),
        Effect.flatMap(Quotas, (q) => q.get("group", params.id))
      )
  }),
  HttpRoute.make({
    method: "PUT",
    path: "/api/quotas/groups/:id",
    summary: "Set a group's limits for each of its members (null: no limit)",
    tags: ["quotas"],
    permission: "quotas:admin",
    params: IdParams,
    body: QuotaInput,
    response: Quota,
    audit: { action: "quota.set", target: (i) => `group:${i.params.id}` },
    errors: [NotFound],
    handler: ({ params, body }) =>
      Effect.zipRight(
        Effect.flatMap(Groups, (g) => g.get(params.id)),
        Effect.flatMap(Quotas, (q) => q.set("group", params.id, new Quota(body)))
      )
  })
]
