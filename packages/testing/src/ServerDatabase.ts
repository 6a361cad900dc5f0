/**
 * A database of its own on the PostgreSQL server of `TEST_DATABASE_URL`, for
 * tests that run server processes against it. `drop` removes it together
 * with the plugin roles made for it (roles are cluster-wide and would
 * otherwise outlive the database).
 */
import { Manifest } from "@streamspace/kernel"
import { SQL } from "bun"

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

export const create = async (prefix: string): Promise<ServerDatabase> => {
  const name = `ss_t_${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`
  const url = new URL(serverUrl())
  url.pathname = `/${name}`
  const admin = new SQL(serverUrl())
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`)
  } finally {
    await admin.close()
  }
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const admin = new SQL(serverUrl())
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
        await dropPluginRoles(admin, name)
      } finally {
        await admin.close()
      }
    }
  }
}
