/**
 * Upgrading a plugin: a server restarted with a newer version of an
 * installed plugin runs its new migrations (keeping its data) and reports
 * the new version; an older version is refused.
 */
import { afterAll, expect, test } from "bun:test"
import { ServerDatabase, ServerProcess } from "@streamspace/testing"
import { SQL } from "bun"
import * as Fs from "node:fs"
import * as Path from "node:path"

const db = await ServerDatabase.create()
const name = db.name
// Inside the repository so that the plugin's imports resolve through its node_modules.
const pluginsDir = Path.join(import.meta.dir, `../fixtures/.upgrade-${name}`)

const writePlugin = (version: string, migrations: ReadonlyArray<string>) => {
  Fs.mkdirSync(Path.join(pluginsDir, "versioned"), { recursive: true })
  Fs.writeFileSync(
    Path.join(pluginsDir, "versioned", "package.json"),
    JSON.stringify({ name: "versioned", type: "module", exports: "./index.ts" })
  )
  Fs.writeFileSync(
    Path.join(pluginsDir, "versioned", "index.ts"),
    `
import { definePlugin } from "@streamspace/kernel"
import { Layer } from "effect"
export default definePlugin({ id: "versioned", name: "Versioned", version: "${version}", type: "extension", category: "example",
  migrations: ${JSON.stringify(migrations.map((sql, i) => ({ id: i + 1, name: `m${i + 1}`, sql })))}, layer: Layer.empty })
`
  )
}

const env = {
  DATABASE_URL: db.url,
  STREAMSPACE_ADMIN_PASSWORD: "upgrade-root-pw",
  STREAMSPACE_PLUGINS_DIR: pluginsDir,
  STREAMSPACE_PLUGINS: "versioned",
  STREAMSPACE_LOG_LEVEL: "info"
}

afterAll(async () => {
  Fs.rmSync(pluginsDir, { recursive: true, force: true })
  await db.drop()
})

const pluginState = async (url: string) => {
  const token = await ServerProcess.login(url, env.STREAMSPACE_ADMIN_PASSWORD)
  const list = await fetch(`${url}/api/admin/plugins`, { headers: { authorization: `Bearer ${token}` } })
  return (
    (await list.json()) as {
      items: ReadonlyArray<{ id: string; status: string; installedVersion: string; lastError: string | null }>
    }
  ).items.find((i) => i.id === "versioned")!
}

test("a newer version runs its new migrations and keeps the data; an older one is refused", async () => {
  writePlugin("1.0.0", ["CREATE TABLE notes (body text)", "INSERT INTO notes VALUES ('kept')"])
  const v1 = await ServerProcess.start(env)
  expect(await pluginState(v1.url)).toMatchObject({ status: "enabled", installedVersion: "1.0.0" })
  expect(await v1.stop()).toBe(0)

  writePlugin("1.1.0", [
    "CREATE TABLE notes (body text)",
    "INSERT INTO notes VALUES ('kept')",
    "ALTER TABLE notes ADD COLUMN at timestamptz NOT NULL DEFAULT now()"
  ])
  const v2 = await ServerProcess.start(env)
  expect(await pluginState(v2.url)).toMatchObject({ status: "enabled", installedVersion: "1.1.0" })
  expect(v2.output()).toContain("upgraded 1.0.0 → 1.1.0 (1 migration(s))")
  const conn = new SQL(db.url)
  const rows = await conn.unsafe("SELECT body, at FROM plugin_versioned.notes")
  await conn.close()
  expect(rows).toHaveLength(1)
  expect((rows[0] as { body: string }).body).toBe("kept")
  expect(await v2.stop()).toBe(0)

  writePlugin("0.9.0", ["CREATE TABLE notes (body text)"])
  const old = await ServerProcess.start(env)
  const state = await pluginState(old.url)
  expect(state.status).toBe("failed")
  expect(state.lastError).toContain("downgrades are not supported")
  expect(await old.stop()).toBe(0)
}, 120_000)
