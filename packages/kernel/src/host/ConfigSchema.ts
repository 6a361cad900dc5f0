/**
 * Config Schemas of plugins (and of the integrations they serve): which
 * top-level fields are secret, decoding that reports each bad field without
 * ever echoing a secret value, and the JSON Schema an admin form is built
 * from (flat, inlined, secrets write-only, defaults filled in).
 */
import { type FieldError, ParseIssues } from "@streamspace/core"
import { Effect, Option, ParseResult, Predicate, Schema, SchemaAST } from "effect"
import { SecretField } from "../PluginContext.ts"

/** Top-level config keys whose Schema is annotated with `PluginConfig.secret`. */
export const secretKeys = (schema: Schema.Schema<unknown, unknown> | undefined): ReadonlyArray<string> => {
  if (!schema) return []
  let ast = schema.ast
  while (ast._tag === "Transformation" || ast._tag === "Refinement")
    ast = ast._tag === "Transformation" ? ast.to : ast.from
  if (ast._tag !== "TypeLiteral") return []
  const isSecret = (a: SchemaAST.AST): boolean =>
    a.annotations[SecretField] === true ||
    (a._tag === "Union" && a.types.some(isSecret)) ||
    (a._tag === "Refinement" && isSecret(a.from)) ||
    (a._tag === "Transformation" && (isSecret(a.from) || isSecret(a.to)))
  return ast.propertySignatures.filter((p) => isSecret(p.type)).map((p) => String(p.name))
}

/**
 * Decodes `input` strictly (unknown keys are errors) and returns it encoded
 * again, with defaults filled in; failures are field errors with paths
 * relative to the config.
 */
export const normalize = (
  schema: Schema.Schema<unknown, unknown>,
  input: unknown
): Effect.Effect<Record<string, unknown>, ReadonlyArray<FieldError>> =>
  Schema.decodeUnknown(schema, { errors: "all", onExcessProperty: "error" })(input).pipe(
    Effect.map((value) => Schema.encodeSync(schema)(value) as Record<string, unknown>),
    Effect.mapError((e) => {
      const secrets = secretKeys(schema)
      // One entry per bad field: a union (a literal list, an optional field) mismatch is one entry naming the allowed values.
      return ParseIssues.issues(e).map((i) => ({
        path: i.path.map(String).join("."),
        // Never echo a secret back, not even a rejected one.
        message: secrets.includes(String(i.path[0]))
          ? i.message.replace(/, actual [\s\S]*$/, ", actual <redacted>")
          : i.message
      }))
    })
  )

/** A JSON Schema document (draft-07) as plain JSON. */
export type JsonSchema = { readonly [key: string]: unknown }

const keywordDefaults: Partial<Record<SchemaAST.AST["_tag"], SchemaAST.AST>> = {
  StringKeyword: SchemaAST.stringKeyword,
  NumberKeyword: SchemaAST.numberKeyword,
  BooleanKeyword: SchemaAST.booleanKeyword,
  BigIntKeyword: SchemaAST.bigIntKeyword,
  SymbolKeyword: SchemaAST.symbolKeyword,
  ObjectKeyword: SchemaAST.objectKeyword,
  UnknownKeyword: SchemaAST.unknownKeyword,
  AnyKeyword: SchemaAST.anyKeyword,
  NeverKeyword: SchemaAST.neverKeyword,
  UndefinedKeyword: SchemaAST.undefinedKeyword,
  VoidKeyword: SchemaAST.voidKeyword
}

/** Built-in filters title themselves after their call (`minLength(1)`, `int`): not a label for a form. */
const isFilterTitle = (ast: SchemaAST.AST, title: string) =>
  ast._tag === "Refinement" &&
  ast.annotations[SchemaAST.SchemaIdAnnotationId] !== undefined &&
  /^[a-z][A-Za-z]*(\(.*\))?$/.test(title)

/** `title` and `description` written for a node or property (not the keywords' stock "a string"/"string"). */
const ownText = (annotated: SchemaAST.Annotated, ast?: SchemaAST.AST): JsonSchema => {
  const stock = (ast && keywordDefaults[ast._tag]?.annotations) ?? {}
  const out: Record<string, unknown> = {}
  const title = Option.getOrUndefined(SchemaAST.getTitleAnnotation(annotated))
  if (title !== undefined && title !== stock[SchemaAST.TitleAnnotationId] && !(ast && isFilterTitle(ast, title)))
    out["title"] = title
  const description = Option.getOrUndefined(SchemaAST.getDescriptionAnnotation(annotated))
  if (description !== undefined && description !== stock[SchemaAST.DescriptionAnnotationId])
    out["description"] = description
  return out
}

const isJsonValue = (value: unknown): boolean =>
  value === null ||
  Predicate.isString(value) ||
  Predicate.isBoolean(value) ||
  (Predicate.isNumber(value) && Number.isFinite(value)) ||
  (Array.isArray(value) && value.every(isJsonValue)) ||
  (Predicate.isRecord(value) &&
    Object.getPrototypeOf(value) === Object.prototype &&
    Object.values(value).every(isJsonValue))

/** `value` (decoded) in the encoded form `ast` stores, when that is plain JSON. */
const encodedJson = (ast: SchemaAST.AST, value: unknown): Option.Option<unknown> =>
  ParseResult.encodeUnknownOption(Schema.make<unknown>(ast))(value).pipe(Option.filter(isJsonValue))

const withoutUndefined = (ast: SchemaAST.AST): SchemaAST.AST => {
  if (ast._tag !== "Union") return ast
  const members = ast.types.filter((t) => t._tag !== "UndefinedKeyword" && t._tag !== "VoidKeyword")
  return members.length === ast.types.length
    ? ast
    : members.length === 1
      ? members[0]!
      : SchemaAST.Union.make(members, ast.annotations)
}

const literalType = (value: SchemaAST.LiteralValue): string | undefined =>
  value === null
    ? "null"
    : Predicate.isString(value)
      ? "string"
      : Predicate.isNumber(value)
        ? "number"
        : Predicate.isBoolean(value)
          ? "boolean"
          : undefined

/** The stricter of two bounds when refinements repeat a keyword (`minLength(1)` then `minLength(3)`). */
const lowerBounds = new Set(["minLength", "minItems", "minimum", "exclusiveMinimum", "minProperties"])
const upperBounds = new Set(["maxLength", "maxItems", "maximum", "exclusiveMaximum", "maxProperties"])

const refine = (base: JsonSchema, keywords: JsonSchema): JsonSchema => {
  const out: Record<string, unknown> = { ...base }
  const extra: Array<JsonSchema> = []
  for (const [key, value] of Object.entries(keywords)) {
    const prev = out[key]
    if (prev === undefined || key === "type") out[key] = value
    else if (Predicate.isNumber(prev) && Predicate.isNumber(value) && lowerBounds.has(key))
      out[key] = Math.max(prev, value)
    else if (Predicate.isNumber(prev) && Predicate.isNumber(value) && upperBounds.has(key))
      out[key] = Math.min(prev, value)
    // Two patterns (or any other repeated keyword) must both hold: keep the second beside the first.
    else if (JSON.stringify(prev) !== JSON.stringify(value)) extra.push({ [key]: value })
  }
  if (extra.length > 0) out["allOf"] = [...((out["allOf"] as ReadonlyArray<JsonSchema> | undefined) ?? []), ...extra]
  return out
}

/** Keywords a Schema sets itself (`jsonSchema` annotation) that replace what its structure says. */
const isOverride = (keywords: JsonSchema) =>
  ["type", "anyOf", "oneOf", "enum", "const", "$ref"].some((k) => k in keywords)

const node = (ast: SchemaAST.AST, suspended: ReadonlySet<SchemaAST.AST>): JsonSchema => {
  const secret = ast.annotations[SecretField] === true ? { writeOnly: true, format: "password" } : {}
  return { ...shape(ast, suspended), ...ownText(ast, ast), ...secret }
}

const shape = (ast: SchemaAST.AST, suspended: ReadonlySet<SchemaAST.AST>): JsonSchema => {
  const keywords = Option.getOrUndefined(SchemaAST.getJSONSchemaAnnotation(ast)) as JsonSchema | undefined
  if (ast._tag === "Refinement") {
    const base = node(ast.from, suspended)
    return keywords === undefined ? base : refine(base, keywords)
  }
  if (keywords !== undefined && isOverride(keywords)) return keywords
  return { ...structure(ast, suspended), ...keywords }
}

const structure = (ast: SchemaAST.AST, suspended: ReadonlySet<SchemaAST.AST>): JsonSchema => {
  switch (ast._tag) {
    case "StringKeyword":
      return { type: "string" }
    case "NumberKeyword":
      return { type: "number" }
    case "BooleanKeyword":
      return { type: "boolean" }
    case "ObjectKeyword":
      return { type: "object" }
    case "NeverKeyword":
      return { not: {} }
    case "Literal": {
      const type = literalType(ast.literal)
      return type === "null" ? { type } : type === undefined ? {} : { type, enum: [ast.literal] }
    }
    case "Enums": {
      const values = ast.enums.map(([, value]) => value)
      const types = new Set(values.map((v) => typeof v))
      return types.size === 1
        ? { type: Predicate.isString(values[0]) ? "string" : "number", enum: values }
        : { enum: values }
    }
    case "TemplateLiteral":
      return { type: "string", pattern: SchemaAST.getTemplateLiteralRegExp(ast).source }
    case "Union": {
      const members = ast.types.filter((t) => t._tag !== "UndefinedKeyword" && t._tag !== "VoidKeyword")
      if (members.length === 1) return node(members[0]!, suspended)
      // A list of literals of one type is an enum (a select box), not a list of one-value schemas.
      const literals = members.flatMap((m) =>
        m._tag === "Literal" && ownText(m, m)["description"] === undefined ? [m.literal] : []
      )
      const types = new Set(literals.map(literalType))
      if (literals.length === members.length && types.size === 1) {
        const type = literalType(literals[0]!)
        if (type !== undefined && type !== "null") return { type, enum: literals }
      }
      return { anyOf: members.map((m) => node(m, suspended)) }
    }
    case "TupleType": {
      const elements = ast.elements.map((e) => node(withoutUndefined(e.type), suspended))
      const rest = ast.rest.map((r) => node(r.type, suspended))
      if (elements.length === 0)
        return rest.length === 0 ? { type: "array", maxItems: 0 } : { type: "array", items: rest[0] }
      const required = ast.elements.filter((e) => !e.isOptional).length
      return {
        type: "array",
        items: elements,
        ...(required > 0 ? { minItems: required } : {}),
        ...(rest.length === 0 ? { additionalItems: false } : { additionalItems: rest[0] })
      }
    }
    case "TypeLiteral":
      return object(ast, suspended, new Map())
    case "Transformation": {
      // A form edits what is stored: the encoded side. Struct defaults (`optionalWith(…, { default })`) come from the decode side.
      if (SchemaAST.isTypeLiteralTransformation(ast.transformation) && ast.from._tag === "TypeLiteral") {
        const defaults = new Map<PropertyKey, unknown>()
        for (const t of ast.transformation.propertySignatureTransformations) {
          const decoded = t.decode(Option.none())
          const from = ast.from.propertySignatures.find((ps) => ps.name === t.from)
          if (Option.isNone(decoded) || from === undefined) continue
          const encoded = encodedJson(from.type, decoded.value)
          if (Option.isSome(encoded)) defaults.set(t.from, encoded.value)
        }
        return object(ast.from, suspended, defaults)
      }
      return node(ast.from, suspended)
    }
    case "Suspend":
      // A recursive Schema cannot be inlined: below its first level, any value.
      return suspended.has(ast) ? {} : node(ast.f(), new Set([...suspended, ast]))
    default:
      // Declarations without a jsonSchema annotation, unknown, any, bigint and symbols: nothing a form can check.
      return {}
  }
}

const object = (
  ast: SchemaAST.TypeLiteral,
  suspended: ReadonlySet<SchemaAST.AST>,
  defaults: ReadonlyMap<PropertyKey, unknown>
): JsonSchema => {
  const properties: Record<string, JsonSchema> = {}
  const required: Array<string> = []
  for (const ps of ast.propertySignatures) {
    if (!Predicate.isString(ps.name)) continue
    const type = withoutUndefined(ps.type)
    const stated =
      Option.getOrUndefined(SchemaAST.getDefaultAnnotation(ps)) ??
      Option.getOrUndefined(SchemaAST.getDefaultAnnotation(type))
    const fallback = defaults.has(ps.name)
      ? Option.some(defaults.get(ps.name))
      : stated === undefined
        ? Option.none()
        : encodedJson(ps.type, stated)
    properties[ps.name] = {
      ...node(type, suspended),
      ...ownText(ps),
      ...(Option.isSome(fallback) ? { default: fallback.value } : {})
    }
    if (!ps.isOptional && type === ps.type) required.push(ps.name)
  }
  const index = ast.indexSignatures.find(
    (is) =>
      is.parameter._tag === "StringKeyword" ||
      is.parameter._tag === "Refinement" ||
      is.parameter._tag === "TemplateLiteral"
  )
  const additional = index === undefined ? false : node(withoutUndefined(index.type), suspended)
  const names =
    index !== undefined && index.parameter._tag !== "StringKeyword"
      ? { propertyNames: node(index.parameter, suspended) }
      : {}
  return { type: "object", properties, required, additionalProperties: additional, ...names }
}

/**
 * The JSON Schema (draft-07) of a config Schema, for generating a form:
 * everything inlined (no `$ref`/`$defs`/`allOf` wrappers), refinements as
 * flat keywords (`type: "integer"`, `minimum`, `maximum`, `minLength`,
 * `pattern`), a literal list as one `enum`, `default` from
 * `optionalWith(…, { default })`, and secret fields (`PluginConfig.secret`)
 * marked `writeOnly: true, format: "password"`. It describes the encoded
 * form: what `PUT …/config` takes and `GET …/config` returns.
 */
export const configJsonSchema = <A, I>(schema: Schema.Schema<A, I>): JsonSchema => ({
  $schema: "http://json-schema.org/draft-07/schema#",
  ...node(schema.ast, new Set())
})
