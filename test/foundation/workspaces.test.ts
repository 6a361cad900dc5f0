/**
 * A plugin folder under plugins/ is importable by its package name
 * (`@streamspace/plugin-<x>`) without being listed in the root package.json:
 * the install settings (bunfig.toml's hoisted linker) link every workspace
 * member into the root node_modules. Bun's isolated linker, its default for
 * a new workspace lockfile, links declared dependencies only.
 */
import { afterAll, describe, expect, test } from "bun:test"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const root = Path.join(import.meta.dir, "../..")
const readJson = (file: string) => JSON.parse(Fs.readFileSync(file, "utf8")) as Record<string, unknown>
const rootPackage = readJson(Path.join(root, "package.json"))

const scratch = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-workspaces-"))
afterAll(() => Fs.rmSync(scratch, { recursive: true, force: true }))

const write = (file: string, text: string) => {
  Fs.mkdirSync(Path.dirname(file), { recursive: true })
  Fs.writeFileSync(file, text)
}

describe("workspaces", () => {
  test("the root package.json names no plugin; every plugin folder still resolves from the root", () => {
    const deps = {
      ...(rootPackage["dependencies"] as Record<string, string>),
      ...(rootPackage["devDependencies"] as Record<string, string>)
    }
    expect(Object.keys(deps).filter((d) => d.startsWith("@streamspace/plugin-"))).toEqual([])
    const folders = Fs.readdirSync(Path.join(root, "plugins")).filter((d) =>
      Fs.existsSync(Path.join(root, "plugins", d, "package.json"))
    )
    expect(folders.length).toBeGreaterThan(0)
    for (const folder of folders) {
      const name = readJson(Path.join(root, "plugins", folder, "package.json"))["name"]
      expect(name).toBe(`@streamspace/plugin-${folder}`)
      const resolved = Fs.realpathSync(Bun.resolveSync(String(name), root))
      expect(resolved.startsWith(Fs.realpathSync(Path.join(root, "plugins", folder)) + Path.sep)).toBe(true)
    }
  })

  test("a freshly added plugin folder is importable after `bun install`, with the repository's install settings", () => {
    // A workspace shaped like this one (same workspace globs, same bunfig.toml), with one new plugin and no registry packages.
    write(
      Path.join(scratch, "package.json"),
      JSON.stringify({ name: "scratch", private: true, type: "module", workspaces: rootPackage["workspaces"] })
    )
    Fs.copyFileSync(Path.join(root, "bunfig.toml"), Path.join(scratch, "bunfig.toml"))
    write(
      Path.join(scratch, "packages", "base", "package.json"),
      JSON.stringify({
        name: "@streamspace/base",
        version: "0.1.0",
        type: "module",
        exports: { ".": "./src/index.ts" }
      })
    )
    write(Path.join(scratch, "packages", "base", "src", "index.ts"), 'export const base = "base"\n')
    write(
      Path.join(scratch, "plugins", "fresh", "package.json"),
      JSON.stringify({
        name: "@streamspace/plugin-fresh",
        version: "1.0.0",
        type: "module",
        exports: { ".": "./src/index.ts" }
      })
    )
    write(Path.join(scratch, "plugins", "fresh", "src", "index.ts"), 'export default { id: "fresh" }\n')

    const install = Bun.spawnSync(["bun", "install"], { cwd: scratch, stdout: "pipe", stderr: "pipe" })
    expect(install.exitCode).toBe(0)
    const run = Bun.spawnSync(["bun", "-e", 'import p from "@streamspace/plugin-fresh"; console.log(p.id)'], {
      cwd: scratch,
      stdout: "pipe",
      stderr: "pipe"
    })
    expect(run.stderr.toString()).toBe("")
    expect(run.stdout.toString().trim()).toBe("fresh")
    // And the lockfile it wrote is stable: a frozen install (what CI runs) accepts it.
    expect(
      Bun.spawnSync(["bun", "install", "--frozen-lockfile"], { cwd: scratch, stdout: "pipe", stderr: "pipe" }).exitCode
    ).toBe(0)
  })
})
