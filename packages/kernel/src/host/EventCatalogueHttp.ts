/**
 * The event catalogue: every event a plugin may subscribe to (the core's,
 * then each plugin of the edition's declared events) with its description
 * and the JSON Schema of its payload, for plugin authors, the console and
 * docs; served at `GET /api/events/catalogue`.
 */
import { CoreEvents, HttpRoute } from "@streamspace/core"
import { Effect, JSONSchema, Option, Schema, SchemaAST } from "effect"
import type { PluginDefinition } from "../Plugin.ts"
import { PluginHost } from "./PluginHost.ts"

/** One event of the catalogue, for docs and the admin API. */
export interface CatalogueEntry {
  readonly type: string
  /** `core`, or the id of the plugin that declares it. */
  readonly source: string
  readonly description: string
  /** JSON Schema of the payload as stored and delivered (the encoded form). */
  readonly schema: JSONSchema.JsonSchema7Root | Record<string, never>
}

const jsonSchema = (schema: Schema.Schema.AnyNoContext): CatalogueEntry["schema"] => {
  try {
    return JSONSchema.make(schema)
  } catch {
    return {}
  }
}

const descriptionOf = (schema: Schema.Schema.AnyNoContext) =>
  Option.getOrElse(SchemaAST.getDescriptionAnnotation(schema.ast), () => "")

/** Every event a plugin may subscribe to: the core's, then each plugin's declared events, with their payload JSON Schemas. */
export const catalogue = (
  plugins: ReadonlyArray<Pick<PluginDefinition, "id" | "events">>
): ReadonlyArray<CatalogueEntry> => [
  ...CoreEvents.definitions.map((d) => ({
    type: d.type,
    source: "core",
    description: d.description,
    schema: jsonSchema(d.schema)
  })),
  ...plugins.flatMap((p) =>
    Object.entries(p.events ?? {}).map(([type, schema]) => ({
      type,
      source: p.id,
      description: descriptionOf(schema),
      schema: jsonSchema(schema)
    }))
  )
]

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
