/**
 * What the host provides to one plugin: its identity, validated config and an
 * annotated logger, next to the plugin-scoped services.
 */
import { SecretFields } from "@streamspace/core"
import { Context, Effect, Schema } from "effect"

export class PluginInfo extends Context.Tag("@streamspace/kernel/PluginInfo")<
  PluginInfo,
  {
    readonly id: string
    readonly version: string
  }
>() {}

/** Annotation for config fields that hold secrets: sealed at rest, masked as "********" on read, write-only (the core's, at any depth). */
export const SecretField = SecretFields.SecretField

/**
 * The plugin's config as validated by the host (encoded form with defaults
 * applied). Read it with your Schema: `yield* PluginConfig.get(HelloConfig)`.
 */
export class PluginConfig extends Context.Tag("@streamspace/kernel/PluginConfig")<PluginConfig, unknown>() {
  /** The config decoded with the plugin's own Schema (the host already validated it). */
  static readonly get = <A, I>(schema: Schema.Schema<A, I>): Effect.Effect<A, never, PluginConfig> =>
    Effect.flatMap(PluginConfig, (raw) => Schema.decodeUnknown(schema)(raw).pipe(Effect.orDie))

  /** Marks a config field as secret: `token: PluginConfig.secret(Schema.String)`. */
  static readonly secret = <A, I>(schema: Schema.Schema<A, I>): Schema.Schema<A, I> =>
    schema.annotations({ [SecretField]: true })
}
