/**
 * A database of its own on the PostgreSQL server of `TEST_DATABASE_URL`, for
 * tests that run server processes against it. `drop` removes it together
 * with the plugin roles made for it (roles are cluster-wide and would
 * otherwise outlive the database).
 */
import { TestDatabase } from "@streamspace/db"
import { Manifest } from "@streamspace/kernel/host"
import { SQL } from "bun"
import { Effect, Exit, Scope } from "effect"

export interface ServerDatabase {
  readonly name: string
  readonly url: string
  readonly drop: () => Promise<void>
}

export const serverUrl = () => process.env["TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres"

/** Drops the plugin roles of `database` (named `ssp_<hash of database>_<plugin>`). */
export const dropPluginRoles = async (admin: SQL, database: string) => {
  const prefix = Manifest.roleOf("", database)
  const roles = await admin`SELECT rolname FROM pg_roles WHERE starts_with(rolname, ${prefix})`
  for (const { rolname } of roles as Array<{ rolname: string }>) await admin.unsafe(`DROP ROLE IF EXISTS "${rolname}"`)
}

export const create = async (): Promise<ServerDatabase> => {
  const scope = Effect.runSync(Scope.make())
  // The test kit's own database factory: created now, dropped when the scope closes.
  const url = await Effect.runPromise(Scope.extend(TestDatabase.scopedDatabase(serverUrl()), scope))
  const name = new URL(url).pathname.slice(1)
  return {
    name,
    url,
    drop: async () => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      const admin = new SQL(serverUrl())
      try {
        await dropPluginRoles(admin, name)
      } finally {
        await admin.close()
      }
    }
  }
}
