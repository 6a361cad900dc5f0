/**
 * Admin-managed outgoing webhooks: registration, deliveries, replay. A
 * webhook's URL must pass the egress policy when it is registered or
 * changed (400 naming `body.url`), and again at every send.
 */
import { Context, Effect, Layer, type Schema } from "effect"
import { randomBytes } from "node:crypto"
import { afterCommit } from "../Actor.ts"
import { EgressPolicy } from "../EgressPolicy.ts"
import { Conflict, NotFound, ValidationError } from "../Errors.ts"
import type { PageOf } from "../Pagination.ts"
import { SecretBox } from "../secrets/SecretBox.ts"
import { WebhookDispatcher } from "./WebhookDispatcher.ts"
import type { CreateWebhook, UpdateWebhook, Webhook, WebhookDelivery } from "./WebhookModel.ts"
import { toDelivery, toWebhook, WebhookRepo } from "./WebhookRepo.ts"
import { now } from "../Timestamps.ts"

export class Webhooks extends Context.Tag("@streamspace/core/Webhooks")<
  Webhooks,
  {
    readonly create: (
      input: Schema.Schema.Type<typeof CreateWebhook>
    ) => Effect.Effect<{ readonly webhook: Webhook; readonly secret: string }, NotFound | ValidationError>
    readonly list: Effect.Effect<ReadonlyArray<Webhook>>
    readonly get: (id: string) => Effect.Effect<Webhook, NotFound>
    readonly update: (
      id: string,
      patch: Schema.Schema.Type<typeof UpdateWebhook>
    ) => Effect.Effect<Webhook, NotFound | ValidationError>
    readonly delete: (id: string) => Effect.Effect<void, NotFound>
    readonly deliveries: (
      id: string,
      limit: number,
      cursor?: string
    ) => Effect.Effect<PageOf<WebhookDelivery>, NotFound>
    readonly replay: (id: string, deliveryId: string) => Effect.Effect<WebhookDelivery, NotFound | Conflict>
  }
>() {}

export const WebhooksLive = Layer.effect(
  Webhooks,
  Effect.gen(function* () {
    const repo = yield* WebhookRepo
    const box = yield* SecretBox
    const dispatcher = yield* WebhookDispatcher
    const egress = yield* EgressPolicy
    const reachable = (url: string) =>
      egress.checkUrl(url).pipe(Effect.mapError((refused) => ValidationError.field("body.url", refused.message)))
    const get = (id: string) =>
      Effect.flatMap(repo.find(id), (r) =>
        r ? Effect.succeed(toWebhook(r)) : Effect.fail(new NotFound({ resource: "webhook", id }))
      )
    const delivery = (id: string, deliveryId: string) =>
      Effect.flatMap(repo.findDelivery(id, deliveryId), (d) =>
        d ? Effect.succeed(d) : Effect.fail(new NotFound({ resource: "delivery", id: deliveryId }))
      )
    return {
      get,
      list: repo.list,
      create: (input) =>
        Effect.gen(function* () {
          yield* reachable(input.url)
          const id = crypto.randomUUID()
          const secret = input.secret ?? `whsec_${randomBytes(24).toString("base64url")}`
          yield* repo.insert({
            id,
            name: input.name,
            url: input.url,
            eventTypes: input.eventTypes,
            secretEncrypted: box.seal(secret),
            enabled: input.enabled,
            at: yield* now
          })
          return { webhook: yield* get(id), secret }
        }),
      update: (id, patch) =>
        Effect.gen(function* () {
          yield* get(id)
          if (patch.url !== undefined) yield* reachable(patch.url)
          const columns: Record<string, unknown> = {}
          if (patch.name !== undefined) columns["name"] = patch.name
          if (patch.url !== undefined) columns["url"] = patch.url
          if (patch.eventTypes !== undefined) columns["event_types"] = [...patch.eventTypes]
          if (patch.enabled !== undefined) columns["enabled"] = patch.enabled
          yield* repo.update(id, columns, yield* now)
          return yield* get(id)
        }),
      delete: (id) =>
        Effect.flatMap(repo.delete(id), (ok) =>
          ok ? Effect.void : Effect.fail(new NotFound({ resource: "webhook", id }))
        ),
      deliveries: (id, limit, cursor) => Effect.zipRight(get(id), repo.deliveries(id, limit, cursor)),
      replay: (id, deliveryId) =>
        Effect.gen(function* () {
          const d = yield* delivery(id, deliveryId)
          if (d.status === "pending")
            return yield* new Conflict({ message: "the delivery is still being attempted", code: "delivery_pending" })
          yield* repo.replay(deliveryId, yield* now)
          yield* afterCommit(dispatcher.nudge)
          return toDelivery(yield* delivery(id, deliveryId))
        })
    }
  })
)
