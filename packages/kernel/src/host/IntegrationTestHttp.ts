/**
 * `POST /api/integrations/:id/test`: send a test notification through the
 * integration's provider now and answer with each delivery's outcome. The
 * provider is a notification plugin, and rendering its test message is the
 * plugin's business, so this route hands the request to the plugin's own
 * test route (`POST /api/plugins/<provider>/test`) in process; the plugin
 * sends through its HttpClient, which the egress policy holds.
 */
import {
  Conflict,
  Forbidden,
  HttpRoute,
  IntegrationDeliveries,
  Integrations,
  NotFound,
  Text,
  TooManyRequests,
  Unauthorized,
  ValidationError
} from "@streamspace/core"
import { Effect, Schema } from "effect"
import { RouteRegistry } from "./RouteRegistry.ts"

export const IntegrationTestResult = Schema.Struct({
  ok: Schema.Boolean,
  deliveries: Schema.Array(IntegrationDeliveries.IntegrationDelivery)
})

const TestBody = Schema.Struct({
  message: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(500)))
})

export const integrationTestRoutes = [
  HttpRoute.make({
    method: "POST",
    path: "/api/integrations/:id/test",
    summary:
      "Send a test notification through the integration's provider now (egress policy applies); answers with each delivery's outcome",
    tags: ["integrations"],
    permission: "integrations:admin",
    rateLimit: "strict",
    transactional: false,
    params: Schema.Struct({ id: Text.Id }),
    body: TestBody,
    response: IntegrationTestResult,
    audit: { action: "integration.test", target: (i) => i.params.id },
    errors: [NotFound, Conflict],
    handler: ({ params, body, request }) =>
      Effect.gen(function* () {
        const integration = yield* Effect.flatMap(Integrations.Integrations, (i) => i.get(params.id))
        if (!integration.enabled)
          return yield* new Conflict({
            message: `integration ${integration.name} is disabled: enable it to send a test`,
            code: "integration_disabled"
          })
        const registry = yield* RouteRegistry
        const match = registry.table.resolve("POST", `${registry.table.prefix}/${integration.provider}/test`)
        if (match._tag !== "Found")
          return yield* new Conflict({
            message: `the ${integration.provider} plugin is not enabled (or has no test route): enable it to send a test`,
            code: "provider_unavailable"
          })
        const result = yield* match.route
          .handle({
            params: match.params,
            query: {},
            body: { integrationId: integration.id, ...(body.message ? { message: body.message } : {}) },
            request
          })
          .pipe(
            Effect.catchAll((problem) =>
              problem instanceof NotFound ||
              problem instanceof ValidationError ||
              problem instanceof TooManyRequests ||
              problem instanceof Forbidden ||
              problem instanceof Unauthorized ||
              problem instanceof Conflict
                ? Effect.fail(problem)
                : Effect.fail(new Conflict({ message: problem.message, code: problem.code ?? "provider_failed" }))
            )
          )
        return yield* Schema.decodeUnknown(IntegrationTestResult)(result.body).pipe(Effect.orDie)
      })
  })
]
