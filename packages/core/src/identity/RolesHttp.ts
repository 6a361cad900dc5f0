/**
 * `GET /api/roles`: the roles and the permission strings each grants (the
 * core's and those plugins registered), for the admin console's read-only
 * roles page and the role pickers.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import * as HttpRoute from "../HttpRoute.ts"
import { Permissions } from "./Permissions.ts"

const PermissionItem = Schema.Struct({ name: Schema.String, description: Schema.String, owner: Schema.String })

export const RoleItem = Schema.Struct({
  name: Schema.String,
  description: Schema.String,
  permissions: Schema.Array(Schema.String)
})

export const roleRoutes = [
  HttpRoute.make({
    method: "GET",
    path: "/api/roles",
    summary: "Roles with the permissions each grants, and every known permission with its owner (core or a plugin)",
    tags: ["users"],
    permission: "users:read",
    response: Schema.Struct({ items: Schema.Array(RoleItem), permissions: Schema.Array(PermissionItem) }),
    handler: () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const roles = yield* sql<{
          name: string
          description: string
        }>`SELECT name, description FROM roles ORDER BY name`
        const grants = yield* sql<{ role: string; permission: string }>`SELECT role, permission FROM role_permissions
          ORDER BY role, permission`
        const permissions = yield* Effect.flatMap(Permissions, (p) => p.list)
        return {
          items: roles.map((r) => ({
            name: r.name,
            description: r.description,
            permissions: grants.filter((g) => g.role === r.name).map((g) => g.permission)
          })),
          permissions
        }
      })
  })
]
