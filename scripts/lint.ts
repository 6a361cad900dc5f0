/**
 * `bun run lint`: Biome (formatting, the lint rules and the import
 * boundaries of biome.json), then the one rule Biome cannot express: service
 * implementations never start fibers on the default runtime
 * (`Effect.runFork`/`runPromise`/`runSync`/`runCallback`) — work started
 * there escapes the layer's logger, clock and Scope. The process edges that
 * must run Effects (the HTTP edge, main, the VNC proxy, command-line tools,
 * the test kit) are the exceptions.
 */
import { Glob } from "bun"

const biome = Bun.spawnSync(["bun", "x", "biome", "check", "."], { stdout: "inherit", stderr: "inherit" })

const services = [
  "packages/core/src",
  "packages/kernel/src",
  "packages/db/src",
  "packages/notify/src",
  "packages/editions/src",
  "plugins"
]
/** Files whose job is to run Effects from the outside world. */
const edges = new Set(["packages/db/src/TestDatabase.ts"])
const runs = /\bEffect\.run(Fork|Promise|PromiseExit|Sync|SyncExit|Callback)\b/

const offences: Array<string> = []
for (const root of services) {
  for (const file of new Glob(`${root}/**/*.ts`).scanSync(".")) {
    if (file.includes("node_modules") || file.includes("/test/") || edges.has(file)) continue
    const lines = (await Bun.file(file).text()).split("\n")
    lines.forEach((line, i) => {
      if (runs.test(line) && !line.trimStart().startsWith("*") && !line.trimStart().startsWith("//"))
        offences.push(`${file}:${i + 1}: ${line.trim()}`)
    })
  }
}
if (offences.length > 0) {
  console.error(
    "Effects run on the default runtime inside service code (use forkScoped, a Stream, or an Effect registered in the caller's scope):"
  )
  for (const o of offences) console.error(`  ${o}`)
}
console.log(offences.length === 0 && biome.exitCode === 0 ? "lint: clean" : "lint: failed")
process.exit(biome.exitCode === 0 && offences.length === 0 ? 0 : 1)
