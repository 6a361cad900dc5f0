/** REST for the integrations store (secrets write-only, masked on read). */
import { Effect, Schema } from "effect"
import * as HttpRoute from "../HttpRoute.ts"
import { ListQuery, Page } from "../Pagination.ts"
import { IntegrationDeliveries, IntegrationDelivery } from "./IntegrationDeliveries.ts"
import { CreateIntegration, Integration, Integrations, UpdateIntegration } from "./Integrations.ts"

const IdParams = Schema.Struct({ id: Schema.String })
const base = { tags: ["integrations"], permission: "integrations:admin" } as const

export const integrationRoutes = [
  HttpRoute.make({
    ...base,
    method: "GET",
    path: "/api/integrations",
    summary: "Integrations (filter by provider); secret fields masked",
    query: Schema.Struct({ provider: Schema.optional(Schema.String) }),
    response: Schema.Struct({ items: Schema.Array(Integration) }),
    handler: ({ query }) => Effect.map(Effect.flatMap(Integrations, (i) => i.list(query.provider)), (items) => ({ items }))
  }),
  HttpRoute.make({
    ...base,
    method: "POST",
    path: "/api/integrations",
    summary: "Add an integration; secret fields are stored encrypted and never returned",
    body: CreateIntegration,
    response: Integration,
    successStatus: 201,
    audit: { action: "integration.create", target: (_, out) => out.id },
    handler: ({ body }) => Effect.flatMap(Integrations, (i) => i.create(body))
  }),
  HttpRoute.make({
    ...base,
    method: "GET",
    path: "/api/integrations/:id",
    summary: "Read an integration (secrets masked)",
    params: IdParams,
    response: Integration,
    handler: ({ params }) => Effect.flatMap(Integrations, (i) => i.get(params.id))
  }),
  HttpRoute.make({
    ...base,
    method: "PATCH",
    path: "/api/integrations/:id",
    summary: "Change an integration; omitted or masked secrets keep their value, null removes a key",
    params: IdParams,
    body: UpdateIntegration,
    response: Integration,
    audit: { action: "integration.update", target: (i) => i.params.id },
    handler: ({ params, body }) => Effect.flatMap(Integrations, (i) => i.update(params.id, body))
  }),
  HttpRoute.make({
    ...base,
    method: "DELETE",
    path: "/api/integrations/:id",
    summary: "Remove an integration and its delivery history",
    params: IdParams,
    audit: { action: "integration.delete", target: (i) => i.params.id },
    handler: ({ params }) => Effect.flatMap(Integrations, (i) => i.delete(params.id))
  }),
  HttpRoute.make({
    ...base,
    method: "GET",
    path: "/api/integrations/:id/deliveries",
    summary: "What was sent through an integration: status, attempts, response code, error, latency",
    params: IdParams,
    query: ListQuery,
    response: Page(IntegrationDelivery),
    handler: ({ params, query }) =>
      Effect.zipRight(
        Effect.flatMap(Integrations, (i) => i.get(params.id)),
        Effect.flatMap(IntegrationDeliveries, (d) => d.list(params.id, query.limit, query.cursor))
      )
  })
]
