/**
 * SQL for users, their roles and effective permissions, as a service so that identity rules can run against a
 * stub in tests. Every write that can change what authentication reads about a user (disabled, roles,
 * deletion) announces it to the PrincipalCache in the same transaction.
 */
import { SqlClient } from "@effect/sql"
import { sqlDefects } from "../Infrastructure.ts"
import { Context, Effect, Layer } from "effect"
import { ByName, keyOf, type PageOf, pageOf } from "../Pagination.ts"
import { User } from "./IdentityModel.ts"
import { PrincipalCache, userChanged } from "./PrincipalCache.ts"
import * as Rows from "../Rows.ts"

export interface UserRow {
  readonly id: string
  readonly username: string
  readonly email: string | null
  readonly display_name: string
  readonly password_hash: string
  readonly disabled: boolean
  readonly totp_secret: string | null
  readonly totp_enabled: boolean
  readonly created_at: Date
  readonly roles: ReadonlyArray<string> | null
}

/** A stored row is trusted: its columns already hold what `User` requires, so nothing is validated again. */
export const toUser = (r: UserRow) =>
  new User(
    {
      id: r.id,
      username: r.username,
      email: r.email,
      displayName: r.display_name,
      roles: r.roles ?? [],
      disabled: r.disabled,
      mfaEnabled: r.totp_enabled,
      createdAt: r.created_at
    },
    Rows.trusted
  )

export interface NewUser {
  readonly id: string
  readonly username: string
  readonly email: string | null
  readonly displayName: string
  readonly passwordHash: string
  readonly roles: ReadonlyArray<string>
  readonly at: Date
}

/** An enabled or disabled account's roles and effective permissions, as authentication needs them. */
export interface Principal {
  readonly username: string
  readonly disabled: boolean
  readonly roles: ReadonlyArray<string> | null
  readonly permissions: ReadonlyArray<string> | null
}

export class UserRepo extends Context.Tag("@streamspace/core/UserRepo")<
  UserRepo,
  {
    /** Returns false when the username is taken. */
    readonly insert: (u: NewUser) => Effect.Effect<boolean>
    readonly findById: (id: string) => Effect.Effect<UserRow | undefined>
    /** Case-insensitive. */
    readonly findByUsername: (username: string) => Effect.Effect<UserRow | undefined>
    readonly list: (q: { search?: string; limit: number; cursor?: string }) => Effect.Effect<PageOf<User>>
    /** Columns by name; nothing to change is no statement. */
    readonly update: (id: string, fields: Record<string, unknown>, at: Date) => Effect.Effect<void>
    readonly setRoles: (id: string, roles: ReadonlyArray<string>) => Effect.Effect<void>
    /** Returns false when there was no such user. */
    readonly delete: (id: string) => Effect.Effect<boolean>
    readonly permissionsOf: (id: string) => Effect.Effect<ReadonlyArray<string>>
    /** Roles and permissions of a user in one round trip, read now (authentication reads it through PrincipalCache). */
    readonly principal: (id: string) => Effect.Effect<Principal | undefined>
    /** Enabled accounts holding the admin role. */
    readonly countAdmins: Effect.Effect<number>
    /** Ends every login of the user: each refresh-token family is revoked (access tokens run out on their own). */
    readonly revokeRefreshTokens: (id: string, at: Date) => Effect.Effect<void>
  }
>() {}

export const UserRepoLive = Layer.effect(
  UserRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const cache = yield* PrincipalCache
    const select = sql`SELECT u.*, COALESCE((SELECT array_agg(role ORDER BY role) FROM user_roles r WHERE r.user_id = u.id), '{}') AS roles FROM users u`
    const one = (rows: ReadonlyArray<UserRow>) => rows[0]
    return sqlDefects<UserRepo["Type"]>({
      insert: (u) =>
        Effect.gen(function* () {
          const inserted = yield* sql<{ id: string }>`INSERT INTO users ${sql.insert({
            id: u.id,
            username: u.username,
            email: u.email,
            display_name: u.displayName,
            password_hash: u.passwordHash,
            created_at: u.at,
            updated_at: u.at
          })} ON CONFLICT DO NOTHING RETURNING id`
          if (inserted.length === 0) return false
          yield* sql`INSERT INTO user_roles ${sql.insert(u.roles.map((role) => ({ user_id: u.id, role })))}`
          return true
        }),
      findById: (id) => Effect.map(sql<UserRow>`${select} WHERE u.id = ${id}`, one),
      findByUsername: (username) =>
        Effect.map(sql<UserRow>`${select} WHERE lower(u.username) = lower(${username})`, one),
      list: (q) => {
        const cursor = keyOf(ByName, q.cursor)
        const conditions = [
          q.search
            ? sql`(u.username ILIKE ${`%${q.search}%`} OR u.display_name ILIKE ${`%${q.search}%`} OR u.email ILIKE ${`%${q.search}%`})`
            : undefined,
          cursor ? sql`lower(u.username) > ${String(cursor[0])}` : undefined
        ].filter((c) => c !== undefined)
        return sql<UserRow>`${select} ${conditions.length ? sql`WHERE ${sql.and(conditions)}` : sql``} ORDER BY lower(u.username) LIMIT ${q.limit + 1}`.pipe(
          Effect.map((rows) => pageOf(rows.map(toUser), q.limit, (u) => [u.username.toLowerCase()]))
        )
      },
      update: (id, fields, at) =>
        Object.keys(fields).length === 0
          ? Effect.void
          : Effect.zipRight(
              sql`UPDATE users SET ${sql.update({ ...fields, updated_at: at })} WHERE id = ${id}`,
              cache.changed(userChanged(id))
            ),
      setRoles: (id, roles) =>
        Effect.gen(function* () {
          yield* sql`DELETE FROM user_roles WHERE user_id = ${id}`
          yield* sql`INSERT INTO user_roles ${sql.insert(roles.map((role) => ({ user_id: id, role })))}`
          yield* cache.changed(userChanged(id))
        }),
      delete: (id) =>
        Effect.gen(function* () {
          const deleted = yield* sql<{ id: string }>`DELETE FROM users WHERE id = ${id} RETURNING id`
          if (deleted.length === 0) return false
          yield* cache.changed(userChanged(id))
          return true
        }),
      permissionsOf: (id) =>
        Effect.map(
          sql<{
            permission: string
          }>`SELECT DISTINCT rp.permission FROM user_roles ur JOIN role_permissions rp ON rp.role = ur.role WHERE ur.user_id = ${id} ORDER BY 1`,
          (rows) => rows.map((r) => r.permission)
        ),
      principal: (id) =>
        Effect.map(
          sql<Principal>`
            SELECT u.username, u.disabled,
              (SELECT array_agg(role) FROM user_roles WHERE user_id = u.id) AS roles,
              (SELECT array_agg(DISTINCT rp.permission) FROM user_roles ur JOIN role_permissions rp ON rp.role = ur.role WHERE ur.user_id = u.id) AS permissions
            FROM users u WHERE u.id = ${id}`,
          (rows) => rows[0]
        ),
      countAdmins: Effect.map(
        sql<{
          n: string
        }>`SELECT count(*) AS n FROM user_roles ur JOIN users u ON u.id = ur.user_id WHERE ur.role = 'admin' AND NOT u.disabled`,
        (rows) => Number(rows[0]?.n ?? 0)
      ),
      revokeRefreshTokens: (id, at) =>
        sql`UPDATE refresh_tokens SET revoked_at = ${at} WHERE user_id = ${id} AND revoked_at IS NULL`.pipe(
          Effect.asVoid
        )
    })
  })
)
