/**
 * `bun run bench testkit`: what a test file pays for its platform on PGlite,
 * and what a long move of the simulated clock costs.
 *
 * - make+close in one process: median of N `TestPlatform.make()` + `close()`
 *   (the example plugin enabled), after one that warms the process up;
 * - first make in a new process: median over R fresh `bun` processes of
 *   their first `make()` (the template comes from the disk cache);
 * - `bun test ./plugins/hello`: median wall time over R runs;
 * - `adjustClock("2 hours")` with `clock: "test"` and the example plugin's
 *   one-minute job: wall time, and how many job ticks ran.
 *
 * BENCH_TESTKIT_N (default 10) and BENCH_TESTKIT_RUNS (default 3) size it,
 * BENCH_TESTKIT_CLOCK_MINUTES (default 120) is the clock move. It always
 * runs on PGlite (TEST_DATABASE_URL is ignored).
 */
import { Duration } from "effect"
import * as Path from "node:path"

const N = Number(process.env["BENCH_TESTKIT_N"] ?? 10)
const RUNS = Number(process.env["BENCH_TESTKIT_RUNS"] ?? 3)
const CLOCK_MINUTES = Number(process.env["BENCH_TESTKIT_CLOCK_MINUTES"] ?? 120)
const root = Path.join(import.meta.dir, "../..")

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN
const ms = (x: number) => `${Math.round(x)} ms`
const env = () => {
  const e: Record<string, string | undefined> = { ...process.env }
  delete e["TEST_DATABASE_URL"]
  return e
}

/** Child mode: one first make()+close() in a fresh process, printed as JSON. */
const child = async () => {
  const started = performance.now()
  const { TestPlatform } = await import("@streamspace/testing")
  const hello = (await import("@streamspace/plugin-hello")).default
  const imported = performance.now()
  const p = await TestPlatform.make({ plugins: [hello], config: { plugins: { enabled: ["hello"] } } })
  const made = performance.now()
  await p.close()
  console.log(JSON.stringify({ importMs: imported - started, makeMs: made - imported }))
}

const inProcess = async () => {
  const { TestPlatform } = await import("@streamspace/testing")
  const hello = (await import("@streamspace/plugin-hello")).default
  const once = async () => {
    const t = performance.now()
    const p = await TestPlatform.make({ plugins: [hello], config: { plugins: { enabled: ["hello"] } } })
    const made = performance.now() - t
    await p.close()
    return { made, total: performance.now() - t }
  }
  await once()
  const runs: Array<{ made: number; total: number }> = []
  for (let i = 0; i < N; i++) runs.push(await once())
  return {
    make: median(runs.map((r) => r.made)),
    total: median(runs.map((r) => r.total)),
    all: runs.map((r) => Math.round(r.made))
  }
}

const freshProcesses = async () => {
  const results: Array<{ importMs: number; makeMs: number }> = []
  for (let i = 0; i < RUNS; i++) {
    const proc = Bun.spawn(["bun", import.meta.path], {
      cwd: root,
      env: { ...env(), BENCH_TESTKIT_CHILD: "1" },
      stdout: "pipe",
      stderr: "inherit"
    })
    const out = await new Response(proc.stdout).text()
    if ((await proc.exited) !== 0) throw new Error(`child failed: ${out}`)
    results.push(JSON.parse(out.trim().split("\n").pop()!) as { importMs: number; makeMs: number })
  }
  return { imports: median(results.map((r) => r.importMs)), make: median(results.map((r) => r.makeMs)) }
}

const helloFile = async () => {
  const walls: Array<number> = []
  let failed = 0
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now()
    const proc = Bun.spawn(["bun", "test", "./plugins/hello"], {
      cwd: root,
      env: env(),
      stdout: "pipe",
      stderr: "pipe"
    })
    await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
    if ((await proc.exited) !== 0) failed++
    walls.push(performance.now() - t)
  }
  return { wall: median(walls), failed }
}

const clockJump = async () => {
  const { TestPlatform } = await import("@streamspace/testing")
  const hello = (await import("@streamspace/plugin-hello")).default
  const p = await TestPlatform.make({ plugins: [hello], clock: "test", config: { plugins: { enabled: ["hello"] } } })
  try {
    const t = performance.now()
    await p.adjustClock(Duration.minutes(CLOCK_MINUTES))
    const wall = performance.now() - t
    const runs = await p.query<{ n: string }>(
      "SELECT count(*) AS n FROM plugin_job_runs WHERE plugin_id = 'hello' AND outcome = 'success'"
    )
    return { wall, ticks: Number(runs[0]?.n ?? 0) }
  } finally {
    await p.close()
  }
}

export const run = async () => {
  delete process.env["TEST_DATABASE_URL"]
  console.log(`PGlite; N=${N} in-process, ${RUNS} fresh processes / test runs`)
  const fresh = await freshProcesses()
  console.log(`first make() in a new process: ${ms(fresh.make)} (imports before it: ${ms(fresh.imports)})`)
  const local = await inProcess()
  console.log(
    `make() in one process:         median ${ms(local.make)}, make+close ${ms(local.total)} (each: ${local.all.join(", ")})`
  )
  const file = await helloFile()
  console.log(
    `bun test ./plugins/hello:      median ${ms(file.wall)} wall${file.failed > 0 ? ` (${file.failed} of ${RUNS} runs failed)` : ""}`
  )
  const jump = await clockJump()
  console.log(
    `adjustClock(${CLOCK_MINUTES} minutes):${" ".repeat(Math.max(1, 10 - String(CLOCK_MINUTES).length))}${ms(jump.wall)} wall, ${jump.ticks} ticks of hello's one-minute job`
  )
}

if (process.env["BENCH_TESTKIT_CHILD"] === "1") await child()
