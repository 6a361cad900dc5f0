/**
 * Instance-wide values kept in the `settings` table, such as secrets
 * generated on first boot. `getOrCreate` is safe when several API replicas
 * boot at once: the first insert wins and everyone reads that value.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer } from "effect"

export class Settings extends Context.Tag("@streamspace/core/Settings")<
  Settings,
  {
    readonly get: (key: string) => Effect.Effect<unknown, SqlError>
    readonly set: (key: string, value: unknown) => Effect.Effect<void, SqlError>
    readonly getOrCreate: <A>(key: string, make: () => A) => Effect.Effect<A, SqlError>
  }
>() {}

export const SettingsLive = Layer.effect(
  Settings,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const get = (key: string) =>
      Effect.map(sql<{ value: unknown }>`SELECT value FROM settings WHERE key = ${key}`, (rows) => rows[0]?.value)
    return {
      get,
      set: (key, value) =>
        sql`INSERT INTO settings (key, value) VALUES (${key}, ${JSON.stringify(value)})
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`.pipe(Effect.asVoid),
      getOrCreate: <A>(key: string, make: () => A) =>
        Effect.gen(function* () {
          yield* sql`INSERT INTO settings (key, value) VALUES (${key}, ${JSON.stringify(make())}) ON CONFLICT (key) DO NOTHING`
          return (yield* get(key)) as A
        })
    }
  })
)
