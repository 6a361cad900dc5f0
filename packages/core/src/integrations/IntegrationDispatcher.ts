/**
 * Sends queued integration deliveries through the sender that the
 * provider's plugin registered. A delivery is claimed with
 * `FOR UPDATE SKIP LOCKED` and a lease, so replicas never send it twice at
 * once; a failure is retried with doubling backoff that honours
 * `Retry-After`, and ends `dead` after `integrations.maxAttempts` (or at once
 * when the receiver rejects it for good). Deliveries of a provider whose
 * plugin is disabled, or of a disabled integration, wait in the queue.
 *
 * Error texts are stored and logged with every secret of the integration
 * (each field its provider or the integration declares secret, however
 * deep; a URL also by its password) replaced by the mask.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Duration, Effect, Layer, type Scope } from "effect"
import { NotFound } from "../Errors.ts"
import * as DeliveryLoop from "../internal/DeliveryLoop.ts"
import { afterFailure } from "../RetryPolicy.ts"
import { ServerConfig } from "../ServerConfig.ts"
import { type IntegrationDelivery, type Row, toDelivery } from "./IntegrationDeliveries.ts"
import { Integrations } from "./Integrations.ts"
import { redact } from "../secrets/SecretFields.ts"
import { now } from "../Timestamps.ts"

export interface Delivery {
  readonly id: string
  readonly integrationId: string
  readonly subject: string
  readonly payload: unknown
  /** Attempts before this one. */
  readonly attempts: number
}

export interface SendOutcome {
  readonly ok: boolean
  readonly responseCode: number | null
  readonly error?: string | undefined
  /** The receiver asked to wait this long (Retry-After, a 429 body). */
  readonly retryAfterMs?: number | undefined
  /** Retrying cannot help (bad request, unknown channel, revoked token): dead-letter now. */
  readonly permanent?: boolean | undefined
}

/** A failure retrying cannot help (a config or a message that cannot be read, a refused destination): dead-letter now. */
export const permanentFailure = (error: string): SendOutcome => ({
  ok: false,
  responseCode: null,
  permanent: true,
  error
})

/** Sends one delivery with the integration's full config (secrets included). Failures are outcomes, not errors. */
export type Sender = (delivery: Delivery, config: Record<string, unknown>) => Effect.Effect<SendOutcome>

export class IntegrationDispatcher extends Context.Tag("@streamspace/core/IntegrationDispatcher")<
  IntegrationDispatcher,
  {
    /** Sends deliveries of `provider` with `sender` until the scope closes. */
    readonly register: (provider: string, sender: Sender) => Effect.Effect<void, never, Scope.Scope>
    readonly nudge: Effect.Effect<void>
    /** Sends what is due, once (tests, shutdown). */
    readonly runOnce: Effect.Effect<void>
    /** Attempts one delivery now, whatever its schedule, and returns its record (test notifications). */
    readonly sendNow: (id: string) => Effect.Effect<IntegrationDelivery, NotFound | SqlError>
  }
>() {}

const BATCH = 20

export const IntegrationDispatcherLive = Layer.scoped(
  IntegrationDispatcher,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const policy = (yield* ServerConfig).integrations
    const integrations = yield* Integrations
    const senders = new Map<string, Sender>()
    const leaseUntil = (at: Date) => new Date(at.getTime() + policy.timeoutMs + 30_000)

    const claim = Effect.gen(function* () {
      const providers = [...senders.keys()]
      if (providers.length === 0) return []
      const at = yield* now
      return yield* sql<Row & { provider: string }>`
        UPDATE integration_deliveries d SET next_attempt_at = ${leaseUntil(at)}
        FROM (SELECT d2.id, i.provider FROM integration_deliveries d2 JOIN integrations i ON i.id = d2.integration_id
              WHERE d2.status IN ('pending', 'failed') AND d2.next_attempt_at <= ${at} AND i.enabled AND i.provider = ANY(${providers})
                AND (d2.order_key IS NULL OR NOT EXISTS (
                  SELECT 1 FROM integration_deliveries e WHERE e.integration_id = d2.integration_id AND e.order_key = d2.order_key
                    AND e.seq < d2.seq AND e.status IN ('pending', 'failed')))
              ORDER BY d2.next_attempt_at, d2.seq LIMIT ${BATCH} FOR UPDATE OF d2 SKIP LOCKED) c
        WHERE d.id = c.id
        RETURNING d.*, c.provider`
    })

    const attempt = (d: Row & { provider: string }) =>
      Effect.gen(function* () {
        const sender = senders.get(d.provider)
        const started = yield* Clock.currentTimeMillis
        const resolved = yield* integrations.resolve(d.integration_id)
        const outcome: SendOutcome = sender
          ? yield* sender(
              {
                id: d.id,
                integrationId: d.integration_id,
                subject: d.subject,
                payload: d.payload,
                attempts: d.attempts
              },
              resolved.config
            ).pipe(
              Effect.timeoutTo({
                duration: Duration.millis(policy.timeoutMs),
                onTimeout: (): SendOutcome => ({
                  ok: false,
                  responseCode: null,
                  error: `timed out after ${policy.timeoutMs} ms`
                }),
                onSuccess: (o) => o
              }),
              Effect.catchAllDefect((defect) =>
                Effect.succeed<SendOutcome>({
                  ok: false,
                  responseCode: null,
                  error: `sender crashed: ${String(defect)}`
                })
              )
            )
          : { ok: false, responseCode: null, error: `no enabled plugin sends ${d.provider} deliveries` }
        const finished = yield* Clock.currentTimeMillis
        const attempts = d.attempts + 1
        const latency = Math.round(finished - started)
        const at = new Date(finished)
        if (outcome.ok) {
          yield* sql`UPDATE integration_deliveries SET status = 'delivered', attempts = ${attempts}, response_code = ${outcome.responseCode},
            last_error = NULL, latency_ms = ${latency}, next_attempt_at = NULL, updated_at = ${at} WHERE id = ${d.id}`
          return
        }
        const error = redact(
          outcome.error ?? (outcome.responseCode ? `HTTP ${outcome.responseCode}` : "failed"),
          resolved.redactions
        ).slice(0, 2000)
        const { dead, nextAttemptAt } = afterFailure(policy, {
          attempts,
          finishedAtMs: finished,
          retryAfterMs: outcome.retryAfterMs,
          permanent: outcome.permanent
        })
        yield* sql`UPDATE integration_deliveries SET status = ${dead ? "dead" : "failed"}, attempts = ${attempts}, response_code = ${outcome.responseCode},
          last_error = ${error}, latency_ms = ${latency}, next_attempt_at = ${dead ? null : nextAttemptAt}, updated_at = ${at} WHERE id = ${d.id}`
        if (dead)
          yield* Effect.logWarning(
            `integration delivery ${d.id} (${d.provider}, ${d.subject}) is dead after ${attempts} attempt(s): ${error}`
          )
      }).pipe(
        Effect.catchAllCause((cause) => Effect.logError(`integration delivery ${d.id} could not be attempted`, cause))
      )

    /** How long to wait for a nudge: until the next retry is due, at most a second (other replicas enqueue too). */
    const idle = Effect.gen(function* () {
      const providers = [...senders.keys()]
      if (providers.length === 0) return Duration.seconds(1)
      const next = (yield* sql<{ at: Date | null }>`
        SELECT min(d.next_attempt_at) AS at FROM integration_deliveries d JOIN integrations i ON i.id = d.integration_id
        WHERE d.status IN ('pending', 'failed') AND i.enabled AND i.provider = ANY(${providers})`)[0]?.at
      const wait = next ? next.getTime() - (yield* Clock.currentTimeMillis) : 1000
      return Duration.millis(Math.min(1000, Math.max(5, wait)))
    }).pipe(Effect.orElseSucceed(() => Duration.seconds(1)))

    const { nudge, runOnce } = yield* DeliveryLoop.start({ name: "integration", claim, attempt, idle })

    return {
      register: (provider, sender) =>
        Effect.acquireRelease(
          Effect.zipRight(
            Effect.sync(() => senders.set(provider, sender)),
            nudge
          ),
          () => Effect.sync(() => senders.delete(provider))
        ).pipe(Effect.asVoid),
      nudge,
      runOnce,
      sendNow: (id) =>
        Effect.gen(function* () {
          const at = yield* now
          // Claimed like the background loop does (not while another attempt holds the lease).
          const rows = yield* sql<Row & { provider: string }>`
            UPDATE integration_deliveries d SET next_attempt_at = ${leaseUntil(at)} FROM integrations i
            WHERE d.id = ${id} AND i.id = d.integration_id AND d.status IN ('pending', 'failed')
              AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ${at})
            RETURNING d.*, i.provider`
          if (rows[0]) yield* attempt(rows[0])
          const after = yield* sql<Row>`SELECT * FROM integration_deliveries WHERE id = ${id}`
          if (!after[0]) return yield* new NotFound({ resource: "delivery", id })
          return toDelivery(after[0])
        })
    }
  })
)
