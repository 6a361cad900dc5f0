/** Builds the `IntegrationProvider` service of one plugin over the core's integrations store and dispatcher. */
import { EgressPolicy, IntegrationDeliveries, IntegrationDispatcher, Integrations, NotFound } from "@streamspace/core"
import { Effect, ParseResult, Schema } from "effect"
import type { IntegrationProvider } from "../IntegrationProvider.ts"
import { normalize } from "./ConfigSchema.ts"

export const make = (provider: string) =>
  Effect.gen(function* () {
    const store = yield* Integrations.Integrations
    const deliveries = yield* IntegrationDeliveries.IntegrationDeliveries
    const dispatcher = yield* IntegrationDispatcher.IntegrationDispatcher
    const egress = yield* EgressPolicy.EgressPolicy
    /** The integration, if it is one of this provider's. */
    const own = (integrationId: string) =>
      store.get(integrationId).pipe(
        Effect.orDie,
        Effect.filterOrFail(
          (i) => i.provider === provider,
          () => new NotFound({ resource: `${provider} integration`, id: integrationId })
        )
      )
    const service: IntegrationProvider["Type"] = {
      provider,
      serve: (spec) =>
        Effect.gen(function* () {
          const schema = spec.config as Schema.Schema<unknown, unknown>
          // Secret places and destinations are read from the Schema's annotations, at any depth.
          yield* store.registerProvider(provider, {
            validate: (config) => normalize(schema, config),
            ...Integrations.declaredBy(schema)
          })
          const decode = Schema.decodeUnknown(spec.config)
          yield* dispatcher.register(provider, (delivery, raw) =>
            decode(raw).pipe(
              Effect.matchEffect({
                // Field names only: a parse message quotes the value, which may be a secret.
                onFailure: (e) =>
                  Effect.succeed(
                    IntegrationDispatcher.permanentFailure(
                      `integration config is invalid at ${ParseResult.ArrayFormatter.formatErrorSync(e)
                        .map((i) => i.path.join(".") || "(root)")
                        .join(", ")}`
                    )
                  ),
                onSuccess: (config) => spec.send(delivery, config)
              })
            )
          )
        }),
      integrations: (schema) =>
        Effect.gen(function* () {
          const result = []
          for (const { integration, config } of yield* store.resolveEnabled(provider).pipe(Effect.orDie)) {
            const decoded = yield* Effect.either(Schema.decodeUnknown(schema)(config))
            if (decoded._tag === "Right")
              result.push({ id: integration.id, name: integration.name, config: decoded.right })
            else
              yield* Effect.logWarning(
                `integration ${integration.name} (${integration.id}) has a config this plugin cannot read; skipped`
              )
          }
          return result
        }),
      enqueue: (input) =>
        Effect.gen(function* () {
          yield* own(input.integrationId)
          const queued = yield* deliveries.enqueue(input).pipe(Effect.orDie)
          if (queued.created) yield* dispatcher.nudge
          return queued
        }),
      destination: egress.resolve,
      sendNow: (input) =>
        Effect.gen(function* () {
          yield* own(input.integrationId)
          const { id } = yield* deliveries
            .enqueue({ ...input, dedupeKey: `now:${crypto.randomUUID()}`, hold: true })
            .pipe(Effect.orDie)
          return yield* dispatcher.sendNow(id).pipe(Effect.catchTag("SqlError", Effect.die))
        })
    }
    return service
  })
