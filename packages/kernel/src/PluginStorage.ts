/**
 * Small JSON key-value state of one plugin. Values are read with a Schema
 * (`get("ticks", Schema.Number)` is an `Option<number>`), so plugins need no
 * casts; a stored value the Schema refuses is a `StorageValueInvalid` naming
 * the key and the field. Without a Schema, `get` and `list` give the stored
 * JSON as `unknown`. (The host stores raw JSON and adds the Schemas:
 * `host/TypedStorage`.)
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Data, type Effect, type Option, type Schema } from "effect"

/** A stored value that does not decode with the Schema it is read with (or a value its Schema cannot encode). */
export class StorageValueInvalid extends Data.TaggedError("StorageValueInvalid")<{
  readonly key: string
  readonly message: string
}> {}

/** The service a plugin gets with `yield* PluginStorage`. */
export interface PluginStorageService {
  readonly get: {
    <A, I>(key: string, schema: Schema.Schema<A, I>): Effect.Effect<Option.Option<A>, SqlError | StorageValueInvalid>
    (key: string): Effect.Effect<Option.Option<unknown>, SqlError>
  }
  /** Stores `value` as JSON; with a Schema, its encoded form (e.g. a `Date` as its ISO string). */
  readonly set: {
    <A, I>(key: string, value: A, schema: Schema.Schema<A, I>): Effect.Effect<void, SqlError | StorageValueInvalid>
    (key: string, value: unknown): Effect.Effect<void, SqlError>
  }
  readonly delete: (key: string) => Effect.Effect<void, SqlError>
  /** Entries whose key starts with `prefix`, by key. */
  readonly list: {
    <A, I>(
      prefix: string,
      schema: Schema.Schema<A, I>
    ): Effect.Effect<ReadonlyArray<PluginStorage.Entry<A>>, SqlError | StorageValueInvalid>
    (prefix: string): Effect.Effect<ReadonlyArray<PluginStorage.Entry<unknown>>, SqlError>
  }
}

export class PluginStorage extends Context.Tag("@streamspace/kernel/PluginStorage")<
  PluginStorage,
  PluginStorageService
>() {}

export declare namespace PluginStorage {
  export interface Entry<A> {
    readonly key: string
    readonly value: A
  }
}
