/**
 * docs/configuration.md's reference section is generated from the config
 * schema by scripts/config-reference.ts; this runs its `--check` (drift
 * fails CI) and shows the check notices a page that no longer matches.
 */
import { afterAll, expect, test } from "bun:test"
import { ConfigSources } from "@streamspace/server"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as ConfigReference from "../../scripts/config-reference.ts"

const root = Path.join(import.meta.dir, "../..")
const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-config-reference-"))
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

const check = (page?: string) => {
  const proc = Bun.spawnSync(["bun", "scripts/config-reference.ts", "--check", ...(page ? ["--file", page] : [])], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe"
  })
  return { code: proc.exitCode, output: proc.stdout.toString() + proc.stderr.toString() }
}

test("docs/configuration.md matches the config schema (bun scripts/config-reference.ts --check)", () => {
  const { code, output } = check()
  expect(output).toContain("up to date")
  expect(code).toBe(0)
})

test("every key has a meaning, and every environment variable is in the reference", () => {
  const keys = ConfigReference.configKeys()
  expect(ConfigReference.problems(keys)).toEqual([])
  const page = Fs.readFileSync(ConfigReference.defaultPage, "utf8")
  for (const binding of ConfigSources.envBindings) expect(page).toContain(`\`${binding.env}\``)
  for (const key of keys) expect(page).toContain(`| \`${key.path}\` |`)
  // Secrets are marked: the database URL, the secrets key, the JWT secret, the admin password, S3's secret key.
  expect(keys.filter((k) => k.secret).map((k) => k.path)).toEqual([
    "databaseUrl",
    "secretsKey",
    "auth.jwtSecret",
    "auth.adminPassword",
    "storage.s3.secretAccessKey"
  ])
})

test("--check fails on a page that drifted from the schema, naming the command that fixes it", () => {
  const drifted = Path.join(dir, "configuration.md")
  Fs.writeFileSync(drifted, Fs.readFileSync(ConfigReference.defaultPage, "utf8").replace(/^\| `port` .*\n/m, ""))
  const { code, output } = check(drifted)
  expect(code).toBe(1)
  expect(output).toContain("out of date")
  expect(output).toContain("config-reference.ts")
})
