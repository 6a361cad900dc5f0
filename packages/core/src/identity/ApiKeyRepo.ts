/**
 * SQL for API keys (only their SHA-256 is stored), as a service so that ApiKeys' rules can run against a stub
 * in tests. Revoking a key announces it to the PrincipalCache in the same transaction.
 */
import { SqlClient } from "@effect/sql"
import { sqlDefects } from "../Infrastructure.ts"
import { Context, Effect, Layer } from "effect"
import { ApiKey } from "./IdentityModel.ts"
import { apiKeyChanged, PrincipalCache } from "./PrincipalCache.ts"
import * as Rows from "../Rows.ts"

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
  new ApiKey(
    {
      id: r.id,
      name: r.name,
      prefix: r.prefix,
      scopes: r.scopes,
      expiresAt: r.expires_at,
      lastUsedAt: r.last_used_at,
      createdAt: r.created_at
    },
    Rows.trusted
  )

export interface NewApiKey {
  readonly id: string
  readonly userId: string
  readonly name: string
  readonly prefix: string
  readonly keyHash: string
  readonly scopes: ReadonlyArray<string>
  readonly expiresAt: Date | null
  readonly at: Date
}

/** A key as authentication sees it. */
export interface UsedApiKey {
  readonly id: string
  readonly user_id: string
  readonly scopes: ReadonlyArray<string>
  readonly expires_at: Date | null
  readonly revoked_at: Date | null
  readonly last_used_at: Date | null
}

/** `lastUsedAt` is kept to this precision: a key used many times a minute is written once a minute. */
export const lastUsedPrecisionMs = 60_000

export class ApiKeyRepo extends Context.Tag("@streamspace/core/ApiKeyRepo")<
  ApiKeyRepo,
  {
    readonly insert: (key: NewApiKey) => Effect.Effect<ApiKey>
    /** The user's keys that are not revoked, newest first. */
    readonly list: (userId: string) => Effect.Effect<ReadonlyArray<ApiKey>>
    /** Returns false when the user has no such key that is not revoked already. */
    readonly revoke: (userId: string, id: string, at: Date) => Effect.Effect<boolean>
    /** The key with this hash, if it exists (revoked or expired ones too); reads only. */
    readonly find: (keyHash: string) => Effect.Effect<UsedApiKey | undefined>
    /** Records a successful use (at most one write per `lastUsedPrecisionMs`). */
    readonly touch: (id: string, at: Date) => Effect.Effect<void>
  }
>() {}

export const ApiKeyRepoLive = Layer.effect(
  ApiKeyRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const cache = yield* PrincipalCache
    return sqlDefects<ApiKeyRepo["Type"]>({
      insert: (key) =>
        Effect.map(
          sql<ApiKeyRow>`INSERT INTO api_keys ${sql.insert({
            id: key.id,
            user_id: key.userId,
            name: key.name,
            prefix: key.prefix,
            key_hash: key.keyHash,
            scopes: [...key.scopes],
            expires_at: key.expiresAt,
            created_at: key.at
          })} RETURNING *`,
          (rows) => toApiKey(rows[0]!)
        ),
      list: (userId) =>
        Effect.map(
          sql<ApiKeyRow>`SELECT * FROM api_keys WHERE user_id = ${userId} AND revoked_at IS NULL ORDER BY created_at DESC`,
          (rows) => rows.map(toApiKey)
        ),
      revoke: (userId, id, at) =>
        Effect.gen(function* () {
          const revoked = yield* sql<{ id: string }>`
            UPDATE api_keys SET revoked_at = ${at} WHERE id = ${id} AND user_id = ${userId} AND revoked_at IS NULL RETURNING id`
          if (revoked.length === 0) return false
          yield* cache.changed(apiKeyChanged(id))
          return true
        }),
      find: (keyHash) =>
        Effect.map(
          sql<UsedApiKey>`
            SELECT id, user_id, scopes, expires_at, revoked_at, last_used_at FROM api_keys WHERE key_hash = ${keyHash}`,
          (rows) => rows[0]
        ),
      touch: (id, at) =>
        sql`
          UPDATE api_keys SET last_used_at = ${at}
          WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at <= ${new Date(at.getTime() - lastUsedPrecisionMs)})`.pipe(
          Effect.asVoid
        )
    })
  })
)
