import { expect, test } from "bun:test"
import { CoreMigrations } from "@streamspace/core"
import * as Fs from "node:fs"
import * as Path from "node:path"

test("every file in /migrations is registered, numbered strictly upward, with the same name", () => {
  const dir = Path.join(import.meta.dir, "../../migrations")
  const files = Fs.readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
  const listed = CoreMigrations.coreMigrations.map((m) => `${String(m.id).padStart(4, "0")}_${m.name}.sql`)
  expect(listed).toEqual(files)
  const ids = CoreMigrations.coreMigrations.map((m) => m.id)
  expect(ids).toEqual(ids.map((_, i) => i + 1))
  for (const m of CoreMigrations.coreMigrations) {
    expect(m.sql).toBe(Fs.readFileSync(Path.join(dir, `${String(m.id).padStart(4, "0")}_${m.name}.sql`), "utf8"))
  }
})
