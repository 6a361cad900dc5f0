/**
 * HTTP endpoints under `/api/plugins/<id>/…`, declared with the core's
 * `HttpRoute.make` (permission, Schemas, rate-limit class). `path` is relative
 * to the plugin's prefix. Routes live as long as the plugin's scope: when the
 * plugin is disabled they answer 404 `plugin_disabled`.
 */
import type { HttpRoute } from "@streamspace/core"
import { Context, type Effect, type Scope } from "effect"

export class Routes extends Context.Tag("@streamspace/kernel/Routes")<
  Routes,
  {
    readonly add: (route: HttpRoute.Route) => Effect.Effect<void, never, Scope.Scope>
  }
>() {}
