/**
 * A plugin's configuration as stored: validated by the plugin's Schema,
 * split into plain fields (`plugins.config`) and secret fields sealed with
 * the SecretBox (`plugins.secrets`); read back masked for admins, whole for
 * the plugin. Secrets left out of an update, or sent back masked, are kept.
 */
import { type SecretBox, ValidationError } from "@streamspace/core"
import { Effect, Schema } from "effect"
import { configJsonSchema, normalize, secretKeys } from "./ConfigSchema.ts"
import type { PluginDefinition } from "../Plugin.ts"
import type { PluginRow } from "./PluginRepo.ts"

export interface StoredConfig {
  readonly config: string
  readonly secrets: string | null
}

export const make = (box: SecretBox.SecretBox["Type"], mask: string) => {
  /** The config with every default applied, encoded. */
  const defaults = (def: PluginDefinition): Record<string, unknown> =>
    def.config
      ? (Schema.encodeSync(def.config)(Schema.decodeUnknownSync(def.config)({})) as Record<string, unknown>)
      : {}

  /** The whole config, secrets opened: what the plugin itself receives. */
  const open = (row: Pick<PluginRow, "config" | "secrets">): Record<string, unknown> => ({
    ...row.config,
    ...(row.secrets ? (JSON.parse(box.open(row.secrets)) as Record<string, unknown>) : {})
  })

  /** Splits an encoded config into the plain part and the sealed secrets. */
  const seal = (def: PluginDefinition, encoded: Record<string, unknown>): StoredConfig => {
    const keys = secretKeys(def.config)
    const plain = Object.fromEntries(Object.entries(encoded).filter(([k]) => !keys.includes(k)))
    const secrets = Object.fromEntries(
      Object.entries(encoded).filter(([k]) => keys.includes(k) && encoded[k] !== undefined)
    )
    return {
      config: JSON.stringify(plain),
      secrets: Object.keys(secrets).length > 0 ? box.seal(JSON.stringify(secrets)) : null
    }
  }

  /** Validates `input` against the plugin's Schema, keeping stored secrets the input leaves out or masks. */
  const update = (
    def: PluginDefinition,
    row: PluginRow,
    input: unknown
  ): Effect.Effect<StoredConfig, ValidationError> => {
    const previous = open(row)
    const given =
      typeof input === "object" && input !== null && !Array.isArray(input)
        ? (input as Record<string, unknown>)
        : undefined
    const kept = secretKeys(def.config).filter(
      (k) => previous[k] !== undefined && (given?.[k] === undefined || given[k] === mask)
    )
    const merged = given ? { ...given, ...Object.fromEntries(kept.map((k) => [k, previous[k]])) } : input
    if (!def.config) return Effect.succeed(seal(def, {}))
    return normalize(def.config, merged).pipe(
      Effect.mapError((issues) => {
        const errors = issues.map((i) => ({ path: i.path ? `body.${i.path}` : "body", message: i.message }))
        return new ValidationError({ message: errors.map((x) => `${x.path}: ${x.message}`).join("; "), errors })
      }),
      Effect.map((encoded) => seal(def, encoded))
    )
  }

  /** What admins read: plain fields, secrets that are set shown as the mask, and the JSON Schema for a form. */
  const view = (def: PluginDefinition, row: PluginRow) => {
    const whole = open(row)
    const masked = Object.fromEntries(
      secretKeys(def.config)
        .filter((k) => whole[k] !== undefined)
        .map((k) => [k, mask])
    )
    return { value: { ...row.config, ...masked }, schema: def.config ? configJsonSchema(def.config) : {} }
  }

  return { defaults, open, seal, update, view }
}

export type PluginConfigStore = ReturnType<typeof make>
