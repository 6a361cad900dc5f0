/** REST for the integrations store (secrets write-only, masked on read). */
import { Effect, Schema } from "effect"
import { afterCommit } from "../Actor.ts"
import * as HttpRoute from "../HttpRoute.ts"
import { ByTime, ListQuery, Page } from "../Pagination.ts"
import * as Text from "../Text.ts"
import { DeliveryStatus, IntegrationDeliveries, IntegrationDelivery } from "./IntegrationDeliveries.ts"
import { IntegrationDispatcher } from "./IntegrationDispatcher.ts"
import { CreateIntegration, Integration, Integrations, UpdateIntegration } from "./Integrations.ts"
import { Conflict, NotFound } from "../Errors.ts"
const IdParams = Schema.Struct({ id: Text.Id })
const base = { tags: ["integrations"], permission: "integrations:admin" } as const

export const integrationRoutes = [
  HttpRoute.make({
    ...base,
    method: "GET",
    path: "/api/integrations",
    summary: "Integrations (filter by provider); secret fields masked",
    query: Schema.Struct({ provider: Schema.optional(Text.Short) }),
    response: Schema.Struct({ items: Schema.Array(Integration) }),
    handler: ({ query }) =>
      Effect.map(
        Effect.flatMap(Integrations, (i) => i.list(query.provider)),
        (items) => ({ items })
      )
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
    errors: [NotFound, Conflict],
    handler: ({ body }) => Effect.flatMap(Integrations, (i) => i.create(body))
  }),
  HttpRoute.make({
    ...base,
    method: "GET",
    path: "/api/integrations/:id",
    summary: "Read an integration (secrets masked)",
    params: IdParams,
    response: Integration,
    errors: [NotFound],
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
    errors: [NotFound, Conflict],
    handler: ({ params, body }) => Effect.flatMap(Integrations, (i) => i.update(params.id, body))
  }),
  HttpRoute.make({
    ...base,
    method: "DELETE",
    path: "/api/integrations/:id",
    summary: "Remove an integration and its delivery history",
    params: IdParams,
    audit: { action: "integration.delete", target: (i) => i.params.id },
    errors: [NotFound],
    handler: ({ params }) => Effect.flatMap(Integrations, (i) => i.delete(params.id))
  }),
  HttpRoute.make({
    ...base,
    method: "GET",
    path: "/api/integrations/:id/deliveries",
    summary:
      "What was sent through an integration: status, attempts, response code, error, latency (`status=dead` lists dead letters)",
    params: IdParams,
    query: Schema.Struct({ ...ListQuery(ByTime).fields, status: Schema.optional(DeliveryStatus) }),
    response: Page(IntegrationDelivery),
    errors: [NotFound],
    handler: ({ params, query }) =>
      Effect.zipRight(
        Effect.flatMap(Integrations, (i) => i.get(params.id)),
        Effect.flatMap(IntegrationDeliveries, (d) => d.list(params.id, query))
      )
  }),
  HttpRoute.make({
    ...base,
    method: "POST",
    path: "/api/integrations/:id/deliveries/:deliveryId/replay",
    summary: "Send a dead (or failed) delivery again now; 409 if it was delivered or is still queued",
    params: Schema.Struct({ id: Text.Id, deliveryId: Text.Id }),
    response: IntegrationDelivery,
    audit: { action: "integration.delivery.replay", target: (i) => i.params.deliveryId },
    errors: [NotFound, Conflict],
    handler: ({ params }) =>
      Effect.tap(
        Effect.flatMap(IntegrationDeliveries, (d) => d.replay(params.id, params.deliveryId)),
        () => Effect.flatMap(IntegrationDispatcher, (d) => afterCommit(d.nudge))
      )
  })
]
