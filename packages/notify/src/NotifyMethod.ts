/**
 * `notify`: the method every notification plugin exposes to other plugins
 * (workflows, scripts in plugins). It sends a message the caller wrote
 * through one of the plugin's integrations, by the same durable path as
 * events: rendered by the provider, queued in the core's integration
 * delivery store once per (integration, key), sent by the dispatcher with
 * its retries and dead letters. Event selection and filters do not apply:
 * the caller names the integration.
 *
 * Call it typed: `plugins.call("slack", NotifyMethod.notify, { integrationId, key, title, text })`.
 */
import type { MethodSignature } from "@streamspace/kernel"
import { Schema } from "effect"

const Text = (max: number) => Schema.String.pipe(Schema.maxLength(max))

export const Severity = Schema.Literal("info", "warning", "error", "critical")

export const NotifyInput = Schema.Struct({
  integrationId: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)),
  /** One delivery per key and integration: calling again with the same key queues nothing more (retries, resumed runs). */
  key: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(300)),
  title: Text(500).pipe(Schema.minLength(1)),
  text: Text(4000),
  severity: Schema.optionalWith(Severity, { default: () => "info" as const }),
  fields: Schema.optionalWith(
    Schema.Array(Schema.Struct({ label: Text(100).pipe(Schema.minLength(1)), value: Text(1000) })).pipe(
      Schema.maxItems(10)
    ),
    { default: () => [] }
  ),
  /** Shown as the message's type (Slack's context line, PagerDuty's class); default `notify`. */
  event: Schema.optionalWith(
    Schema.String.pipe(Schema.pattern(/^[a-z0-9][a-z0-9_.-]{0,99}$/, { message: () => "an event-like name" })),
    { default: () => "notify" }
  ),
  /** What the message is about, for incident tools (PagerDuty's dedup_key); default `notify:<key>`. */
  subject: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(300)))
})
export type NotifyInput = typeof NotifyInput.Type

export const NotifyOutput = Schema.Struct({
  /** The provider (the plugin id) and the integration it sent through. */
  provider: Schema.String,
  integrationId: Schema.String,
  /** The queued deliveries (see `GET /api/integrations/:id/deliveries`); none when the provider rendered nothing. */
  deliveryIds: Schema.Array(Schema.String),
  /** False when this key had been queued before (nothing new was queued). */
  created: Schema.Boolean
})
export type NotifyOutput = typeof NotifyOutput.Type

export const notify: MethodSignature<
  "notify",
  NotifyInput,
  typeof NotifyInput.Encoded,
  NotifyOutput,
  typeof NotifyOutput.Encoded
> = { name: "notify", input: NotifyInput, output: NotifyOutput }
