/**
 * `bun run bench plugins`: real server processes with 0, 5 and 10 plugins
 * enabled (generated into a plugins.dir): time to /readyz, p50/p99 of a core
 * route and a plugin route under load, and events per second published and
 * delivered end to end (PGlite and PostgreSQL).
 */
import { ServerProcess } from "@streamspace/testing"
import { SQL } from "bun"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const CLIENTS = 16
const LOAD_SECONDS = Number(process.env["BENCH_SECONDS"] ?? 5)
const EVENTS = 5000
const PASSWORD = "bench-root-password"
const pluginsDir = Path.join(import.meta.dir, ".plugins")

const pluginSource = (id: string) => `
import { HttpRoute } from "@streamspace/core"
import { definePlugin, Events, PluginSql, Routes } from "@streamspace/kernel"
import { Effect, Layer, Schema } from "effect"
const Ev = Schema.Struct({ n: Schema.Number })
export default definePlugin({
  id: "${id}", name: "${id}", version: "1.0.0", type: "extension", category: "example",
  migrations: [{ id: 1, name: "t", sql: "CREATE TABLE got (n int NOT NULL); CREATE TABLE got_batch (n int NOT NULL)" }],
  layer: Layer.scopedDiscard(Effect.gen(function*() {
    const sql = yield* PluginSql
    const events = yield* Events
    // bench-1 also takes bench-2's events: the backlog test publishes them while bench-1 is disabled.
    const types = ${JSON.stringify(id === "bench-1" ? ["bench-1.ev", "bench-2.ev"] : [`${id}.ev`])}
    yield* events.subscribe({ name: "got", types }, (e) => sql\`INSERT INTO got VALUES (\${(e.payload as { n: number }).n})\`.pipe(Effect.asVoid))
    yield* events.subscribeBatch({ name: "got-batch", types }, (es) =>
      sql\`INSERT INTO got_batch \${sql.insert(es.map((e) => ({ n: (e.payload as { n: number }).n })))}\`.pipe(Effect.asVoid))
    const routes = yield* Routes
    yield* routes.add(HttpRoute.make({ method: "GET", path: "/ping", summary: "ping", permission: "authenticated", response: Schema.Struct({ ok: Schema.Boolean }), handler: () => Effect.succeed({ ok: true }) }))
    yield* routes.add(HttpRoute.make({ method: "GET", path: "/count", summary: "deliveries so far", permission: "authenticated", response: Schema.Struct({ n: Schema.Number, batch: Schema.Number }),
      handler: () => Effect.map(sql<{ n: number; batch: number }>\`SELECT (SELECT count(*)::int FROM got) AS n, (SELECT count(*)::int FROM got_batch) AS batch\`, (r) => r[0]!) }))
    yield* routes.add(HttpRoute.make({ method: "POST", path: "/publish", summary: "publish", permission: "authenticated",
      body: Schema.Struct({ from: Schema.Number, count: Schema.Number }),
      handler: ({ body }) => Effect.forEach(Array.from({ length: body.count }, (_, i) => body.from + i), (n) => events.publish("${id}.ev", Ev, { n }), { discard: true }) }))
  }))
})
`

const generate = (count: number) => {
  Fs.rmSync(pluginsDir, { recursive: true, force: true })
  const ids = Array.from({ length: count }, (_, i) => `bench-${i + 1}`)
  for (const id of ids) {
    Fs.mkdirSync(Path.join(pluginsDir, id), { recursive: true })
    Fs.writeFileSync(
      Path.join(pluginsDir, id, "package.json"),
      JSON.stringify({ name: id, type: "module", exports: "./index.ts" })
    )
    Fs.writeFileSync(Path.join(pluginsDir, id, "index.ts"), pluginSource(id))
  }
  return ids
}

const percentile = (xs: Array<number>, q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0

const load = async (url: string, token: string, path: string) => {
  const latencies: Array<number> = []
  const deadline = performance.now() + LOAD_SECONDS * 1000
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now()
        const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })
        await res.arrayBuffer()
        latencies.push(performance.now() - t)
      }
    })
  )
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), rps: latencies.length / LOAD_SECONDS }
}

const scenario = async (engine: string, count: number, env: Record<string, string | undefined>) => {
  const ids = generate(count)
  const boot = async () => {
    const started = performance.now()
    const server = await ServerProcess.start({
      ...env,
      STREAMSPACE_ADMIN_PASSWORD: PASSWORD,
      STREAMSPACE_RATE_LIMIT: "false",
      STREAMSPACE_LOG_LEVEL: "warning",
      STREAMSPACE_PLUGINS_DIR: count > 0 ? pluginsDir : undefined,
      STREAMSPACE_PLUGINS: ids.join(",")
    })
    while ((await fetch(`${server.url}/readyz`).catch(() => undefined))?.status !== 200) await Bun.sleep(10)
    return { server, ms: performance.now() - started }
  }
  // The first boot creates the database and installs the plugins; the second is what a restart costs.
  const first = await boot()
  await first.server.stop()
  const { server, ms: ready } = await boot()
  try {
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: PASSWORD })
    })
    const token = ((await login.json()) as { accessToken: string }).accessToken
    const core = await load(server.url, token, "/api/templates")
    const plugin = count > 0 ? await load(server.url, token, `/api/plugins/${ids[0]}/ping`) : undefined
    let events = ""
    if (count > 1) {
      let offset = 0
      const publish = async (count: number, via = ids[0]) => {
        const from = offset
        offset += count
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            fetch(`${server.url}/api/plugins/${via}/publish`, {
              method: "POST",
              headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
              body: JSON.stringify({ from: from + i * (count / 10), count: count / 10 })
            })
          )
        )
      }
      /** When each subscription's table reached `target` rows (performance.now() values). */
      const until = async (target: number) => {
        let single = 0
        let batched = 0
        while (!single || !batched) {
          const res = await fetch(`${server.url}/api/plugins/${ids[0]}/count`, {
            headers: { authorization: `Bearer ${token}` }
          })
          const counts = (await res.json()) as { n: number; batch: number }
          if (!batched && counts.batch >= target) batched = performance.now()
          if (!single && counts.n >= target) single = performance.now()
          await Bun.sleep(10)
        }
        return { single, batched }
      }
      const t = performance.now()
      await publish(EVENTS)
      const published = performance.now() - t
      // Two subscriptions of the same events, side by side: one statement per event, and batches.
      const reached = await until(EVENTS)
      const single = reached.single - t
      const batched = reached.batched - t
      const rate = (ms: number) => `${(ms / 1000).toFixed(2)} s (${(EVENTS / (ms / 1000)).toFixed(0)}/s)`
      events = `events: ${EVENTS} published in ${rate(published)}; delivered end to end: subscribe (a statement per event) ${rate(single)}, subscribeBatch ${rate(batched)}`

      // Delivery alone: a backlog (published by bench-2) that piled up while bench-1 was disabled, drained after it is enabled again.
      const admin = (action: string) =>
        fetch(`${server.url}/api/admin/plugins/${ids[0]}/${action}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}` }
        })
      await admin("disable")
      await publish(EVENTS, ids[1])
      const drainStart = performance.now()
      await admin("enable")
      const drained = await until(2 * EVENTS)
      events += `\n${"".padEnd(20)}backlog of ${EVENTS} drained after enable: subscribe ${rate(drained.single - drainStart)}, subscribeBatch ${rate(drained.batched - drainStart)}`
    }
    console.log(
      `${engine.padEnd(8)} ${String(count).padStart(2)} plugins: restart to /readyz ${ready.toFixed(0)} ms (first boot ${first.ms.toFixed(0)} ms); core GET /api/templates p50 ${core.p50.toFixed(1)} ms p99 ${core.p99.toFixed(1)} ms (${core.rps.toFixed(0)} req/s)` +
        (plugin
          ? `; plugin GET p50 ${plugin.p50.toFixed(1)} ms p99 ${plugin.p99.toFixed(1)} ms (${plugin.rps.toFixed(0)} req/s)`
          : "")
    )
    if (events) console.log(`${"".padEnd(20)}${events}`)
  } finally {
    await server.stop()
  }
}

export const run = async () => {
  const serverUrl =
    process.env["BENCH_DATABASE_URL"] ??
    process.env["TEST_DATABASE_URL"] ??
    "postgres://postgres@127.0.0.1:5432/postgres"
  for (const count of [0, 5, 10]) {
    const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-bench-plugins-"))
    try {
      await scenario("pglite", count, { STREAMSPACE_DATA_DIR: dataDir, DATABASE_URL: undefined })
    } finally {
      Fs.rmSync(dataDir, { recursive: true, force: true })
    }
    const name = `ss_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`
    const admin = new SQL(serverUrl)
    await admin.unsafe(`CREATE DATABASE ${name}`)
    const u = new URL(serverUrl)
    u.pathname = `/${name}`
    try {
      await scenario("postgres", count, { DATABASE_URL: u.toString() })
    } finally {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      for (const {
        rolname
      } of (await admin`SELECT rolname FROM pg_roles WHERE rolname LIKE 'ssp_%_bench_%'`) as Array<{
        rolname: string
      }>) {
        await admin.unsafe(`DROP ROLE IF EXISTS "${rolname}"`)
      }
      await admin.close()
    }
  }
  Fs.rmSync(pluginsDir, { recursive: true, force: true })
}

if (import.meta.main) await run()
