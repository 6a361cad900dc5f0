/**
 * The operations of `/api/openapi.json` as the fuzz suite sees them: method,
 * path template, parameters and body schema, with a reader for the JSON
 * Schemas Effect emits (`$ref`, `anyOf`, `$defs`) and a well-formed sample
 * value per schema, so that each malformed request differs from a valid one
 * in one place only.
 */

export interface JsonSchema {
  readonly type?: string | ReadonlyArray<string>
  readonly properties?: Record<string, JsonSchema>
  readonly required?: ReadonlyArray<string>
  readonly items?: JsonSchema
  readonly anyOf?: ReadonlyArray<JsonSchema>
  readonly oneOf?: ReadonlyArray<JsonSchema>
  readonly enum?: ReadonlyArray<unknown>
  readonly const?: unknown
  readonly $ref?: string
  readonly $defs?: Record<string, JsonSchema>
  readonly format?: string
  readonly description?: string
  readonly additionalProperties?: boolean | JsonSchema
  readonly patternProperties?: Record<string, JsonSchema>
}

export interface Parameter {
  readonly name: string
  readonly in: "path" | "query"
  readonly required: boolean
  readonly schema: JsonSchema
}

export type Body =
  | { readonly _tag: "Json"; readonly schema: JsonSchema; readonly root: JsonSchema }
  | { readonly _tag: "Binary" }
  | { readonly _tag: "None" }

export interface Operation {
  readonly method: string
  /** OpenAPI path template, `/api/users/{id}`. */
  readonly path: string
  readonly permission: string
  readonly plugin: string | undefined
  readonly parameters: ReadonlyArray<Parameter>
  readonly body: Body
  /** `GET /api/users/{id}`. */
  readonly key: string
}

interface OpenApiOperation {
  readonly "x-permission"?: string
  readonly "x-plugin"?: string
  readonly parameters?: ReadonlyArray<Parameter>
  readonly requestBody?: { readonly content: Record<string, { readonly schema?: JsonSchema }> }
}

export interface OpenApiDocument {
  readonly paths: Record<string, Record<string, OpenApiOperation>>
}

export const operationsOf = (doc: OpenApiDocument): ReadonlyArray<Operation> =>
  Object.entries(doc.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([lower, op]): Operation => {
      const content = op.requestBody?.content ?? {}
      const json = content["application/json"]?.schema
      const body: Body =
        json !== undefined
          ? { _tag: "Json", schema: json, root: json }
          : Object.keys(content).length > 0
            ? { _tag: "Binary" }
            : { _tag: "None" }
      const method = lower.toUpperCase()
      return {
        method,
        path,
        permission: op["x-permission"] ?? "unknown",
        plugin: op["x-plugin"],
        parameters: op.parameters ?? [],
        body,
        key: `${method} ${path}`
      }
    })
  )

/** Follows a local `$ref` (`#/$defs/X` or `#/definitions/X`) against the body's root schema. */
export const resolve = (schema: JsonSchema, root: JsonSchema): JsonSchema => {
  let current = schema
  for (let hops = 0; current.$ref !== undefined && hops < 16; hops++) {
    const name = current.$ref.split("/").pop() ?? ""
    const defs = root.$defs ?? (root as { definitions?: Record<string, JsonSchema> }).definitions ?? {}
    const next = defs[name]
    if (next === undefined) return {}
    current = next
  }
  return current
}

/** The JSON types a schema admits (`any` when it says nothing). */
export const typesOf = (schema: JsonSchema, root: JsonSchema): ReadonlySet<string> => {
  const s = resolve(schema, root)
  const members = s.anyOf ?? s.oneOf
  if (members) return new Set(members.flatMap((m) => [...typesOf(m, root)]))
  if (s.enum) return new Set(s.enum.map((v) => (v === null ? "null" : typeof v)))
  if (s.const !== undefined) return new Set([s.const === null ? "null" : typeof s.const])
  if (s.type === undefined) return new Set(s.properties ? ["object"] : ["any"])
  const types = typeof s.type === "string" ? [s.type] : s.type
  return new Set(types.map((t) => (t === "integer" ? "number" : t)))
}

/** Whether a string field carries a date (Effect describes `Schema.Date`'s encoded side so). */
export const isDate = (schema: JsonSchema, root: JsonSchema): boolean => {
  const s = resolve(schema, root)
  if (s.format === "date-time" || s.format === "date") return true
  if (/\bdate\b/i.test(s.description ?? "")) return true
  return (s.anyOf ?? []).some((m) => isDate(m, root))
}

/** A well-formed value of the schema (the first member of a union, the first literal of an enum). */
export const sample = (schema: JsonSchema, root: JsonSchema, depth = 0): unknown => {
  const s = resolve(schema, root)
  if (depth > 8) return null
  if (s.enum && s.enum.length > 0) return s.enum[0]
  if (s.const !== undefined) return s.const
  const members = s.anyOf ?? s.oneOf
  if (members && members.length > 0) {
    const first = members.find((m) => !typesOf(m, root).has("null")) ?? members[0]!
    return sample(first, root, depth + 1)
  }
  if (isDate(s, root)) return new Date(Date.now() + 86_400_000).toISOString()
  const type = [...typesOf(s, root)][0]
  switch (type) {
    case "string":
      return "fuzz-value"
    case "number":
      return 1
    case "boolean":
      return false
    case "array":
      return []
    case "null":
      return null
    case "object": {
      const out: Record<string, unknown> = {}
      for (const name of s.required ?? []) {
        const prop = s.properties?.[name]
        if (prop) out[name] = sample(prop, root, depth + 1)
      }
      return out
    }
    default:
      return {}
  }
}

/** The declared properties of an object body, resolved. */
export const propertiesOf = (schema: JsonSchema, root: JsonSchema): ReadonlyArray<[string, JsonSchema, boolean]> => {
  const s = resolve(schema, root)
  const required = new Set(s.required ?? [])
  return Object.entries(s.properties ?? {}).map(([name, prop]) => [name, prop, required.has(name)])
}
