/** SQL for groups and membership. */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { decodeCursor, pageOf } from "../Pagination.ts"
import { Group } from "./IdentityModel.ts"

interface GroupRow {
  readonly id: string
  readonly name: string
  readonly description: string
  readonly member_count: string
  readonly created_at: Date
}

const toGroup = (r: GroupRow) =>
  new Group({ id: r.id, name: r.name, description: r.description, memberCount: Number(r.member_count), createdAt: r.created_at })

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const select = sql`SELECT g.*, (SELECT count(*) FROM group_members m WHERE m.group_id = g.id) AS member_count FROM groups g`
  return {
    insert: (g: { id: string; name: string; description: string; at: Date }) =>
      Effect.map(
        sql<{ id: string }>`INSERT INTO groups ${sql.insert({ id: g.id, name: g.name, description: g.description, created_at: g.at })} ON CONFLICT DO NOTHING RETURNING id`,
        (rows) => rows.length > 0
      ),
    findById: (id: string) => Effect.map(sql<GroupRow>`${select} WHERE g.id = ${id}`, (rows) => (rows[0] ? toGroup(rows[0]) : undefined)),
    list: (q: { limit: number; cursor?: string }) => {
      const cursor = decodeCursor(q.cursor)
      return sql<GroupRow>`${select} ${cursor ? sql`WHERE lower(g.name) > ${String(cursor[0])}` : sql``} ORDER BY lower(g.name) LIMIT ${q.limit + 1}`.pipe(
        Effect.map((rows) => pageOf(rows.map(toGroup), q.limit, (g) => [g.name.toLowerCase()]))
      )
    },
    update: (id: string, fields: { name?: string; description?: string }) =>
      Effect.map(
        sql<{ id: string }>`UPDATE groups SET ${sql.update(fields)} WHERE id = ${id} RETURNING id`,
        (rows) => rows.length > 0
      ),
    nameTaken: (name: string, exceptId: string) =>
      Effect.map(sql<{ id: string }>`SELECT id FROM groups WHERE lower(name) = lower(${name}) AND id <> ${exceptId}`, (rows) => rows.length > 0),
    delete: (id: string) => Effect.map(sql<{ id: string }>`DELETE FROM groups WHERE id = ${id} RETURNING id`, (rows) => rows.length > 0),
    addMember: (groupId: string, userId: string, at: Date) =>
      Effect.map(
        sql<{ user_id: string }>`INSERT INTO group_members ${sql.insert({ group_id: groupId, user_id: userId, added_at: at })} ON CONFLICT DO NOTHING RETURNING user_id`,
        (rows) => rows.length > 0
      ),
    removeMember: (groupId: string, userId: string) =>
      Effect.map(sql<{ user_id: string }>`DELETE FROM group_members WHERE group_id = ${groupId} AND user_id = ${userId} RETURNING user_id`, (rows) => rows.length > 0),
    members: (groupId: string) =>
      sql<{ id: string; username: string; display_name: string; added_at: Date }>`
        SELECT u.id, u.username, u.display_name, m.added_at FROM group_members m JOIN users u ON u.id = m.user_id
        WHERE m.group_id = ${groupId} ORDER BY lower(u.username)`,
    groupsOf: (userId: string) =>
      sql<{ id: string; name: string }>`SELECT g.id, g.name FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ${userId} ORDER BY lower(g.name)`
  }
})
