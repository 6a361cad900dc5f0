/**
 * Two server processes on one PostgreSQL database, both running node-manager
 * against one Kubernetes API (the test's): sessions launched through either
 * replica, at the same time, are placed round-robin from the one shared
 * cursor, so each node gets its fair share; the health job runs once per
 * tick across both (one history row per node per tick, one job run per tick).
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { FakeKubeApiServer, ServerDatabase, ServerProcess } from "@streamspace/testing"
import { SQL } from "bun"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const NODES = ["node-a", "node-b", "node-c"]
const SESSIONS = 12

const database = await ServerDatabase.create()
const api = FakeKubeApiServer.start({ autoReady: true })
const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-nodes-replicas-"))
const kubeconfig = Path.join(dir, "kubeconfig")
Fs.writeFileSync(kubeconfig, api.kubeconfig())
for (const n of NODES) api.addNode(n, { cpu: "64", memory: "256Gi" })

const env = {
  DATABASE_URL: database.url,
  STREAMSPACE_ADMIN_PASSWORD: "node-manager-root-password",
  STREAMSPACE_PLUGINS_DIR: Path.join(import.meta.dir, "fixtures/plugins"),
  STREAMSPACE_PLUGINS: "node-manager",
  STREAMSPACE_RATE_LIMIT: "false",
  STREAMSPACE_LOG_LEVEL: "warning",
  SESSION_RUNTIME: "kubernetes",
  KUBECONFIG: kubeconfig,
  STREAMSPACE_K8S_NAMESPACE: "desktops"
}
let a: ServerProcess.ServerProcess
let b: ServerProcess.ServerProcess
let db: SQL
let tokens: Array<string> = []

const call = async <A>(i: number, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${[a, b][i % 2]!.url}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${tokens[i % 2]}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await res.text()
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return JSON.parse(text) as A
}

beforeAll(async () => {
  a = await ServerProcess.start(env)
  tokens = [await ServerProcess.login(a.url, env.STREAMSPACE_ADMIN_PASSWORD)]
  // The config is the database's: B reads it when it starts (A restarts the plugin with it).
  await call(0, "PUT", "/api/admin/plugins/node-manager/config", {
    placement: { strategy: "round-robin" },
    healthCheck: { interval: 5 }
  })
  b = await ServerProcess.start(env)
  tokens.push(await ServerProcess.login(b.url, env.STREAMSPACE_ADMIN_PASSWORD))
  db = new SQL(database.url)
}, 180_000)

afterAll(async () => {
  await a?.stop().catch(() => 0)
  await b?.stop().catch(() => 0)
  await db?.close()
  await database.drop()
  await api.stop()
  Fs.rmSync(dir, { recursive: true, force: true })
}, 60_000)

test("sessions launched through both replicas at once are placed round-robin from one cursor", async () => {
  const template = await call<{ id: string }>(0, "POST", "/api/templates", {
    name: "xfce",
    displayName: "XFCE",
    image: "example/xfce:4.18",
    defaultCpu: 500,
    defaultMemory: 1024
  })
  // Alternating replicas, all at once: each replica places the sessions its requests recorded.
  const ids = await Promise.all(
    Array.from({ length: SESSIONS }, (_, i) =>
      call<{ id: string }>(i, "POST", "/api/sessions", { templateId: template.id }).then((s) => s.id)
    )
  )
  const deadline = Date.now() + 60_000
  const nodeOf = (id: string) =>
    api.pods().find((p) => p.metadata.labels?.["streamspace.io/session"] === id)?.spec?.["nodeName"] as
      | string
      | undefined
  while (ids.some((id) => nodeOf(id) === undefined)) {
    if (Date.now() > deadline) throw new Error("sessions were not placed")
    await Bun.sleep(100)
  }
  const counts = new Map<string, number>()
  for (const id of ids) counts.set(nodeOf(id)!, (counts.get(nodeOf(id)!) ?? 0) + 1)
  expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(NODES.map((n) => [n, SESSIONS / NODES.length])))
  // Every placement took its own position of the one cursor: no position was handed out twice.
  const [cursor] =
    (await db`SELECT position::int AS position FROM plugin_node_manager.placement_cursors WHERE scope = 'default'`) as Array<{
      position: number
    }>
  expect(cursor?.position).toBe(SESSIONS)
  const placements = (await db`SELECT node, strategy FROM plugin_node_manager.placements`) as Array<{
    node: string
    strategy: string
  }>
  expect(placements).toHaveLength(SESSIONS)
  expect(placements.every((p) => p.strategy === "round-robin")).toBe(true)
  // Each pod runs where its placement said (the nodeSelector held).
  for (const id of ids) {
    const [row] = (await db`SELECT node FROM plugin_node_manager.placements WHERE session_id = ${id}`) as Array<{
      node: string
    }>
    expect(row?.node).toBe(nodeOf(id)!)
  }
}, 120_000)

test("the health job runs once per tick across both replicas", async () => {
  const deadline = Date.now() + 60_000
  for (;;) {
    const [row] = (await db`SELECT count(*)::int AS n FROM plugin_job_runs
      WHERE plugin_id = 'node-manager' AND job = 'health-check' AND finished_at IS NOT NULL`) as Array<{ n: number }>
    if ((row?.n ?? 0) >= 3) break
    if (Date.now() > deadline) throw new Error("the health job did not run three times")
    await Bun.sleep(250)
  }
  const runs = (await db`SELECT tick, outcome FROM plugin_job_runs
    WHERE plugin_id = 'node-manager' AND job = 'health-check' AND finished_at IS NOT NULL ORDER BY tick`) as Array<{
    tick: Date
    outcome: string
  }>
  expect(new Set(runs.map((r) => r.tick.getTime())).size).toBe(runs.length)
  expect(runs.every((r) => r.outcome === "success")).toBe(true)
  // One history row per node per run: a tick that two replicas both ran would write six.
  const perCheck = (await db`SELECT at, count(*)::int AS n, count(DISTINCT node)::int AS nodes
    FROM plugin_node_manager.node_health_history GROUP BY at`) as Array<{ n: number; nodes: number }>
  expect(perCheck.length).toBeGreaterThanOrEqual(runs.length)
  for (const c of perCheck) expect(c).toEqual({ ...c, n: NODES.length, nodes: NODES.length })
}, 90_000)
