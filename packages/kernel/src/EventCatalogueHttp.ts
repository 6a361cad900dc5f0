/**
 * The event catalogue over HTTP: every event a plugin may subscribe to (the
 * core's, then each plugin of the edition's declared events) with its
 * description and the JSON Schema of its payload, for plugin authors, the
 * console and docs.
 */
import { HttpRoute } from "@streamspace/core"
import { Effect, Schema } from "effect"
import { catalogue } from "./Events.ts"
import { PluginHost } from "./PluginHost.ts"

const Entry = Schema.Struct({
  type: Schema.String,
  source: Schema.String,
  description: Schema.String,
  schema: Schema.Unknown
})

export const eventCatalogueRoutes = [
  HttpRoute.make({
    method: "GET",
    path: "/api/events/catalogue",
    summary: "Events plugins may subscribe to: core events and plugins' declared events, with payload JSON Schemas",
    tags: ["plugins"],
    permission: "authenticated",
    response: Schema.Struct({ items: Schema.Array(Entry) }),
    handler: () => Effect.map(PluginHost, (host) => ({ items: catalogue(host.definitions()) }))
  })
]
