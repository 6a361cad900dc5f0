/**
 * `bun run bench [name…]`: runs the benchmarks under scripts/bench (all when
 * no name is given). Each module exports `run(): Promise<void>`.
 */
import { Glob } from "bun"
import * as Path from "node:path"

const dir = import.meta.dir
/** Modules here that are not benchmarks: this runner and the api bench's floor server. */
const notBenchmarks = new Set(["index", "floor"])
const available = [...new Glob("*.ts").scanSync(dir)]
  .map((f) => f.replace(/\.ts$/, ""))
  .filter((n) => !notBenchmarks.has(n))
  .sort()
const wanted = process.argv.slice(2)
const unknown = wanted.filter((w) => !available.includes(w))
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; available: ${available.join(", ")}`)
  process.exit(2)
}
for (const name of wanted.length > 0 ? wanted : available) {
  console.log(`\n## bench ${name}`)
  const mod = (await import(Path.join(dir, `${name}.ts`))) as { run?: () => Promise<void> }
  if (typeof mod.run !== "function") {
    console.error(`${name}.ts exports no run()`)
    process.exit(1)
  }
  await mod.run()
}
