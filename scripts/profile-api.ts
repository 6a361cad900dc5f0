/**
 * `bun run profile:api [seconds] [--cpu] [--json] [--windows N] [--warmup S]`: a CPU profile of our server under
 * the api bench's load (PostgreSQL, BENCH_CLIENTS clients, create → list →
 * delete), written by Bun's sampling profiler as markdown into
 * `profiles/` (the path is printed). Not a benchmark: the profiler slows the
 * server; use the profile to see where time goes, `bun run bench api` for
 * figures. Env as for the api bench (BENCH_CLIENTS, BENCH_DATABASE_URL /
 * TEST_DATABASE_URL).
 */
import { ServerProcess } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as BenchDatabases from "./bench/internal/BenchDatabases.ts"
import * as CpuTime from "./bench/internal/CpuTime.ts"
import { createListDelete, forDuration, prepareUsers, Recorder, sessionRoutes } from "./bench/internal/LoadClient.ts"

const seconds = Number(process.argv[2] ?? 15)
/** `--cpu`: no profiler; CPU milliseconds of the server, of PostgreSQL and of this load client per request instead. */
const cpuOnly = process.argv.includes("--cpu")
const clients = Number(process.env["BENCH_CLIENTS"] ?? 32)
const serverUrl =
  process.env["BENCH_DATABASE_URL"] ?? process.env["TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres"
const password = "Profile-root-pass-4Xq8-walrus"
const dir = Path.resolve("profiles")
Fs.mkdirSync(dir, { recursive: true })
const json = process.argv.includes("--json")
const name = `api-${new Date().toISOString().replaceAll(":", "-")}.${json ? "cpuprofile" : "md"}`

const databases = await BenchDatabases.connect(serverUrl)
if (!databases) process.exit(1)
try {
  const server = await ServerProcess.start(
    {
      DATABASE_URL: await databases.create("profile"),
      SESSION_RUNTIME: "simulated",
      STREAMSPACE_ADMIN_PASSWORD: password,
      STREAMSPACE_RATE_LIMIT: "false",
      STREAMSPACE_LOG_LEVEL: "warning",
      STREAMSPACE_ACCESS_TOKEN_TTL_SECONDS: "7200"
    },
    {
      command: [
        "bun",
        ...(cpuOnly ? [] : [json ? "--cpu-prof" : "--cpu-prof-md", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`]),
        Path.resolve("packages/server/src/main.ts")
      ]
    }
  )
  const users = await prepareUsers(server.url, password, clients)
  const warm = new Recorder()
  // `--warmup S`: seconds of load before measuring (default 3; the JIT settles over a minute or more).
  const warmupAt = process.argv.indexOf("--warmup")
  const warmup = warmupAt > 0 ? Number(process.argv[warmupAt + 1] ?? 3) : 3
  await forDuration(users.tokens, warmup, createListDelete(sessionRoutes(server.url, users.templateId, warm)))
  // `--windows N`: N measuring windows of `seconds` one after the other (how CPU per request settles as the JIT does).
  const windowsAt = process.argv.indexOf("--windows")
  const windows = windowsAt > 0 ? Number(process.argv[windowsAt + 1] ?? 1) : 1
  for (let w = 1; w <= windows; w++) {
    const recorder = new Recorder()
    const before = {
      ...CpuTime.sample(server.proc.pid),
      client: CpuTime.ofProcess(process.pid),
      threads: CpuTime.ofThreads(server.proc.pid)
    }
    const elapsed = await forDuration(
      users.tokens,
      seconds,
      createListDelete(sessionRoutes(server.url, users.templateId, recorder))
    )
    const used = CpuTime.between(before, CpuTime.sample(server.proc.pid))
    const threads = [...CpuTime.ofThreads(server.proc.pid)]
      .map(([thread, ms]) => [thread, (ms - (before.threads.get(thread) ?? 0)) / recorder.requests] as const)
      .filter(([, ms]) => ms > 0.005)
      .sort((a, b) => b[1] - a[1])
    const cpu = { server: used.server / recorder.requests, postgres: used.postgres / recorder.requests }
    const client = (CpuTime.ofProcess(process.pid) - before.client) / recorder.requests
    console.log(
      `${windows > 1 ? `window ${w}: ` : ""}${(recorder.requests / elapsed).toFixed(0)} req/s${cpuOnly ? "" : " under the profiler"}, ${recorder.errors} errors; CPU per request: server ${cpu.server.toFixed(2)} ms, PostgreSQL ${cpu.postgres.toFixed(2)} ms, load client ${client.toFixed(2)} ms`
    )
    if (cpuOnly)
      console.log(
        `  server threads, CPU ms per request: ${threads.map(([t, ms]) => `${t} ${ms.toFixed(2)}`).join(", ")}`
      )
  }
  await server.stop("SIGINT")
  if (!cpuOnly) console.log(`profile: ${Path.join(dir, name)}`)
} finally {
  await databases.dropAll()
}
