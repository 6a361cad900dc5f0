/**
 * Plugin login roles and the other databases of the cluster (finding 8):
 * PUBLIC has CONNECT on every database by default, so a plugin's role could
 * log in to them. The startup report names each such database and points to
 * docs/security.md; once CONNECT is revoked from PUBLIC the database is no
 * longer reported. PostgreSQL only (PGlite has one database, no logins).
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { ClusterConnect, Manifest } from "@streamspace/kernel/host"
import hello from "@streamspace/plugin-hello"
import { ServerDatabase, TestPlatform } from "@streamspace/testing"
import { SQL } from "bun"

const probe = `ssp_connect_probe_${crypto.randomUUID().slice(0, 8)}`
const admin = new SQL(ServerDatabase.serverUrl())
let p: TestPlatform.TestPlatform
let database: string

beforeAll(async () => {
  await admin.unsafe(`CREATE DATABASE ${probe}`)
  p = await TestPlatform.make({ plugins: [hello], config: { plugins: { enabled: ["hello"] } } })
  database = (await p.query<{ db: string }>("SELECT current_database() AS db"))[0]!.db
})
afterAll(async () => {
  await p?.close()
  await admin.unsafe(`DROP DATABASE IF EXISTS ${probe}`)
  await admin.close()
})

/** Runs the startup report and returns what it logged. */
const startupReport = async () => {
  const lines: Array<string> = []
  const log = console.log
  console.log = (...args: Array<unknown>) => {
    lines.push(args.map(String).join(" "))
  }
  try {
    await p.run(ClusterConnect.report)
  } finally {
    console.log = log
  }
  return lines.join("\n")
}

test("a database PUBLIC can connect to is reported with the plugin role that can reach it, and the SQL to close it", async () => {
  expect(p.engine).toBe("postgres")
  const role = Manifest.roleOf("hello", database)
  const open = await p.run(ClusterConnect.openDatabases)
  const reached = open.find((d) => d.database === probe)
  expect(reached).toEqual({ database: probe, public: true, roles: [role] })
  // The platform's own database is never in the list: plugin roles need it.
  expect(open.some((d) => d.database === database)).toBe(false)
  expect(ClusterConnect.closingStatements([reached!])).toEqual([
    `REVOKE CONNECT ON DATABASE "${probe}" FROM PUBLIC;`,
    `REVOKE CONNECT ON DATABASE "${probe}" FROM "${role}";`
  ])

  const report = await startupReport()
  expect(report).toContain("plugin database roles can CONNECT to other databases")
  expect(report).toContain(`${probe} (PUBLIC)`)
  expect(report).toContain("docs/security.md")
  expect(report).toContain(`REVOKE CONNECT ON DATABASE \\"${probe}\\" FROM PUBLIC;`)
})

test("once CONNECT is revoked from PUBLIC, the database is no longer reported; a grant to the plugin role is", async () => {
  const role = Manifest.roleOf("hello", database)
  await admin.unsafe(`REVOKE CONNECT ON DATABASE ${probe} FROM PUBLIC`)
  expect((await p.run(ClusterConnect.openDatabases)).some((d) => d.database === probe)).toBe(false)
  expect(await startupReport()).not.toContain(probe)

  await admin.unsafe(`GRANT CONNECT ON DATABASE ${probe} TO "${role}"`)
  expect((await p.run(ClusterConnect.openDatabases)).find((d) => d.database === probe)).toEqual({
    database: probe,
    public: false,
    roles: [role]
  })
  expect(await startupReport()).toContain(`${probe} (${role})`)
  await admin.unsafe(`REVOKE CONNECT ON DATABASE ${probe} FROM "${role}"`)
})
