/**
 * A plugin's `PluginStorage` over the host's raw JSON store (`HostStorage`,
 * the plugin's `_streamspace_kv` table): reading and writing with a Schema,
 * a refused value becoming a `StorageValueInvalid` naming the key and the
 * field.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option, ParseResult, Schema } from "effect"
import { type PluginStorage, type PluginStorageService, StorageValueInvalid } from "../PluginStorage.ts"

/** What the host provides: the plugin's `kv` table as raw JSON. */
export interface HostStorage {
  readonly get: (key: string) => Effect.Effect<Option.Option<unknown>, SqlError>
  readonly set: (key: string, value: unknown) => Effect.Effect<void, SqlError>
  readonly delete: (key: string) => Effect.Effect<void, SqlError>
  readonly list: (prefix: string) => Effect.Effect<ReadonlyArray<PluginStorage.Entry<unknown>>, SqlError>
}

const problem = (key: string, verb: string, error: ParseResult.ParseError) =>
  new StorageValueInvalid({
    key,
    message: `storage key ${JSON.stringify(key)}: ${verb}: ${ParseResult.ArrayFormatter.formatErrorSync(error)
      .map((i) => `${["value", ...i.path.map(String)].join(".")}: ${i.message}`)
      .join("; ")}`
  })

/** Decodes a stored value (none when the key is absent) with `schema`; the error names the key and the field. */
export const decodeValue = <A, I>(
  key: string,
  schema: Schema.Schema<A, I>,
  stored: Option.Option<unknown>
): Effect.Effect<Option.Option<A>, StorageValueInvalid> =>
  Option.match(stored, {
    onNone: () => Effect.succeed(Option.none()),
    onSome: (raw) =>
      Schema.decodeUnknown(schema, { errors: "all" })(raw).pipe(
        Effect.mapBoth({
          onFailure: (e) => problem(key, "the stored value does not match its Schema", e),
          onSuccess: Option.some
        })
      )
  })

/** Encodes a value for storage with `schema`. */
export const encodeValue = <A, I>(
  key: string,
  schema: Schema.Schema<A, I>,
  value: A
): Effect.Effect<I, StorageValueInvalid> =>
  Schema.encode(schema, { errors: "all" })(value).pipe(
    Effect.mapError((e) => problem(key, "the value does not match its Schema", e))
  )

/** The service a plugin sees, from the host's raw JSON store (`TypedStorage.make({ get, set, delete, list })`). */
export const make = (host: HostStorage): PluginStorageService => {
  function get<A, I>(
    key: string,
    schema: Schema.Schema<A, I>
  ): Effect.Effect<Option.Option<A>, SqlError | StorageValueInvalid>
  function get(key: string): Effect.Effect<Option.Option<unknown>, SqlError>
  function get<A, I>(key: string, schema?: Schema.Schema<A, I>) {
    return schema === undefined
      ? host.get(key)
      : Effect.flatMap(host.get(key), (stored) => decodeValue(key, schema, stored))
  }
  function set<A, I>(
    key: string,
    value: A,
    schema: Schema.Schema<A, I>
  ): Effect.Effect<void, SqlError | StorageValueInvalid>
  function set(key: string, value: unknown): Effect.Effect<void, SqlError>
  function set<A, I>(key: string, value: A, schema?: Schema.Schema<A, I>) {
    return schema === undefined
      ? host.set(key, value)
      : Effect.flatMap(encodeValue(key, schema, value), (encoded) => host.set(key, encoded))
  }
  function list<A, I>(
    prefix: string,
    schema: Schema.Schema<A, I>
  ): Effect.Effect<ReadonlyArray<PluginStorage.Entry<A>>, SqlError | StorageValueInvalid>
  function list(prefix: string): Effect.Effect<ReadonlyArray<PluginStorage.Entry<unknown>>, SqlError>
  function list<A, I>(prefix: string, schema?: Schema.Schema<A, I>) {
    return schema === undefined
      ? host.list(prefix)
      : Effect.flatMap(host.list(prefix), (entries) =>
          Effect.forEach(entries, (entry) =>
            Schema.decodeUnknown(schema, { errors: "all" })(entry.value).pipe(
              Effect.mapBoth({
                onFailure: (e) => problem(entry.key, "the stored value does not match its Schema", e),
                onSuccess: (value) => ({ key: entry.key, value })
              })
            )
          )
        )
  }
  return { get, set, delete: host.delete, list }
}
