/**
 * API keys: `ssk_…` bearer credentials scoped to a subset of the owner's
 * permissions (ApiKeyScopes), with optional expiry. The key is returned
 * once at creation; only its SHA-256 is stored.
 */
import { Context, Effect, Layer, type Schema } from "effect"
import { NotFound, ValidationError } from "../Errors.ts"
import { now } from "../Timestamps.ts"
import { API_KEY_PREFIX } from "./Auth.ts"
import { ApiKeyRepo } from "./ApiKeyRepo.ts"
import { firstUngranted, heldBy } from "./ApiKeyScopes.ts"
import type { ApiKey, CreateApiKey } from "./IdentityModel.ts"
import * as Tokens from "./internal/Tokens.ts"
import { Users } from "./Users.ts"

export class ApiKeys extends Context.Tag("@streamspace/core/ApiKeys")<
  ApiKeys,
  {
    readonly create: (
      userId: string,
      input: Schema.Schema.Type<typeof CreateApiKey>
    ) => Effect.Effect<{ readonly key: string; readonly apiKey: ApiKey }, ValidationError>
    readonly list: (userId: string) => Effect.Effect<ReadonlyArray<ApiKey>>
    readonly revoke: (userId: string, id: string) => Effect.Effect<void, NotFound>
  }
>() {}

export const ApiKeysLive = Layer.effect(
  ApiKeys,
  Effect.gen(function* () {
    const repo = yield* ApiKeyRepo
    const users = yield* Users
    return {
      create: (userId, input) =>
        Effect.gen(function* () {
          const owned = heldBy(yield* users.permissionsOf(userId))
          const index = firstUngranted(owned, input.scopes)
          if (index >= 0)
            return yield* ValidationError.field(
              `scopes.${index}`,
              `you do not hold ${input.scopes[index]}, so a key cannot either`
            )
          const at = yield* now
          if (input.expiresAt && input.expiresAt.getTime() <= at.getTime())
            return yield* ValidationError.field("expiresAt", "must be in the future")
          const key = `${API_KEY_PREFIX}${Tokens.randomToken(32)}`
          const apiKey = yield* repo.insert({
            id: crypto.randomUUID(),
            userId,
            name: input.name,
            prefix: key.slice(0, 10),
            keyHash: Tokens.sha256(key),
            scopes: input.scopes,
            expiresAt: input.expiresAt ?? null,
            at
          })
          return { key, apiKey }
        }),
      list: repo.list,
      revoke: (userId, id) =>
        Effect.gen(function* () {
          if (!(yield* repo.revoke(userId, id, yield* now))) return yield* new NotFound({ resource: "api key", id })
        })
    }
  })
)
