/**
 * `bun run bench edge`: what the HTTP edge costs per request, in process
 * (`app.handle`, no sockets) on PGlite. Three authenticated GETs, one at a
 * time and then 16 at a time:
 *
 * - `GET /bench/echo` with an access token: a route that touches no table
 *   (authentication, context, decoding, encoding, logging only);
 * - `GET /api/users/:id` with an access token (the caller reads itself);
 * - `GET /api/users/:id` with an API key.
 *
 * Prints, per route, the median over BENCH_EDGE_ROUNDS (default 5) rounds of
 * BENCH_EDGE_REQUESTS (default 2000) requests: µs of wall time and of
 * process CPU per request, and requests/s at 16 in flight.
 * BENCH_EDGE_PRINCIPAL_CACHE_MS sets `auth.principalCacheMs` (0: read the
 * caller from the database on every request). To compare two
 * checkouts, run it in each, alternately (`for i in 1 2 3; do (cd a && bun
 * run bench edge); (cd b && bun run bench edge); done`).
 */
import { HttpRoute } from "@streamspace/core"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Schema } from "effect"

const ROUNDS = Number(process.env["BENCH_EDGE_ROUNDS"] ?? 5)
const REQUESTS = Number(process.env["BENCH_EDGE_REQUESTS"] ?? 2000)
const IN_FLIGHT = 16
const cacheMs = process.env["BENCH_EDGE_PRINCIPAL_CACHE_MS"]

const Echo = Schema.Struct({ ok: Schema.Boolean, at: Schema.Date })
const echo = HttpRoute.make({
  method: "GET",
  path: "/bench/echo",
  summary: "answers without touching the database",
  permission: "authenticated",
  response: Echo,
  handler: () => Effect.succeed({ ok: true, at: new Date(0) })
})

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

interface Sample {
  readonly wallUs: number
  readonly cpuUs: number
  readonly perSecond: number
}

export const run = async () => {
  const p = await TestPlatform.make({
    routes: [echo] as never,
    config: {
      log: { level: "info", format: "json" },
      ...(cacheMs === undefined ? {} : { auth: { principalCacheMs: Number(cacheMs) } })
    }
  })
  try {
    const admin = await p.login("admin", TestPlatform.adminPassword)
    const created = await p.http<{ id: string }>("POST", "/api/users", {
      token: admin,
      body: { username: "edge-bench", password: "quiet-lantern-orbit-7" }
    })
    const token = await p.login("edge-bench", "quiet-lantern-orbit-7")
    const key = await p.http<{ key: string }>("POST", "/api/api-keys", {
      token,
      body: { name: "bench", scopes: ["account"] }
    })
    const routes: ReadonlyArray<readonly [string, string, string]> = [
      ["GET /bench/echo (token)", "/bench/echo", token],
      ["GET /api/users/:id (token)", `/api/users/${created.body.id}`, token],
      ["GET /api/users/:id (API key)", `/api/users/${created.body.id}`, key.body.key]
    ]
    const once = async (path: string, bearer: string) => {
      const res = await p.app.handle(
        new Request(`http://127.0.0.1${path}`, { headers: { authorization: `Bearer ${bearer}` } })
      )
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`)
      await res.arrayBuffer()
    }
    const measure = async (path: string, bearer: string): Promise<Sample> => {
      const cpu = process.cpuUsage()
      const started = performance.now()
      for (let i = 0; i < REQUESTS; i++) await once(path, bearer)
      const wall = performance.now() - started
      const used = process.cpuUsage(cpu)
      const concurrentStart = performance.now()
      let next = 0
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next++ < REQUESTS) await once(path, bearer)
        })
      )
      const concurrent = performance.now() - concurrentStart
      return {
        wallUs: (wall * 1000) / REQUESTS,
        cpuUs: (used.user + used.system) / REQUESTS,
        perSecond: REQUESTS / (concurrent / 1000)
      }
    }
    // Warm-up: JIT and prepared statements.
    for (const [, path, bearer] of routes) for (let i = 0; i < 300; i++) await once(path, bearer)
    const samples = new Map<string, Array<Sample>>()
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, path, bearer] of routes) {
        const list = samples.get(name) ?? []
        list.push(await measure(path, bearer))
        samples.set(name, list)
      }
    }
    const cache = cacheMs === undefined ? "" : `, principalCacheMs ${cacheMs}`
    console.log(`${ROUNDS} rounds × ${REQUESTS} requests, medians (PGlite, in process, log level info${cache})`)
    console.log("| route | µs/request (1 in flight) | CPU µs/request | req/s (16 in flight) |")
    console.log("| --- | ---: | ---: | ---: |")
    for (const [name] of routes) {
      const list = samples.get(name) ?? []
      const row = [
        median(list.map((s) => s.wallUs)).toFixed(0),
        median(list.map((s) => s.cpuUs)).toFixed(0),
        median(list.map((s) => s.perSecond)).toFixed(0)
      ]
      console.log(`| ${name} | ${row.join(" | ")} |`)
    }
  } finally {
    await p.close()
  }
}
