/**
 * API keys: `ssk_…` bearer credentials scoped to a subset of the owner's
 * permissions, with optional expiry. The key is returned once at creation;
 * only its SHA-256 is stored.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, type Schema } from "effect"
import { NotFound, ValidationError } from "../Errors.ts"
import { API_KEY_PREFIX } from "./Auth.ts"
import { ApiKey, type CreateApiKey } from "./IdentityModel.ts"
import * as Tokens from "./internal/Tokens.ts"
import { Users } from "./Users.ts"
import { now } from "../Timestamps.ts"

interface ApiKeyRow {
  readonly id: string
  readonly name: string
  readonly prefix: string
  readonly scopes: ReadonlyArray<string>
  readonly expires_at: Date | null
  readonly last_used_at: Date | null
  readonly created_at: Date
}

const toApiKey = (r: ApiKeyRow) =>
  new ApiKey({ id: r.id, name: r.name, prefix: r.prefix, scopes: r.scopes, expiresAt: r.expires_at, lastUsedAt: r.last_used_at, createdAt: r.created_at })

export class ApiKeys extends Context.Tag("@streamspace/core/ApiKeys")<ApiKeys, {
  readonly create: (userId: string, input: Schema.Schema.Type<typeof CreateApiKey>) => Effect.Effect<{ readonly key: string; readonly apiKey: ApiKey }, ValidationError | SqlError>
  readonly list: (userId: string) => Effect.Effect<ReadonlyArray<ApiKey>, SqlError>
  readonly revoke: (userId: string, id: string) => Effect.Effect<void, NotFound | SqlError>
}>() {}

const grants = (owned: ReadonlyArray<string>, scope: string) =>
  owned.includes("*") || owned.includes(scope) || owned.includes(`${scope.split(":")[0]}:*`)

export const ApiKeysLive = Layer.effect(
  ApiKeys,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const users = yield* Users
    return {
      create: (userId, input) =>
        Effect.gen(function*() {
          const owned = yield* users.permissionsOf(userId)
          const index = input.scopes.findIndex((s) => !grants(owned, s))
          if (index >= 0) return yield* ValidationError.field(`scopes.${index}`, `you do not hold ${input.scopes[index]}, so a key cannot either`)
          const at = yield* now
          if (input.expiresAt && input.expiresAt.getTime() <= at.getTime()) return yield* ValidationError.field("expiresAt", "must be in the future")
          const key = `${API_KEY_PREFIX}${Tokens.randomToken(32)}`
          const id = crypto.randomUUID()
          const rows = yield* sql<ApiKeyRow>`INSERT INTO api_keys ${
            sql.insert({
              id,
              user_id: userId,
              name: input.name,
              prefix: key.slice(0, 10),
              key_hash: Tokens.sha256(key),
              scopes: [...input.scopes],
              expires_at: input.expiresAt ?? null,
              created_at: at
            })
          } RETURNING *`
          return { key, apiKey: toApiKey(rows[0]!) }
        }),
      list: (userId) =>
        Effect.map(
          sql<ApiKeyRow>`SELECT * FROM api_keys WHERE user_id = ${userId} AND revoked_at IS NULL ORDER BY created_at DESC`,
          (rows) => rows.map(toApiKey)
        ),
      revoke: (userId, id) =>
        Effect.gen(function*() {
          const at = yield* now
          const rows = yield* sql<{ id: string }>`UPDATE api_keys SET revoked_at = ${at} WHERE id = ${id} AND user_id = ${userId} AND revoked_at IS NULL RETURNING id`
          if (rows.length === 0) return yield* new NotFound({ resource: "api key", id })
        })
    }
  })
)
