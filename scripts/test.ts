/**
 * `bun run test`: the fast tier first (`*.unit.test.ts`: rules on stub
 * services, no database, run once), then every other suite on embedded
 * PGlite, then again on PostgreSQL when `TEST_DATABASE_URL` is set. Files
 * named `*.pg.test.ts` need a real server (several processes on one
 * database) and run in the PostgreSQL pass only. Browser suites
 * (`*.browser.test.ts`: the web console in Debian's Chromium) run once, on
 * PGlite, in a pass of their own; without Chromium that pass fails unless
 * `STREAMSPACE_SKIP_BROWSER=1` says to skip it, loudly. Extra arguments filter
 * test files, as with `bun test`.
 * Every test and hook gets `TestTimeouts.testMs`, as under a plain
 * `bun test <file>` (the kit's preload in bunfig.toml sets the same).
 * Ends with one line: `N passed, N failed`.
 */
import { Glob } from "bun"
import * as Fs from "node:fs"
import * as Chromium from "@streamspace/testing/chromium"
import * as TestTimeouts from "@streamspace/testing/timeouts"

const coreOnly = process.argv.includes("--core-only")
const filters = process.argv.slice(2).filter((a) => a !== "--core-only")
const bundledPlugins = Fs.readdirSync("plugins")
/** A bundled plugin enabled through the environment of a server the suite starts. */
const enablesBundled = (source: string) =>
  [...source.matchAll(/STREAMSPACE_PLUGINS:\s*"([^"]*)"/g)].some((m) =>
    m[1]!.split(",").some((id) => bundledPlugins.includes(id.trim()))
  )
/** A suite that loads or enables a bundled plugin tests plugins; every other one must pass with none available. */
const loadsPlugin = (f: string) => {
  if (f.startsWith("plugins/")) return true
  const source = Fs.readFileSync(f, "utf8")
  return /@streamspace\/plugin-|@streamspace\/editions|\bplugins\/[a-z0-9-]+\//.test(source) || enablesBundled(source)
}
const all = [...new Glob("{packages,plugins,test}/**/*.test.ts").scanSync(".")]
  .filter((f) => !f.includes("node_modules"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .filter((f) => !coreOnly || !loadsPlugin(f))
  .sort()

interface PassResult {
  readonly name: string
  readonly pass: number
  readonly fail: number
  readonly code: number
  readonly failed: ReadonlyArray<string>
}

const runPass = async (
  name: string,
  files: ReadonlyArray<string>,
  env: Record<string, string | undefined>
): Promise<PassResult> => {
  if (files.length === 0) return { name, pass: 0, fail: 0, code: 0, failed: [] }
  console.log(`\n=== ${name}: ${files.length} test files ===`)
  const proc = Bun.spawn(["bun", "test", "--timeout", String(TestTimeouts.testMs), ...files.map((f) => `./${f}`)], {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe"
  })
  let tail = ""
  const failed: Array<string> = []
  const pump = async (stream: ReadableStream<Uint8Array>, sink: NodeJS.WriteStream) => {
    const decoder = new TextDecoder()
    let line = ""
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true })
      sink.write(text)
      tail = (tail + text).slice(-4000)
      const lines = (line + text).split("\n")
      line = lines.pop() ?? ""
      // bun prints each failure twice (where it happened, and in its summary): once here.
      for (const l of lines) if (l.startsWith("(fail) ") && !failed.includes(l)) failed.push(l)
    }
  }
  await Promise.all([pump(proc.stdout, process.stdout), pump(proc.stderr, process.stderr)])
  const code = await proc.exited
  const count = (word: string) => Number(new RegExp(`^\\s*(\\d+) ${word}\\b`, "m").exec(tail)?.[1] ?? 0)
  return { name, pass: count("pass"), fail: count("fail"), code, failed }
}

const isUnit = (f: string) => f.endsWith(".unit.test.ts")
const isBrowser = (f: string) => f.endsWith(".browser.test.ts")
const engineSuites = all.filter((f) => !isUnit(f) && !isBrowser(f))
const pgUrl = process.env["TEST_DATABASE_URL"]
// CI must run the PostgreSQL pass: the multi-replica suites (a job runs once across replicas, shared rate limits) live only there.
if (!pgUrl && process.env["STREAMSPACE_REQUIRE_POSTGRES"] === "1") {
  console.error(
    "TEST_DATABASE_URL is not set but STREAMSPACE_REQUIRE_POSTGRES=1: the PostgreSQL pass (and its *.pg.test.ts multi-replica suites) would not run. Set TEST_DATABASE_URL."
  )
  process.exit(1)
}
const results: Array<PassResult> = []
const edition = coreOnly ? { STREAMSPACE_EDITION: "core" } : {}
results.push(await runPass("Unit (no database)", all.filter(isUnit), { TEST_DATABASE_URL: undefined, ...edition }))
results.push(
  await runPass(
    coreOnly ? "PGlite, core suites, no plugin available" : "PGlite",
    engineSuites.filter((f) => !f.endsWith(".pg.test.ts")),
    { TEST_DATABASE_URL: undefined, ...edition }
  )
)
const browserSuites = coreOnly ? [] : all.filter(isBrowser)
const noBrowser = Chromium.unavailable()
if (browserSuites.length > 0 && noBrowser && process.env["STREAMSPACE_SKIP_BROWSER"] === "1") {
  console.error(`\n!!! BROWSER TESTS SKIPPED (${browserSuites.length} files): ${noBrowser} !!!\n`)
} else {
  results.push(await runPass("Browser (Chromium, PGlite)", browserSuites, { TEST_DATABASE_URL: undefined }))
}
if (coreOnly) {
  console.log("\n--core-only: the browser and PostgreSQL passes are not run")
} else if (pgUrl) {
  results.push(await runPass("PostgreSQL", engineSuites, { TEST_DATABASE_URL: pgUrl }))
} else {
  console.log(
    "\nPostgreSQL pass not run: set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run every suite on PostgreSQL too."
  )
}

console.log("")
// Repeated at the end so a log that keeps only its tail still names what failed.
for (const r of results) for (const f of r.failed) console.log(`${r.name}: ${f}`)
for (const r of results)
  console.log(
    `${r.name}: ${r.pass} pass, ${r.fail} fail${r.code !== 0 && r.fail === 0 ? ` (bun test exited ${r.code})` : ""}`
  )
const pass = results.reduce((n, r) => n + r.pass, 0)
const fail = results.reduce((n, r) => n + r.fail, 0)
const broken = results.some((r) => r.code !== 0)
console.log(`${pass} passed, ${fail + (broken && fail === 0 ? 1 : 0)} failed`)
process.exit(broken || fail > 0 ? 1 : 0)
