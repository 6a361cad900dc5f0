/**
 * What starts executions besides a manual run: events (any core or plugin
 * event, with a filter), cron schedules in a time zone (the plugin's
 * one-minute job runs once per tick across replicas; the execution's
 * dedupe key `cron:<minute>` makes a second run of the same tick a no-op),
 * and signed inbound webhooks.
 *
 * Webhook secrets are derived, never stored: the URL token and the signing
 * secret are HMAC-SHA256 of the workflow id and a generation under the
 * plugin's sealed config secret `webhookSigningKey`; the table keeps only the
 * token's SHA-256, to find the workflow. Rotating bumps the generation.
 */
import type { SqlClient } from "@effect/sql"
import type { Events } from "@streamspace/kernel"
import { Cron, Effect, Either } from "effect"
import { createHash, createHmac, timingSafeEqual } from "node:crypto"
import * as Def from "./Definition.ts"
import { decodeDefinition, enqueue } from "./Engine.ts"
import * as Expr from "./Expr.ts"

const b64url = (b: Buffer) => b.toString("base64url")

export const webhookSecrets = (masterKey: string, workflowId: string, generation: number) => {
  const mac = (what: string) => createHmac("sha256", masterKey).update(`${what}:${workflowId}:${generation}`).digest()
  const token = b64url(mac("url"))
  return { token, secret: `whsec_${b64url(mac("sign"))}`, tokenHash: sha256(token) }
}

export const sha256 = (s: string) => createHash("sha256").update(s).digest("hex")

/** The signature a sender puts in `X-StreamSpace-Signature`: `sha256=` + hex HMAC-SHA256(secret, `<timestamp>.<body>`). */
export const sign = (secret: string, timestamp: string, body: string) =>
  `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`

export const verify = (secret: string, timestamp: string, body: string, signature: string) => {
  const want = Buffer.from(sign(secret, timestamp, body))
  const got = Buffer.from(signature)
  return want.length === got.length && timingSafeEqual(want, got)
}

interface TriggerRow {
  readonly id: string
  readonly current_version: number
  readonly event_types: ReadonlyArray<string>
  readonly definition: unknown
}

const matches = (types: ReadonlyArray<string>, type: string) =>
  types.some((t) => t === "*" || t === type || (t.endsWith(".*") && type.startsWith(t.slice(0, -1))))

export const makeTriggers = (sql: SqlClient.SqlClient, wake: Effect.Effect<void>) => {
  const active = (type: "event" | "cron") =>
    sql<TriggerRow>`
      SELECT w.id, w.current_version, w.event_types, v.definition
      FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version
      WHERE w.enabled AND w.deleted_at IS NULL AND w.trigger_type = ${type}`

  /** A batch of events: every enabled event workflow whose types and filter match gets one execution per event. */
  const onEvents = (batch: ReadonlyArray<Events.Event<string, unknown>>) =>
    Effect.gen(function* () {
      const workflows = yield* active("event")
      if (workflows.length === 0) return
      let created = 0
      for (const w of workflows) {
        const def = decodeDefinition(w.definition)
        if (def.trigger.type !== "event") continue
        const filter = def.trigger.filter === undefined ? undefined : Expr.parse(def.trigger.filter, Def.FILTER_ROOTS)
        for (const event of batch) {
          if (!matches(w.event_types, event.type)) continue
          // A workflow never triggers on its own executions' events (no loops through itself).
          const payload = event.payload as Expr.Json
          if (
            event.type.startsWith("workflows.") &&
            typeof payload === "object" &&
            payload !== null &&
            !Array.isArray(payload) &&
            (payload as { workflowId?: unknown }).workflowId === w.id
          )
            continue
          const envelope: Expr.Json = {
            id: event.id,
            type: event.type,
            source: event.source,
            payload: JSON.parse(JSON.stringify(event.payload ?? null)) as Expr.Json,
            actorId: event.actorId,
            occurredAt: event.occurredAt.toISOString()
          }
          if (filter) {
            const r = filter.ok ? Expr.evaluate(filter.value, { event: envelope }) : filter
            if (!r.ok) {
              yield* Effect.logWarning(
                `workflow ${w.id}: trigger filter failed on event ${event.id}: ${r.error.message}`
              )
              continue
            }
            if (!Expr.truthy(r.value)) continue
          }
          const e = yield* enqueue(sql, {
            workflowId: w.id,
            version: w.current_version,
            triggerType: "event",
            triggerData: envelope,
            vars: def.variables as Expr.Json,
            dedupeKey: `event:${event.id}`,
            triggeredBy: event.actorId
          })
          if (e.created) created++
        }
      }
      if (created > 0) yield* wake
    })

  /** The minute `at` falls in: one execution of every cron workflow whose schedule matches it in its time zone. */
  const onTick = (at: Date) =>
    Effect.gen(function* () {
      const minute = new Date(Math.floor(at.getTime() / 60_000) * 60_000)
      let created = 0
      for (const w of yield* active("cron")) {
        const def = decodeDefinition(w.definition)
        if (def.trigger.type !== "cron") continue
        const cron = Cron.parse(def.trigger.cron, def.trigger.timeZone)
        if (Either.isLeft(cron) || !Cron.match(cron.right, minute)) continue
        const e = yield* enqueue(sql, {
          workflowId: w.id,
          version: w.current_version,
          triggerType: "cron",
          triggerData: { tick: minute.toISOString(), cron: def.trigger.cron, timeZone: def.trigger.timeZone },
          vars: def.variables as Expr.Json,
          dedupeKey: `cron:${minute.toISOString()}`,
          triggeredBy: null
        })
        if (e.created) created++
      }
      if (created > 0) yield* wake
    })

  return { onEvents, onTick }
}
