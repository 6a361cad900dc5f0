/**
 * `bun run bench workflows`: executions per second through the workflows
 * plugin's durable engine, on PGlite and on PostgreSQL. An in-process
 * platform with workflows and hello enabled; one manual workflow of four
 * steps — `set`, a conditional `set`, a typed plugin call (`hello.greet`)
 * and a `set` reading its output — each step committing its own row, as in
 * production. EXECUTIONS runs are requested through the API (CLIENTS at a
 * time), and the engine drives them with `workerConcurrency` WORKERS; the
 * figure is executions completed per second from the first request to the
 * last completion (and step runs per second), after WARMUP executions.
 *
 * Env: BENCH_EXECUTIONS (400), BENCH_WARMUP (40), BENCH_CLIENTS (16),
 * BENCH_WORKERS (20), BENCH_DATABASE_URL / TEST_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres; PostgreSQL is skipped when
 * it cannot be reached).
 */
import { SQL } from "bun"
import hello from "@streamspace/plugin-hello"
import workflows from "@streamspace/plugin-workflows"
import { TestPlatform } from "@streamspace/testing"

const EXECUTIONS = Number(process.env["BENCH_EXECUTIONS"] ?? 400)
const WARMUP = Number(process.env["BENCH_WARMUP"] ?? 40)
const CLIENTS = Number(process.env["BENCH_CLIENTS"] ?? 16)
const WORKERS = Number(process.env["BENCH_WORKERS"] ?? 20)
const STEPS = 4

const definition = {
  name: "bench",
  trigger: { type: "manual" },
  concurrency: 100,
  steps: [
    { id: "start", type: "set", variables: { n: "trigger.input.n", doubled: "trigger.input.n * 2" } },
    { id: "big", type: "set", if: "vars.doubled > 10", variables: { big: "true" } },
    { id: "greet", type: "call", plugin: "hello", method: "greet", input: { name: "run {{ vars.n }}" } },
    { id: "done", type: "set", variables: { message: "steps.greet.output.message" } }
  ]
}

const counts = async (p: TestPlatform.TestPlatform) => {
  const rows = await p.query<{ status: string; n: number }>(
    "SELECT status, count(*)::int AS n FROM plugin_workflows.executions GROUP BY status"
  )
  return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>
}

/** Requests `n` runs (CLIENTS at a time) and waits until all executions so far have finished; seconds taken. */
const drive = async (p: TestPlatform.TestPlatform, token: string, workflowId: string, n: number, total: number) => {
  const t0 = performance.now()
  let next = 0
  const client = async () => {
    while (next < n) {
      const i = next++
      const res = await p.http("POST", `/api/plugins/workflows/workflows/${workflowId}/run`, {
        token,
        body: { input: { n: i } }
      })
      if (res.status !== 201) throw new Error(`run: ${res.status} ${res.text}`)
    }
  }
  await Promise.all(Array.from({ length: Math.min(CLIENTS, n) }, client))
  const requested = (performance.now() - t0) / 1000
  for (;;) {
    const c = await counts(p)
    const finished = (c["completed"] ?? 0) + (c["failed"] ?? 0) + (c["cancelled"] ?? 0)
    if (finished >= total) {
      if ((c["failed"] ?? 0) > 0) throw new Error(`failed executions: ${JSON.stringify(c)}`)
      break
    }
    await Bun.sleep(20)
  }
  return { requested, seconds: (performance.now() - t0) / 1000 }
}

const measure = async (label: string) => {
  const p = await TestPlatform.make({
    plugins: [workflows, hello],
    config: { plugins: { enabled: ["hello", "workflows"] } }
  })
  try {
    const admin = await p.login("admin", p.adminPassword)
    const configured = await p.http("PUT", "/api/admin/plugins/workflows/config", {
      token: admin,
      body: { workerConcurrency: WORKERS, pollSeconds: 0.05 }
    })
    if (configured.status !== 200) throw new Error(`config: ${configured.status} ${configured.text}`)
    const created = await p.http<{ id: string }>("POST", "/api/plugins/workflows/workflows", {
      token: admin,
      body: definition
    })
    if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`)
    await drive(p, admin, created.body.id, WARMUP, WARMUP)
    const { requested, seconds } = await drive(p, admin, created.body.id, EXECUTIONS, WARMUP + EXECUTIONS)
    const steps = await p.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM plugin_workflows.step_runs WHERE status IN ('completed', 'skipped')"
    )
    console.log(
      `${label}: ${EXECUTIONS} executions × ${STEPS} steps in ${seconds.toFixed(2)} s = ${(EXECUTIONS / seconds).toFixed(1)} executions/s, ${((EXECUTIONS * STEPS) / seconds).toFixed(0)} steps/s (requests took ${requested.toFixed(2)} s; ${steps[0]!.n} step rows in all; workerConcurrency ${WORKERS})`
    )
  } finally {
    await p.close()
  }
}

const reachable = async (url: string) => {
  const sql = new SQL(url)
  try {
    await sql.unsafe("SELECT 1")
    return true
  } catch (e) {
    console.log(`postgres: skipped, cannot reach it (${e instanceof Error ? e.message : String(e)})`)
    return false
  } finally {
    await sql.close()
  }
}

export const run = async () => {
  const url =
    process.env["BENCH_DATABASE_URL"] ??
    process.env["TEST_DATABASE_URL"] ??
    "postgres://postgres@127.0.0.1:5432/postgres"
  // The test kit picks the engine from TEST_DATABASE_URL when a platform is made.
  delete process.env["TEST_DATABASE_URL"]
  await measure("pglite")
  if (await reachable(url)) {
    process.env["TEST_DATABASE_URL"] = url
    await measure("postgres")
  }
}
