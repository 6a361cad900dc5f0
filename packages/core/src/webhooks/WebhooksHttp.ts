/** REST for outgoing webhooks and their deliveries. */
import { Effect, Schema } from "effect"
import * as HttpRoute from "../HttpRoute.ts"
import { ByTime, ListQuery, Page } from "../Pagination.ts"
import * as Text from "../Text.ts"
import { CreatedWebhook, CreateWebhook, UpdateWebhook, Webhook, WebhookDelivery } from "./WebhookModel.ts"
import { Webhooks } from "./Webhooks.ts"
import { Conflict, NotFound } from "../Errors.ts"
const IdParams = Schema.Struct({ id: Text.Id })
const DeliveryParams = Schema.Struct({ id: Text.Id, deliveryId: Text.Id })
const base = { tags: ["webhooks"], permission: "webhooks:admin" } as const

export const webhookRoutes = [
  HttpRoute.make({
    ...base,
    method: "GET",
    path: "/api/webhooks",
    summary: "Registered webhooks (never their secrets)",
    response: Schema.Struct({ items: Schema.Array(Webhook) }),
    handler: () =>
      Effect.map(
        Effect.flatMap(Webhooks, (w) => w.list),
        (items) => ({ items })
      )
  }),
  HttpRoute.make({
    ...base,
    method: "POST",
    path: "/api/webhooks",
    summary: "Register a webhook for event types; the signing secret is returned only here",
    body: CreateWebhook,
    response: CreatedWebhook,
    successStatus: 201,
    audit: { action: "webhook.create", target: (_, out) => out.id },
    errors: [NotFound],
    handler: ({ body }) =>
      Effect.map(
        Effect.flatMap(Webhooks, (w) => w.create(body)),
        ({ webhook, secret }) => ({ ...webhook, secret })
      )
  }),
  HttpRoute.make({
    ...base,
    method: "GET",
    path: "/api/webhooks/:id",
    summary: "Read a webhook",
    params: IdParams,
    response: Webhook,
    errors: [NotFound],
    handler: ({ params }) => Effect.flatMap(Webhooks, (w) => w.get(params.id))
  }),
  HttpRoute.make({
    ...base,
    method: "PATCH",
    path: "/api/webhooks/:id",
    summary: "Change a webhook's name, URL, event types or enabled flag",
    params: IdParams,
    body: UpdateWebhook,
    response: Webhook,
    audit: { action: "webhook.update", target: (i) => i.params.id },
    errors: [NotFound],
    handler: ({ params, body }) => Effect.flatMap(Webhooks, (w) => w.update(params.id, body))
  }),
  HttpRoute.make({
    ...base,
    method: "DELETE",
    path: "/api/webhooks/:id",
    summary: "Remove a webhook and its delivery history",
    params: IdParams,
    audit: { action: "webhook.delete", target: (i) => i.params.id },
    errors: [NotFound],
    handler: ({ params }) => Effect.flatMap(Webhooks, (w) => w.delete(params.id))
  }),
  HttpRoute.make({
    ...base,
    method: "GET",
    path: "/api/webhooks/:id/deliveries",
    summary: "Deliveries of a webhook, newest first: status, attempts, response code, error, duration",
    params: IdParams,
    query: ListQuery(ByTime),
    response: Page(WebhookDelivery),
    errors: [NotFound],
    handler: ({ params, query }) => Effect.flatMap(Webhooks, (w) => w.deliveries(params.id, query.limit, query.cursor))
  }),
  HttpRoute.make({
    ...base,
    method: "POST",
    path: "/api/webhooks/:id/deliveries/:deliveryId/replay",
    summary: "Send a delivered, failed or dead delivery again",
    params: DeliveryParams,
    response: WebhookDelivery,
    successStatus: 202,
    audit: { action: "webhook.replay", target: (i) => i.params.deliveryId },
    errors: [NotFound, Conflict],
    handler: ({ params }) => Effect.flatMap(Webhooks, (w) => w.replay(params.id, params.deliveryId))
  })
]
