/**
 * The `plugins` table: one row per installed plugin with its version, state,
 * plain config, sealed secrets and sealed database-role password. The host's
 * lifecycle reads and writes plugins only through here.
 */
import { SqlClient } from "@effect/sql"
import { Timestamps } from "@streamspace/core"
import { Effect, Option } from "effect"

const { now } = Timestamps

export type StoredStatus = "installed" | "enabled" | "disabled" | "failed"

export interface PluginRow {
  readonly id: string
  readonly version: string
  readonly enabled: boolean
  readonly status: StoredStatus
  readonly last_error: string | null
  readonly config: Record<string, unknown>
  readonly secrets: string | null
  readonly role_password: string
}

export interface NewPlugin {
  readonly id: string
  readonly version: string
  readonly config: string
  readonly secrets: string | null
  readonly rolePassword: string
}

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return {
    find: (id: string) =>
      Effect.map(sql<PluginRow>`SELECT * FROM plugins WHERE id = ${id}`, (rows) => Option.fromNullable(rows[0])),
    all: sql<PluginRow>`SELECT * FROM plugins`,
    insert: (p: NewPlugin) =>
      Effect.flatMap(
        now,
        (at) =>
          sql`INSERT INTO plugins ${sql.insert({
            id: p.id,
            version: p.version,
            enabled: false,
            status: "installed",
            config: p.config,
            secrets: p.secrets,
            role_password: p.rolePassword,
            installed_at: at,
            updated_at: at
          })}`
      ),
    /** Writes only when something changed, so a boot does not rewrite every row; answers whether it did. */
    setStatus: (id: string, status: StoredStatus, enabled: boolean, error: string | null) =>
      Effect.flatMap(now, (at) =>
        Effect.map(
          sql<{
            id: string
          }>`UPDATE plugins SET status = ${status}, enabled = ${enabled}, last_error = ${error}, updated_at = ${at}
          WHERE id = ${id} AND (status, enabled, last_error) IS DISTINCT FROM (${status}, ${enabled}, ${error}::text)
          RETURNING id`,
          (rows) => rows.length > 0
        )
      ),
    setConfig: (id: string, stored: { readonly config: string; readonly secrets: string | null }) =>
      Effect.flatMap(
        now,
        (at) =>
          sql`UPDATE plugins SET config = ${stored.config}, secrets = ${stored.secrets}, updated_at = ${at} WHERE id = ${id}`
      ),
    setVersion: (id: string, version: string) =>
      Effect.flatMap(now, (at) => sql`UPDATE plugins SET version = ${version}, updated_at = ${at} WHERE id = ${id}`),
    remove: (id: string) => sql`DELETE FROM plugins WHERE id = ${id}`,
    /** Keeps an uninstalled plugin's config and sealed secrets for its next install (`keepData`). */
    keepConfig: (row: PluginRow) =>
      Effect.flatMap(
        now,
        (at) =>
          sql`INSERT INTO plugin_kept_config ${sql.insert({ id: row.id, version: row.version, config: JSON.stringify(row.config), secrets: row.secrets, kept_at: at })}
          ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, config = EXCLUDED.config, secrets = EXCLUDED.secrets, kept_at = EXCLUDED.kept_at`
      ),
    /** Takes the kept config of a plugin being installed again, if any. */
    takeKeptConfig: (id: string) =>
      Effect.map(
        sql<{
          config: Record<string, unknown>
          secrets: string | null
        }>`DELETE FROM plugin_kept_config WHERE id = ${id} RETURNING config, secrets`,
        (rows) => Option.fromNullable(rows[0])
      ),
    forgetKeptConfig: (id: string) => sql`DELETE FROM plugin_kept_config WHERE id = ${id}`
  }
})

export type PluginRepo = Effect.Effect.Success<typeof make>
