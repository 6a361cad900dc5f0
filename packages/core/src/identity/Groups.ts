/** Groups of users (for quotas, notification recipients and sharing). */
import { Context, Effect, Layer, type Schema } from "effect"
import { Conflict, NotFound } from "../Errors.ts"
import type { PageOf } from "../Pagination.ts"
import { GroupRepo } from "./GroupRepo.ts"
import type { CreateGroup, Group, UpdateGroup } from "./IdentityModel.ts"
import { Users } from "./Users.ts"
import { now } from "../Timestamps.ts"

export interface GroupMember {
  readonly id: string
  readonly username: string
  readonly displayName: string
  readonly addedAt: Date
}

export class Groups extends Context.Tag("@streamspace/core/Groups")<
  Groups,
  {
    readonly create: (input: Schema.Schema.Type<typeof CreateGroup>) => Effect.Effect<Group, Conflict | NotFound>
    readonly get: (id: string) => Effect.Effect<Group, NotFound>
    readonly list: (q: { limit: number; cursor?: string }) => Effect.Effect<PageOf<Group>>
    readonly update: (
      id: string,
      patch: Schema.Schema.Type<typeof UpdateGroup>
    ) => Effect.Effect<Group, NotFound | Conflict>
    readonly delete: (id: string) => Effect.Effect<void, NotFound>
    readonly members: (id: string) => Effect.Effect<ReadonlyArray<GroupMember>, NotFound>
    readonly addMember: (id: string, userId: string) => Effect.Effect<void, NotFound | Conflict>
    readonly removeMember: (id: string, userId: string) => Effect.Effect<void, NotFound>
    readonly groupsOf: (userId: string) => Effect.Effect<ReadonlyArray<{ readonly id: string; readonly name: string }>>
  }
>() {}

export const GroupsLive = Layer.effect(
  Groups,
  Effect.gen(function* () {
    const repo = yield* GroupRepo
    const users = yield* Users
    const get = (id: string) =>
      Effect.flatMap(repo.findById(id), (g) =>
        g ? Effect.succeed(g) : Effect.fail(new NotFound({ resource: "group", id }))
      )
    const taken = (name: string) => new Conflict({ message: `group ${name} exists`, code: "group_name_taken" })
    return {
      get,
      list: repo.list,
      groupsOf: repo.groupsOf,
      create: (input) =>
        Effect.gen(function* () {
          const id = crypto.randomUUID()
          const ok = yield* repo.insert({ id, name: input.name, description: input.description, at: yield* now })
          if (!ok) return yield* taken(input.name)
          return yield* get(id)
        }),
      update: (id, patch) =>
        Effect.gen(function* () {
          yield* get(id)
          if (patch.name !== undefined && (yield* repo.nameTaken(patch.name, id))) return yield* taken(patch.name)
          const fields = {
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(patch.description !== undefined ? { description: patch.description } : {})
          }
          if (Object.keys(fields).length > 0) yield* repo.update(id, fields)
          return yield* get(id)
        }),
      delete: (id) =>
        Effect.flatMap(repo.delete(id), (ok) =>
          ok ? Effect.void : Effect.fail(new NotFound({ resource: "group", id }))
        ),
      members: (id) =>
        Effect.zipRight(
          get(id),
          Effect.map(repo.members(id), (rows) =>
            rows.map((r) => ({ id: r.id, username: r.username, displayName: r.display_name, addedAt: r.added_at }))
          )
        ),
      addMember: (id, userId) =>
        Effect.gen(function* () {
          yield* get(id)
          yield* users.get(userId)
          const added = yield* repo.addMember(id, userId, yield* now)
          if (!added) return yield* new Conflict({ message: "already a member", code: "already_member" })
        }),
      removeMember: (id, userId) =>
        Effect.gen(function* () {
          yield* get(id)
          const removed = yield* repo.removeMember(id, userId)
          if (!removed) return yield* new NotFound({ resource: "group member", id: userId })
        })
    }
  })
)
