/**
 * A read-only view of people and apps for plugins: who a user is (name,
 * email, roles, groups), who holds a role or belongs to a group, and what a
 * template is called. Notification plugins filter and address messages with
 * it; it never exposes credentials.
 */
import { SqlClient, type Statement } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option } from "effect"

export interface DirectoryUser {
  readonly id: string
  readonly username: string
  readonly displayName: string
  readonly email: string | null
  readonly roles: ReadonlyArray<string>
  readonly groups: ReadonlyArray<string>
}

export interface DirectoryTemplate {
  readonly id: string
  readonly name: string
  readonly displayName: string
}

export interface UserQuery {
  readonly ids?: ReadonlyArray<string>
  readonly roles?: ReadonlyArray<string>
  /** Group names (case-insensitive). */
  readonly groups?: ReadonlyArray<string>
}

export class Directory extends Context.Tag("@streamspace/core/Directory")<
  Directory,
  {
    readonly user: (id: string) => Effect.Effect<Option.Option<DirectoryUser>, SqlError>
    /** Enabled users matching any of the ids, roles or groups given. */
    readonly users: (query: UserQuery) => Effect.Effect<ReadonlyArray<DirectoryUser>, SqlError>
    readonly template: (id: string) => Effect.Effect<Option.Option<DirectoryTemplate>, SqlError>
  }
>() {}

interface UserRow {
  readonly id: string
  readonly username: string
  readonly display_name: string
  readonly email: string | null
  readonly roles: ReadonlyArray<string> | null
  readonly groups: ReadonlyArray<string> | null
}

const toUser = (r: UserRow): DirectoryUser => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  email: r.email,
  roles: r.roles ?? [],
  groups: r.groups ?? []
})

export const DirectoryLive = Layer.effect(
  Directory,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const select = (where: Statement.Fragment) =>
      Effect.map(
        sql<UserRow>`
          SELECT u.id, u.username, u.display_name, u.email,
            ARRAY(SELECT ur.role FROM user_roles ur WHERE ur.user_id = u.id ORDER BY ur.role) AS roles,
            ARRAY(SELECT g.name FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE gm.user_id = u.id ORDER BY g.name) AS groups
          FROM users u WHERE ${where} ORDER BY u.username`,
        (rows) => rows.map(toUser)
      )
    return {
      user: (id) => Effect.map(select(sql`u.id = ${id}`), (users) => Option.fromNullable(users[0])),
      users: ({ ids = [], roles = [], groups = [] }) =>
        ids.length + roles.length + groups.length === 0
          ? Effect.succeed([])
          : select(sql`NOT u.disabled AND (
              u.id = ANY(${[...ids]})
              OR EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role = ANY(${[...roles]}))
              OR EXISTS (SELECT 1 FROM group_members gm JOIN groups g ON g.id = gm.group_id
                         WHERE gm.user_id = u.id AND lower(g.name) = ANY(${groups.map((g) => g.toLowerCase())})))`),
      template: (id) =>
        Effect.map(
          sql<{
            id: string
            name: string
            display_name: string
          }>`SELECT id, name, display_name FROM templates WHERE id = ${id}`,
          (rows) =>
            Option.map(Option.fromNullable(rows[0]), (r) => ({ id: r.id, name: r.name, displayName: r.display_name }))
        )
    }
  })
)
