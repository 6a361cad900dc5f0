/**
 * Real server processes on one PostgreSQL database.
 *
 * - `kill -9` of the server while a step's HTTP request is in flight, then a
 *   new server: the execution resumes at the step that had not committed.
 *   Committed steps are not run again; the interrupted step without an
 *   idempotency key is run again (at least once); the interrupted step with
 *   a key is not (its outcome is unknown: it fails into its handler).
 * - Two replicas: every cron tick gives one execution, however many times
 *   both run the cron job for the same minute at once.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { LocalServer, ServerDatabase, ServerProcess } from "@streamspace/testing"
import { SQL } from "bun"
import * as Path from "node:path"

const database = await ServerDatabase.create()
let db: SQL
const env = {
  DATABASE_URL: database.url,
  STREAMSPACE_ADMIN_PASSWORD: "workflows-root-password",
  STREAMSPACE_PLUGINS_DIR: Path.join(import.meta.dir, "fixtures/plugins"),
  STREAMSPACE_PLUGINS: "workflows",
  STREAMSPACE_RATE_LIMIT: "false",
  STREAMSPACE_LOG_LEVEL: "warning",
  STREAMSPACE_EGRESS_ALLOW: "127.0.0.1"
}
const servers: Array<ServerProcess.ServerProcess> = []
let peer: LocalServer.LocalServer
let release: () => void = () => undefined
const hold = new Promise<void>((resolve) => {
  release = resolve
})

beforeAll(async () => {
  db = new SQL(database.url)
  peer = LocalServer.start(async (req) => {
    // The first request of each /hang/* path hangs until the test lets it go (the server is killed meanwhile).
    if (req.path.startsWith("/hang/") && peer.requests.filter((r) => r.path === req.path).length === 1) await hold
    return Response.json({ path: req.path })
  })
}, 60_000)

afterAll(async () => {
  release()
  for (const s of servers) await s.stop().catch(() => 0)
  await peer?.stop()
  await db?.close()
  await database.drop()
}, 60_000)

const api = async <T>(
  server: ServerProcess.ServerProcess,
  token: string,
  method: string,
  path: string,
  body?: unknown
) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await res.text()
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return (text ? JSON.parse(text) : undefined) as T
}

const count = (path: string) => peer.requests.filter((r) => r.path === path).length

const waitUntil = async (what: string, check: () => Promise<boolean> | boolean, ms = 40_000) => {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(100)
  }
}

const statusOf = async (id: string) => {
  const [row] = await db`SELECT status, error FROM plugin_workflows.executions WHERE id = ${id}`
  return row as { status: string; error: string | null }
}

test("kill -9 mid-step: a new server resumes at the step that had not committed", async () => {
  const a = await ServerProcess.start(env)
  servers.push(a)
  const token = await ServerProcess.login(a.url, env.STREAMSPACE_ADMIN_PASSWORD)
  await api(a, token, "PUT", "/api/admin/plugins/workflows/config", { leaseSeconds: 3, pollSeconds: 0.2 })
  const flow = (name: string, keyed: boolean) => ({
    name,
    trigger: { type: "manual" },
    steps: [
      { id: "first", type: "http", url: `${peer.url}/${name}/first`, idempotencyKey: "{{ execution.id }}-first" },
      {
        id: "middle",
        type: "http",
        url: `${peer.url}/hang/${name}`,
        timeoutSeconds: 120,
        ...(keyed ? { idempotencyKey: "{{ execution.id }}-middle", onFailure: "handler" } : {})
      },
      { id: "last", type: "http", url: `${peer.url}/${name}/last`, idempotencyKey: "{{ execution.id }}-last" },
      ...(keyed
        ? [
            {
              id: "handler",
              type: "http",
              url: `${peer.url}/${name}/handler`,
              body: { error: "{{ steps.middle.error }}" }
            }
          ]
        : [])
    ]
  })
  // The config change restarted the plugin: wait for its routes.
  let plain: { id: string } | undefined
  await waitUntil("the plugin to come back", async () => {
    plain = await api<{ id: string }>(a, token, "POST", "/api/plugins/workflows/workflows", flow("plain", false)).catch(
      () => undefined
    )
    return plain !== undefined
  })
  const keyed = await api<{ id: string }>(a, token, "POST", "/api/plugins/workflows/workflows", flow("keyed", true))
  const runPlain = await api<{ executionId: string }>(
    a,
    token,
    "POST",
    `/api/plugins/workflows/workflows/${plain!.id}/run`,
    {}
  )
  const runKeyed = await api<{ executionId: string }>(
    a,
    token,
    "POST",
    `/api/plugins/workflows/workflows/${keyed.id}/run`,
    {}
  )
  await waitUntil("both middle steps to be in flight", () => count("/hang/plain") === 1 && count("/hang/keyed") === 1)
  expect(count("/plain/first")).toBe(1)
  expect(count("/keyed/first")).toBe(1)

  a.proc.kill(9)
  await a.proc.exited
  const b = await ServerProcess.start(env)
  servers.push(b)

  await waitUntil("both executions to finish", async () => {
    const [x, y] = await Promise.all([statusOf(runPlain.executionId), statusOf(runKeyed.executionId)])
    return ["completed", "failed"].includes(x.status) && ["completed", "failed"].includes(y.status)
  })
  // No key: committed steps once, the interrupted one again, the rest once.
  expect((await statusOf(runPlain.executionId)).status).toBe("completed")
  expect([count("/plain/first"), count("/hang/plain"), count("/plain/last")]).toEqual([1, 2, 1])
  // With a key: the interrupted step never runs again; its handler runs instead.
  expect((await statusOf(runKeyed.executionId)).status).toBe("completed")
  expect([count("/keyed/first"), count("/hang/keyed"), count("/keyed/last"), count("/keyed/handler")]).toEqual([
    1, 1, 0, 1
  ])
  const handler = peer.requests.find((r) => r.path === "/keyed/handler")!.json as { error: string }
  expect(handler.error).toContain("outcome unknown")
  const steps =
    (await db`SELECT step_id, status, attempts FROM plugin_workflows.step_runs WHERE execution_id = ${runPlain.executionId} ORDER BY step_id`) as Array<{
      step_id: string
      status: string
      attempts: number
    }>
  expect(steps.map((s) => [s.step_id, s.status, s.attempts])).toEqual([
    ["first", "completed", 1],
    ["last", "completed", 1],
    ["middle", "completed", 2]
  ])
}, 120_000)

test("two replicas: one execution per cron tick", async () => {
  const b = servers[servers.length - 1]!
  const c = await ServerProcess.start(env)
  servers.push(c)
  const tokens = await Promise.all([b, c].map((s) => ServerProcess.login(s.url, env.STREAMSPACE_ADMIN_PASSWORD)))
  const wf = await api<{ id: string }>(b, tokens[0]!, "POST", "/api/plugins/workflows/workflows", {
    name: "every minute",
    trigger: { type: "cron", cron: "* * * * *", timeZone: "Europe/Paris" },
    steps: [{ id: "note", type: "set", variables: { tick: "trigger.tick" } }]
  })
  // Both replicas run the job for the same minute, many times at once.
  const statuses = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      fetch(`${[b, c][i % 2]!.url}/api/admin/plugins/workflows/jobs/cron/run`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens[i % 2]}` }
      }).then((r) => r.status)
    )
  )
  for (const s of statuses) expect([200, 409]).toContain(s)
  await waitUntil("the executions to finish", async () => {
    const [row] =
      await db`SELECT count(*)::int AS n FROM plugin_workflows.executions WHERE workflow_id = ${wf.id} AND status <> 'completed'`
    return (row as { n: number }).n === 0
  })
  const rows =
    (await db`SELECT trigger_data->>'tick' AS tick FROM plugin_workflows.executions WHERE workflow_id = ${wf.id}`) as Array<{
      tick: string
    }>
  expect(rows.length).toBeGreaterThanOrEqual(1)
  expect(new Set(rows.map((r) => r.tick)).size).toBe(rows.length)
}, 120_000)
