/**
 * docs/plugin-security.md against the plugins themselves: each plugin of the
 * enterprise edition (all twelve) and hello has a section naming every
 * table its migrations create, every permission, every grant and every
 * secret config field, so the page cannot fall behind a manifest.
 */
import { expect, test } from "bun:test"
import * as Editions from "@streamspace/editions"
import type { PluginDefinition } from "@streamspace/kernel/host"
import { ConfigSchema } from "@streamspace/kernel/host"
import hello from "@streamspace/plugin-hello"
import * as Fs from "node:fs"
import * as Path from "node:path"

const page = Fs.readFileSync(Path.join(import.meta.dir, "../../docs/plugin-security.md"), "utf8")

/** The text of the `## … (\`<id>\`…)` section of the page. */
const sectionOf = (id: string): string | undefined => {
  const sections = page.split(/^## /m)
  return sections.find((s) => new RegExp(`^[^\\n]*\\(\`${id}\`[^\\n]*\\n`).test(s))
}

const tablesOf = (plugin: PluginDefinition): ReadonlyArray<string> =>
  (plugin.migrations ?? []).flatMap((m) =>
    [...m.sql.matchAll(/CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_][a-z0-9_]*)/gi)].map(
      (t) => t[1]!
    )
  )

const permissionsOf = (plugin: PluginDefinition): ReadonlyArray<string> =>
  (plugin.permissions ?? []).map((p) => (typeof p === "string" ? p : p.name))

const plugins: ReadonlyArray<PluginDefinition> = [...Editions.enterprise, hello]

test("the page covers the twelve plugins and hello", () => {
  expect(plugins.map((p) => p.id).sort()).toHaveLength(13)
  const missing = plugins.filter((p) => sectionOf(p.id) === undefined).map((p) => p.id)
  expect(missing).toEqual([])
})

test("each plugin's section names its tables, permissions, grants and secret config fields", () => {
  const missing: Array<string> = []
  for (const plugin of plugins) {
    const section = sectionOf(plugin.id) ?? ""
    const expected = [
      ...tablesOf(plugin).map((t) => ["table", t] as const),
      ...permissionsOf(plugin).map((p) => ["permission", p] as const),
      ...(plugin.grants ?? []).map((g) => ["grant", g] as const),
      ...ConfigSchema.secretKeys(plugin.config).map((k) => ["secret", k] as const)
    ]
    for (const [kind, name] of expected)
      if (!section.includes(`\`${name}\``)) missing.push(`${plugin.id}: ${kind} \`${name}\``)
  }
  expect(missing).toEqual([])
})

test("the summary's table counts are the migrations' counts", () => {
  const wrong: Array<string> = []
  for (const plugin of plugins) {
    const row = page.split("\n").find((line) => new RegExp(`^\\| [^|]*\\b${plugin.id}\\b[^|]* \\|`).test(line))
    const count = tablesOf(plugin).length
    const cell = row?.split("|")[2]?.trim()
    const stated = cell === "none" ? 0 : /^\d+$/.test(cell ?? "") ? Number(cell) : cell?.startsWith("`") ? 1 : -1
    if (stated !== count) wrong.push(`${plugin.id}: summary says ${cell}, migrations create ${count}`)
  }
  expect(wrong).toEqual([])
})
