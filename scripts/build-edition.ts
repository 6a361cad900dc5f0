/**
 * `bun run build:edition <community|enterprise> [--outfile path]`: one
 * executable with `bun build --compile`, the edition's plugins and PGlite's
 * WASM embedded. It starts on embedded PGlite and serves like `bun start`.
 */
import * as Editions from "@streamspace/editions"
import * as Fs from "node:fs"
import * as Path from "node:path"

const args = process.argv.slice(2)
const name = args.find((a) => !a.startsWith("--"))
const outIndex = args.indexOf("--outfile")
if (!name || !(name in Editions.editions)) {
  console.error(`usage: bun run build:edition <${Object.keys(Editions.editions).join("|")}> [--outfile path]`)
  process.exit(2)
}
const root = Path.join(import.meta.dir, "..")
const outfile =
  outIndex >= 0 && args[outIndex + 1]
    ? Path.resolve(args[outIndex + 1]!)
    : Path.join(root, "dist", `streamspace-${name}`)
Fs.mkdirSync(Path.dirname(outfile), { recursive: true })
const plugins = Editions.editions[name as keyof typeof Editions.editions].map((p) => p.id)
console.log(
  `building edition ${name} (${plugins.length ? plugins.join(", ") : "core only: no plugins are written yet"}) → ${outfile}`
)
const started = performance.now()
const proc = Bun.spawnSync(
  [
    "bun",
    "build",
    "--compile",
    "--minify-whitespace",
    "--define",
    `STREAMSPACE_BUILD_EDITION=${JSON.stringify(name)}`,
    Path.join(root, "packages/server/src/main.ts"),
    "--outfile",
    outfile
  ],
  { cwd: root, stdout: "inherit", stderr: "inherit" }
)
if (proc.exitCode !== 0) process.exit(proc.exitCode ?? 1)
console.log(
  `built ${outfile} (${(Fs.statSync(outfile).size / 1024 / 1024).toFixed(0)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s`
)
