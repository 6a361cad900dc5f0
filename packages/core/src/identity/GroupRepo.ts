/** SQL for groups and membership, as a service so that Groups' rules can run against a stub in tests. */
import { SqlClient } from "@effect/sql"
import { sqlDefects } from "../Infrastructure.ts"
import { Context, Effect, Layer } from "effect"
import { ByName, keyOf, type PageOf, pageOf } from "../Pagination.ts"
import { Group } from "./IdentityModel.ts"
import * as Rows from "../Rows.ts"

interface GroupRow {
  readonly id: string
  readonly name: string
  readonly description: string
  readonly member_count: string
  readonly created_at: Date
}

const toGroup = (r: GroupRow) =>
  new Group(
    {
      id: r.id,
      name: r.name,
      description: r.description,
      memberCount: Number(r.member_count),
      createdAt: r.created_at
    },
    Rows.trusted
  )

export interface GroupMemberRow {
  readonly id: string
  readonly username: string
  readonly display_name: string
  readonly added_at: Date
}

export class GroupRepo extends Context.Tag("@streamspace/core/GroupRepo")<
  GroupRepo,
  {
    /** Returns false when the name is taken. */
    readonly insert: (g: { id: string; name: string; description: string; at: Date }) => Effect.Effect<boolean>
    readonly findById: (id: string) => Effect.Effect<Group | undefined>
    readonly list: (q: { limit: number; cursor?: string }) => Effect.Effect<PageOf<Group>>
    /** Returns false when there was no such group. */
    readonly update: (id: string, fields: { name?: string; description?: string }) => Effect.Effect<boolean>
    /** Whether another group has this name (case-insensitive). */
    readonly nameTaken: (name: string, exceptId: string) => Effect.Effect<boolean>
    readonly delete: (id: string) => Effect.Effect<boolean>
    /** Returns false when the user was a member already. */
    readonly addMember: (groupId: string, userId: string, at: Date) => Effect.Effect<boolean>
    readonly removeMember: (groupId: string, userId: string) => Effect.Effect<boolean>
    readonly members: (groupId: string) => Effect.Effect<ReadonlyArray<GroupMemberRow>>
    readonly groupsOf: (userId: string) => Effect.Effect<ReadonlyArray<{ readonly id: string; readonly name: string }>>
  }
>() {}

export const GroupRepoLive = Layer.effect(
  GroupRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const select = sql`SELECT g.*, (SELECT count(*) FROM group_members m WHERE m.group_id = g.id) AS member_count FROM groups g`
    return sqlDefects<GroupRepo["Type"]>({
      insert: (g) =>
        Effect.map(
          sql<{
            id: string
          }>`INSERT INTO groups ${sql.insert({ id: g.id, name: g.name, description: g.description, created_at: g.at })} ON CONFLICT DO NOTHING RETURNING id`,
          (rows) => rows.length > 0
        ),
      findById: (id) =>
        Effect.map(sql<GroupRow>`${select} WHERE g.id = ${id}`, (rows) => (rows[0] ? toGroup(rows[0]) : undefined)),
      list: (q) => {
        const cursor = keyOf(ByName, q.cursor)
        return sql<GroupRow>`${select} ${cursor ? sql`WHERE lower(g.name) > ${String(cursor[0])}` : sql``} ORDER BY lower(g.name) LIMIT ${q.limit + 1}`.pipe(
          Effect.map((rows) => pageOf(rows.map(toGroup), q.limit, (g) => [g.name.toLowerCase()]))
        )
      },
      update: (id, fields) =>
        Effect.map(
          sql<{ id: string }>`UPDATE groups SET ${sql.update(fields)} WHERE id = ${id} RETURNING id`,
          (rows) => rows.length > 0
        ),
      nameTaken: (name, exceptId) =>
        Effect.map(
          sql<{ id: string }>`SELECT id FROM groups WHERE lower(name) = lower(${name}) AND id <> ${exceptId}`,
          (rows) => rows.length > 0
        ),
      delete: (id) =>
        Effect.map(sql<{ id: string }>`DELETE FROM groups WHERE id = ${id} RETURNING id`, (rows) => rows.length > 0),
      addMember: (groupId, userId, at) =>
        Effect.map(
          sql<{
            user_id: string
          }>`INSERT INTO group_members ${sql.insert({ group_id: groupId, user_id: userId, added_at: at })} ON CONFLICT DO NOTHING RETURNING user_id`,
          (rows) => rows.length > 0
        ),
      removeMember: (groupId, userId) =>
        Effect.map(
          sql<{
            user_id: string
          }>`DELETE FROM group_members WHERE group_id = ${groupId} AND user_id = ${userId} RETURNING user_id`,
          (rows) => rows.length > 0
        ),
      members: (groupId) =>
        sql<GroupMemberRow>`
          SELECT u.id, u.username, u.display_name, m.added_at FROM group_members m JOIN users u ON u.id = m.user_id
          WHERE m.group_id = ${groupId} ORDER BY lower(u.username)`,
      groupsOf: (userId) =>
        sql<{
          id: string
          name: string
        }>`SELECT g.id, g.name FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ${userId} ORDER BY lower(g.name)`
    })
  })
)
