/**
 * `bun run bench api`: a real server process (PGlite, then PostgreSQL), 32
 * concurrent clients for 20 s, each logged in as its own user, looping
 * create session → list sessions → delete session. Prints requests/s and
 * p50/p99 per route. Rate limiting is off for the run (it would cap each
 * client at 100 requests a minute); `BENCH_SECONDS` and `BENCH_CLIENTS`
 * change the load.
 */
import { ServerProcess } from "@streamspace/testing"
import { SQL } from "bun"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const CLIENTS = Number(process.env["BENCH_CLIENTS"] ?? 32)
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 20)
const PASSWORD = "bench-root-password"

const percentile = (xs: Array<number>, q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0
}

const json = async (res: Response) => (await res.json()) as Record<string, unknown>

const load = async (engine: string, url: string) => {
  const call = (method: string, path: string, token?: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { "content-type": "application/json" } : {})
      },
      ...(body ? { body: JSON.stringify(body) } : {})
    })
  const admin = String(
    (await json(await call("POST", "/api/auth/login", undefined, { username: "admin", password: PASSWORD })))[
      "accessToken"
    ]
  )
  const template = String(
    (
      await json(await call("POST", "/api/templates", admin, { name: "bench", displayName: "Bench", image: "bench:1" }))
    )["id"]
  )
  const latencies = new Map<string, Array<number>>()
  let errors = 0
  const timed = async (route: string, run: () => Promise<Response>) => {
    const start = performance.now()
    const res = await run()
    const ms = performance.now() - start
    if (!res.ok) errors++
    const list = latencies.get(route) ?? []
    list.push(ms)
    latencies.set(route, list)
    return res
  }
  const tokens: Array<string> = []
  for (let i = 0; i < CLIENTS; i++) {
    await call("POST", "/api/users", admin, { username: `bench-${i}`, password: "bench-user-password" })
    const res = await timed("POST /api/auth/login", () =>
      call("POST", "/api/auth/login", undefined, { username: `bench-${i}`, password: "bench-user-password" })
    )
    tokens.push(String((await json(res))["accessToken"]))
  }
  const deadline = performance.now() + SECONDS * 1000
  const started = performance.now()
  let requests = 0
  await Promise.all(
    tokens.map(async (token) => {
      while (performance.now() < deadline) {
        const created = await timed("POST /api/sessions", () =>
          call("POST", "/api/sessions", token, { templateId: template })
        )
        const id = String((await json(created))["id"])
        await (await timed("GET /api/sessions", () => call("GET", "/api/sessions?limit=20", token))).arrayBuffer()
        await (
          await timed("DELETE /api/sessions/:id", () => call("DELETE", `/api/sessions/${id}`, token))
        ).arrayBuffer()
        requests += 3
      }
    })
  )
  const elapsed = (performance.now() - started) / 1000
  console.log(
    `${engine}: ${CLIENTS} clients, ${elapsed.toFixed(1)} s, ${requests} requests, ${(requests / elapsed).toFixed(0)} req/s, ${errors} errors`
  )
  for (const [route, xs] of latencies) {
    console.log(
      `  ${route.padEnd(26)} n=${String(xs.length).padStart(6)}  p50 ${percentile(xs, 0.5).toFixed(1).padStart(7)} ms  p99 ${percentile(xs, 0.99).toFixed(1).padStart(7)} ms`
    )
  }
}

const env = { STREAMSPACE_ADMIN_PASSWORD: PASSWORD, STREAMSPACE_RATE_LIMIT: "false", STREAMSPACE_LOG_LEVEL: "warning" }

export const run = async () => {
  const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-bench-api-"))
  const pglite = await ServerProcess.start({ ...env, STREAMSPACE_DATA_DIR: dataDir, DATABASE_URL: undefined })
  try {
    await load("pglite", pglite.url)
  } finally {
    await pglite.stop()
    Fs.rmSync(dataDir, { recursive: true, force: true })
  }
  const serverUrl =
    process.env["BENCH_DATABASE_URL"] ??
    process.env["TEST_DATABASE_URL"] ??
    "postgres://postgres@127.0.0.1:5432/postgres"
  const name = `ss_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`
  const admin = new SQL(serverUrl)
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`)
  } catch (e) {
    console.log(
      `postgres: skipped, cannot reach ${serverUrl.replace(/\/\/[^@]*@/, "//")} (${e instanceof Error ? e.message : String(e)})`
    )
    await admin.close()
    return
  }
  const dbUrl = new URL(serverUrl)
  dbUrl.pathname = `/${name}`
  const pg = await ServerProcess.start({ ...env, DATABASE_URL: dbUrl.toString() })
  try {
    await load("postgres", pg.url)
  } finally {
    await pg.stop()
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.close()
  }
}

if (import.meta.main) await run()
