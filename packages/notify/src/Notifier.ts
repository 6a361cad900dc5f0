/**
 * `defineNotifier`: a notification plugin from what is particular to its
 * provider — the config of one destination, how a notice becomes the
 * provider's message, and how a message is sent. Everything else is here,
 * once for every provider:
 *
 * - a durable subscription to all events; for each enabled integration of
 *   the provider whose selection and filters match, the notice is rendered
 *   and queued in the core's integration delivery store, idempotently per
 *   (integration, event), so a crash or a redelivered event never sends twice;
 * - sending through the core's dispatcher (retries with backoff honouring
 *   Retry-After and 429, dead letters an admin can replay, secrets masked);
 * - `POST /api/plugins/<id>/test`: send a test notification now and answer
 *   with what happened;
 * - the method `notify` (`NotifyMethod.ts`) other plugins call to send their
 *   own message through one integration, queued like an event's.
 */
import type { HttpClient } from "@effect/platform"
import { Effect, Layer, Schema } from "effect"
import { HttpRoute, IntegrationDeliveries, IntegrationDispatcher, NotFound, Timestamps } from "@streamspace/core"
import {
  definePlugin,
  Events,
  IntegrationProvider,
  method,
  type PluginDefinition,
  type PluginServices,
  Routes
} from "@streamspace/kernel"
import type { CoreMigrations } from "@streamspace/core"
import * as Notice from "./Notice.ts"
import { NotifyInput, NotifyOutput } from "./NotifyMethod.ts"
import * as Selection from "./Selection.ts"

const { now } = Timestamps

export interface Message<M> {
  /** Tells apart several messages made from one notice (e.g. `resolve`); part of the delivery's dedupe key. */
  readonly key?: string
  readonly payload: M
  /** Messages of one integration with the same order key are sent in order, a later one waiting while an earlier one is retried. */
  readonly orderKey?: string
}

export interface NotifierSpec<C extends Selection.Selection, CI, M, MI> {
  readonly id: string
  readonly name: string
  readonly version: string
  readonly description: string
  /** One destination's config; build it with `integrationConfig` so it has `events` and `filters`. */
  readonly integration: Schema.Schema<C, CI>
  /** The rendered message as stored in the queue (never secrets: `send` gets those from the config). */
  readonly message: Schema.Schema<M, MI>
  /** The messages for a notice the integration selected (none to skip it). */
  readonly render: (
    notice: Notice.Notice,
    integration: IntegrationProvider.ProviderIntegration<C>
  ) => Effect.Effect<ReadonlyArray<Message<M>>, unknown, PluginServices>
  /** Messages for a notice that ends an earlier condition (`notice.clears`), whatever the selection: PagerDuty's resolve. */
  readonly clear?: (
    notice: Notice.Notice,
    integration: IntegrationProvider.ProviderIntegration<C>
  ) => Effect.Effect<ReadonlyArray<Message<M>>, unknown, PluginServices>
  /**
   * Sends one message; failures are outcomes, not errors. HTTP goes through
   * the plugin's HttpClient (held to the egress policy); other connections
   * ask `IntegrationProvider.destination` where to connect.
   */
  readonly send: (
    message: M,
    config: C
  ) => Effect.Effect<IntegrationDispatcher.SendOutcome, never, HttpClient.HttpClient | IntegrationProvider>
  /** The plugin's own tables (e.g. open incidents). */
  readonly migrations?: ReadonlyArray<CoreMigrations.MigrationSource>
}

/** An integration config Schema: the provider's fields plus `events` (default: `defaultEvents`) and `filters`. */
export const integrationConfig = <F extends Schema.Struct.Fields>(
  fields: F,
  defaultEvents: ReadonlyArray<string> = Selection.defaultEvents
) => Schema.Struct({ ...fields, ...Selection.fields(defaultEvents) })

const TestBody = Schema.Struct({
  integrationId: Schema.String.pipe(Schema.minLength(1)),
  message: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(500)))
})

const TestResult = Schema.Struct({
  ok: Schema.Boolean,
  deliveries: Schema.Array(IntegrationDeliveries.IntegrationDelivery)
})

export const defineNotifier = <C extends Selection.Selection, CI, M, MI>(
  spec: NotifierSpec<C, CI, M, MI>
): PluginDefinition => {
  const encodeMessage = Schema.encode(spec.message)
  const decodeMessage = Schema.decodeUnknown(spec.message)

  const layer = Layer.scopedDiscard(
    Effect.gen(function* () {
      const provider = yield* IntegrationProvider
      const context = yield* Effect.context<PluginServices>()

      yield* provider.serve({
        config: spec.integration,
        send: (delivery, config) =>
          decodeMessage(delivery.payload).pipe(
            Effect.matchEffect({
              onFailure: (e) =>
                Effect.succeed(IntegrationDispatcher.permanentFailure(`queued message is unreadable: ${e.message}`)),
              onSuccess: (message) => spec.send(message, config)
            }),
            Effect.provide(context)
          )
      })

      const messagesFor = (notice: Notice.Notice, integration: IntegrationProvider.ProviderIntegration<C>) =>
        Effect.gen(function* () {
          const selected = Selection.selects(integration.config, notice) ? yield* spec.render(notice, integration) : []
          const clearing =
            spec.clear && notice.clears.length > 0 && Selection.passesFilters(integration.config.filters, notice)
              ? yield* spec.clear(notice, integration)
              : []
          return [...selected, ...clearing]
        })

      yield* (yield* Events).subscribe({ name: "notifications", types: ["*"] }, (event) =>
        Effect.gen(function* () {
          const targets = yield* provider.integrations(spec.integration)
          if (targets.length === 0) return
          const notice = yield* Notice.describe(event)
          for (const integration of targets) {
            for (const message of yield* messagesFor(notice, integration)) {
              yield* provider.enqueue({
                integrationId: integration.id,
                dedupeKey: `event:${event.id}${message.key ? `:${message.key}` : ""}`,
                subject: event.type,
                payload: yield* encodeMessage(message.payload),
                orderKey: message.orderKey
              })
            }
          }
        }).pipe(Effect.provide(context))
      )

      yield* (yield* Routes).add(
        HttpRoute.make({
          method: "POST",
          path: "/test",
          summary: `Send a test notification through one ${spec.name} integration now; answers with each delivery's outcome`,
          tags: [spec.id],
          permission: "integrations:admin",
          rateLimit: "strict",
          transactional: false,
          body: TestBody,
          response: TestResult,
          audit: { action: `${spec.id}.test`, target: (input) => input.body.integrationId },
          errors: [NotFound],
          handler: ({ body }) =>
            Effect.gen(function* () {
              const integration = (yield* provider.integrations(spec.integration)).find(
                (i) => i.id === body.integrationId
              )
              if (!integration) {
                return yield* new NotFound({
                  resource: `${spec.id} integration`,
                  id: body.integrationId,
                  detail: `no enabled ${spec.id} integration ${body.integrationId} (see GET /api/integrations?provider=${spec.id})`
                })
              }
              const notice = Notice.test(body.message, yield* now)
              const messages = yield* spec.render(notice, integration).pipe(Effect.orDie)
              const deliveries = yield* Effect.forEach(messages, (message) =>
                Effect.flatMap(encodeMessage(message.payload), (payload) =>
                  provider.sendNow({ integrationId: integration.id, subject: "test", payload })
                )
              )
              return { ok: deliveries.length > 0 && deliveries.every((d) => d.status === "delivered"), deliveries }
            }).pipe(Effect.catchTag("ParseError", Effect.die), Effect.provide(context))
        })
      )
    })
  )

  const notify = method("notify", {
    input: NotifyInput,
    output: NotifyOutput,
    handler: (input) =>
      Effect.gen(function* () {
        const provider = yield* IntegrationProvider
        const integration = (yield* provider.integrations(spec.integration)).find((i) => i.id === input.integrationId)
        if (!integration) {
          return yield* new NotFound({
            resource: `${spec.id} integration`,
            id: input.integrationId,
            detail: `no enabled ${spec.id} integration ${input.integrationId} (see GET /api/integrations?provider=${spec.id})`
          })
        }
        const notice = Notice.custom(input, yield* now)
        const messages = yield* spec.render(notice, integration)
        const queued = yield* Effect.forEach(messages, (message) =>
          Effect.flatMap(encodeMessage(message.payload), (payload) =>
            provider.enqueue({
              integrationId: integration.id,
              dedupeKey: `notify:${input.key}${message.key ? `:${message.key}` : ""}`,
              subject: notice.type,
              payload,
              orderKey: message.orderKey
            })
          )
        )
        return {
          provider: spec.id,
          integrationId: integration.id,
          deliveryIds: queued.map((q) => q.id),
          created: queued.some((q) => q.created)
        }
      })
  })

  return definePlugin({
    id: spec.id,
    name: spec.name,
    version: spec.version,
    type: "integration",
    category: "notifications",
    description: spec.description,
    author: "StreamSpace",
    ...(spec.migrations ? { migrations: spec.migrations } : {}),
    layer,
    methods: { notify }
  })
}
