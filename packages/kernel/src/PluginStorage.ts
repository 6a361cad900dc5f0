/** Small JSON key-value state of one plugin. */
import type { SqlError } from "@effect/sql/SqlError"
import { Context, type Effect, type Option } from "effect"

export class PluginStorage extends Context.Tag("@streamspace/kernel/PluginStorage")<PluginStorage, {
  readonly get: (key: string) => Effect.Effect<Option.Option<unknown>, SqlError>
  readonly set: (key: string, value: unknown) => Effect.Effect<void, SqlError>
  readonly delete: (key: string) => Effect.Effect<void, SqlError>
  readonly list: (prefix: string) => Effect.Effect<ReadonlyArray<{ readonly key: string; readonly value: unknown }>, SqlError>
}>() {}
