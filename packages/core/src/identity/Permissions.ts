/**
 * Permission strings are data: the core seeds its own (migration 0003) and
 * plugins register theirs on install and remove them on uninstall.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer } from "effect"
import { allChanged, PrincipalCache } from "./PrincipalCache.ts"

export interface PermissionDeclaration {
  readonly name: string
  readonly description: string
  /** Roles granted this permission on registration (admin has `*` anyway). */
  readonly roles?: ReadonlyArray<string>
}

export interface PermissionInfo {
  readonly name: string
  readonly description: string
  readonly owner: string
}

export class Permissions extends Context.Tag("@streamspace/core/Permissions")<
  Permissions,
  {
    readonly register: (
      owner: string,
      permissions: ReadonlyArray<PermissionDeclaration>
    ) => Effect.Effect<void, SqlError>
    readonly unregister: (owner: string) => Effect.Effect<void, SqlError>
    readonly list: Effect.Effect<ReadonlyArray<PermissionInfo>, SqlError>
  }
>() {}

export const PermissionsLive = Layer.effect(
  Permissions,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const cache = yield* PrincipalCache
    return {
      register: (owner, permissions) =>
        Effect.forEach(
          permissions,
          (p) =>
            Effect.gen(function* () {
              yield* sql`INSERT INTO permissions ${sql.insert({ name: p.name, description: p.description, owner })}
              ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, owner = EXCLUDED.owner`
              for (const role of p.roles ?? []) {
                yield* sql`INSERT INTO role_permissions ${sql.insert({ role, permission: p.name, owner })} ON CONFLICT DO NOTHING`
              }
            }),
          { discard: true }
        ).pipe(Effect.zipRight(cache.changed(allChanged))),
      unregister: (owner) =>
        Effect.gen(function* () {
          yield* sql`DELETE FROM role_permissions WHERE owner = ${owner}`
          yield* sql`DELETE FROM permissions WHERE owner = ${owner}`
          yield* cache.changed(allChanged)
        }),
      list: sql<PermissionInfo>`SELECT name, description, owner FROM permissions ORDER BY name`
    }
  })
)
