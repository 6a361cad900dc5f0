/**
 * PagerDuty through Events API v2: a selected event triggers an alert whose
 * `dedup_key` names its subject (`streamspace:quota:<user>`,
 * `streamspace:session:<id>`), so repeats group into one incident; an event
 * that clears the condition — the user could start a session again, the
 * failed session was deleted — resolves it with the same key. Open
 * incidents are kept in the plugin's own table.
 */
import { HttpUrl } from "@streamspace/core"
import { PluginConfig, PluginSql } from "@streamspace/kernel"
import { defineNotifier, HttpDelivery, integrationConfig, type Message, type Notice } from "@streamspace/notify"
import { Effect, Schema } from "effect"
import incidents from "../migrations/0001_incidents.sql" with { type: "text" }

export const Severity = Schema.Literal("critical", "error", "warning", "info")

export const PagerDutyIntegration = integrationConfig(
  {
    /** The service's Events API v2 integration key. */
    routingKey: PluginConfig.secret(Schema.String.pipe(Schema.minLength(8))),
    eventsUrl: Schema.optionalWith(HttpUrl, { default: () => "https://events.pagerduty.com/v2/enqueue" }),
    /** `payload.source` of every alert. */
    source: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1)), { default: () => "streamspace" }),
    /** Severity per event type; others take the event's own (quota → warning, failed session → error, the rest → info). */
    severities: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Severity }), { default: () => ({}) })
  },
  ["quota.exceeded", "session.failed"]
)
export type PagerDutyIntegration = typeof PagerDutyIntegration.Type

export const PagerDutyEvent = Schema.Struct({
  event_action: Schema.Literal("trigger", "resolve"),
  dedup_key: Schema.String,
  client: Schema.String,
  payload: Schema.optional(
    Schema.Struct({
      summary: Schema.String,
      source: Schema.String,
      severity: Severity,
      timestamp: Schema.String,
      component: Schema.String,
      group: Schema.String,
      class: Schema.String,
      custom_details: Schema.Record({ key: Schema.String, value: Schema.String })
    })
  )
})
type PagerDutyEvent = typeof PagerDutyEvent.Type

export const dedupKey = (subject: string) => `streamspace:${subject}`

const trigger = (notice: Notice.Notice, config: PagerDutyIntegration, key: string): PagerDutyEvent => ({
  event_action: "trigger",
  dedup_key: key,
  client: "StreamSpace",
  payload: {
    summary: `${notice.title}: ${notice.text}`.slice(0, 1024),
    source: config.source,
    severity: config.severities[notice.type] ?? notice.severity,
    timestamp: notice.occurredAt.toISOString(),
    component: "streamspace",
    group: notice.type.split(".")[0] ?? notice.type,
    class: notice.type,
    custom_details: Object.fromEntries(notice.fields.map((f) => [f.label, f.value]))
  }
})

const resolve = (key: string): PagerDutyEvent => ({ event_action: "resolve", dedup_key: key, client: "StreamSpace" })

export default defineNotifier({
  id: "pagerduty",
  name: "PagerDuty",
  version: "1.0.0",
  description: "PagerDuty incidents through Events API v2: trigger and resolve with one dedup_key per subject",
  integration: PagerDutyIntegration,
  message: PagerDutyEvent,
  migrations: [{ id: 1, name: "incidents", sql: incidents }],
  render: (notice, integration) =>
    Effect.gen(function* () {
      if (notice.type === "streamspace.test") {
        // A test opens and closes its own alert, so nobody is left with an incident to close.
        const key = dedupKey(`test:${notice.eventId}`)
        return [{ payload: trigger(notice, integration.config, key) }, { key: "resolve", payload: resolve(key) }]
      }
      const key = dedupKey(notice.subject)
      const sql = yield* PluginSql
      yield* sql`INSERT INTO incidents (integration_id, dedup_key, opened_by) VALUES (${integration.id}, ${key}, ${notice.eventId})
        ON CONFLICT (integration_id, dedup_key) DO UPDATE SET opened_by = EXCLUDED.opened_by, opened_at = now(), resolved_by = NULL, resolved_at = NULL`
      return [{ payload: trigger(notice, integration.config, key), orderKey: key }]
    }),
  clear: (notice, integration) =>
    Effect.gen(function* () {
      const sql = yield* PluginSql
      const messages: Array<Message<PagerDutyEvent>> = []
      for (const subject of notice.clears) {
        const key = dedupKey(subject)
        // Also matches an incident this very event resolved before (the event is being handled again).
        const open = yield* sql`UPDATE incidents SET resolved_by = ${notice.eventId}, resolved_at = now()
          WHERE integration_id = ${integration.id} AND dedup_key = ${key} AND (resolved_by IS NULL OR resolved_by = ${notice.eventId})
          RETURNING dedup_key`
        // Ordered behind its trigger: a resolve that overtook a retried trigger would leave the incident open.
        if (open.length > 0) messages.push({ key: `resolve:${subject}`, payload: resolve(key), orderKey: key })
      }
      return messages
    }),
  send: (message, config) =>
    HttpDelivery.postJson(
      config.eventsUrl,
      { routing_key: config.routingKey, ...message },
      {
        check: (body) =>
          (body as { status?: string } | undefined)?.status === "success"
            ? undefined
            : { error: `PagerDuty answered ${JSON.stringify(body)}`, retry: false }
      }
    )
})
