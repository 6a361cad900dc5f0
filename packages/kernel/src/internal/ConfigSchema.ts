/**
 * Config Schemas of plugins (and of the integrations they serve): which
 * top-level fields are secret, and decoding that reports each bad field
 * without ever echoing a secret value.
 */
import type { FieldError } from "@streamspace/core"
import { Effect, ParseResult, Schema, type SchemaAST } from "effect"
import { SecretField } from "../PluginContext.ts"

/** Top-level config keys whose Schema is annotated with `PluginContext.secret`. */
export const secretKeys = (schema: Schema.Schema<unknown, unknown> | undefined): ReadonlyArray<string> => {
  if (!schema) return []
  let ast = schema.ast
  while (ast._tag === "Transformation" || ast._tag === "Refinement") ast = ast._tag === "Transformation" ? ast.to : ast.from
  if (ast._tag !== "TypeLiteral") return []
  const isSecret = (a: SchemaAST.AST): boolean =>
    a.annotations[SecretField] === true || (a._tag === "Union" && a.types.some(isSecret)) || (a._tag === "Refinement" && isSecret(a.from)) ||
    (a._tag === "Transformation" && (isSecret(a.from) || isSecret(a.to)))
  return ast.propertySignatures.filter((p) => isSecret(p.type)).map((p) => String(p.name))
}

/**
 * Decodes `input` strictly (unknown keys are errors) and returns it encoded
 * again, with defaults filled in; failures are field errors with paths
 * relative to the config.
 */
export const normalize = (schema: Schema.Schema<unknown, unknown>, input: unknown): Effect.Effect<Record<string, unknown>, ReadonlyArray<FieldError>> =>
  Schema.decodeUnknown(schema, { errors: "all", onExcessProperty: "error" })(input).pipe(
    Effect.map((value) => Schema.encodeSync(schema)(value) as Record<string, unknown>),
    Effect.mapError((e) => {
      const secrets = secretKeys(schema)
      const issues = ParseResult.ArrayFormatter.formatErrorSync(e)
      return issues
        // Optional fields add an "Expected undefined" beside the real problem.
        .filter((i) => !(i.message.startsWith("Expected undefined") && issues.some((o) => o !== i && o.path.join(".").startsWith(i.path.join(".")))))
        .map((i) => ({
          path: i.path.map(String).join("."),
          // Never echo a secret back, not even a rejected one.
          message: secrets.includes(String(i.path[0])) ? i.message.replace(/, actual [\s\S]*$/, ", actual <redacted>") : i.message
        }))
    })
  )
