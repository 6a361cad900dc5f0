/** Outgoing webhooks' domain as Schemas. */
import { Schema } from "effect"
import { HttpUrl } from "../HttpUrl.ts"
import * as Text from "../Text.ts"

const EventTypes = Schema.Array(
  Text.Short.pipe(
    Schema.pattern(/^(\*|[a-z0-9-]+(\.[a-z0-9-]+)+)$/, { message: () => "an event type like session.created, or *" })
  )
).pipe(Schema.minItems(1), Schema.maxItems(100))

/** A receiver's URL: no user name or password in it (every read shows the URL; receivers check the signature). */
const WebhookUrl = HttpUrl.pipe(
  Schema.filter((url) => !URL.canParse(url) || (new URL(url).username === "" && new URL(url).password === ""), {
    message: () => "no credentials in the URL: the receiver checks X-StreamSpace-Signature instead"
  })
)

export class Webhook extends Schema.Class<Webhook>("Webhook")({
  id: Schema.String,
  name: Schema.String,
  url: Schema.String,
  eventTypes: Schema.Array(Schema.String),
  enabled: Schema.Boolean,
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}) {}

export const CreateWebhook = Schema.Struct({
  name: Text.Short.pipe(Schema.minLength(1), Schema.maxLength(100)),
  url: WebhookUrl,
  eventTypes: EventTypes,
  /** Signing secret; generated when absent. Returned once, in the create response. */
  secret: Schema.optional(Text.Secret.pipe(Schema.minLength(16, { message: () => "at least 16 characters" }))),
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true })
})

export const UpdateWebhook = Schema.Struct({
  name: Schema.optional(Text.Short.pipe(Schema.minLength(1), Schema.maxLength(100))),
  url: Schema.optional(WebhookUrl),
  eventTypes: Schema.optional(EventTypes),
  enabled: Schema.optional(Schema.Boolean)
})

export const CreatedWebhook = Schema.Struct({ ...Webhook.fields, secret: Schema.String })

export const DeliveryStatus = Schema.Literal("pending", "delivered", "failed", "dead")

export class WebhookDelivery extends Schema.Class<WebhookDelivery>("WebhookDelivery")({
  id: Schema.String,
  webhookId: Schema.String,
  eventId: Schema.String,
  eventType: Schema.String,
  status: DeliveryStatus,
  attempts: Schema.Number,
  responseCode: Schema.NullOr(Schema.Number),
  lastError: Schema.NullOr(Schema.String),
  durationMs: Schema.NullOr(Schema.Number),
  nextAttemptAt: Schema.Date,
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}) {}
