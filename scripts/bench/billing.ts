/**
 * `bun run bench billing`: how fast billing meters session events on
 * PostgreSQL. An in-process platform with billing enabled; session events as
 * the core writes them (created, started, hibernated, woken, deleted: five
 * per session) go into the outbox, and the metering subscription is timed
 * until it has caught up:
 *
 * 1. backlog: EVENTS events written while billing is disabled, then enabled:
 *    events metered per second from the enable to the caught-up cursor;
 * 2. live: RATE events/s written for SECONDS seconds while enabled: how far
 *    behind metering is when the writing stops (it keeps up if that is under
 *    a second or so of events).
 *
 * Target (issue 13): ≥ 2,000 events/s. Env: BENCH_EVENTS (20000),
 * BENCH_RATE (2500), BENCH_SECONDS (8), BENCH_DATABASE_URL / TEST_DATABASE_URL
 * (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import billing from "@streamspace/plugin-billing"
import { TestPlatform } from "@streamspace/testing"

const EVENTS = Number(process.env["BENCH_EVENTS"] ?? 20_000)
const RATE = Number(process.env["BENCH_RATE"] ?? 2_500)
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 8)
const TYPES = ["session.created", "session.started", "session.hibernated", "session.woken", "session.deleted"]

/** `sessions` sessions × 5 events, each session's in order, in one statement. */
const write = (p: TestPlatform.TestPlatform, sessions: number, tag: string) =>
  p.query(
    `INSERT INTO events (id, type, source, payload)
     SELECT gen_random_uuid(), ($3::text[])[k], 'core',
       jsonb_build_object('sessionId', $1 || '-' || s, 'userId', 'bench-user-' || (s % 50), 'templateId', 'bench-template',
         'state', CASE k WHEN 1 THEN 'pending' WHEN 3 THEN 'hibernated' WHEN 5 THEN 'terminated' ELSE 'running' END)
     FROM generate_series(1, $2::int) AS s, generate_series(1, 5) AS k ORDER BY s, k`,
    [tag, sessions, TYPES]
  )

const metered = async (p: TestPlatform.TestPlatform) =>
  (await p.query<{ n: number }>("SELECT count(*)::int AS n FROM plugin_billing.meter_transitions"))[0]!.n

export const run = async () => {
  const url =
    process.env["BENCH_DATABASE_URL"] ??
    process.env["TEST_DATABASE_URL"] ??
    "postgres://postgres@127.0.0.1:5432/postgres"
  process.env["TEST_DATABASE_URL"] = url
  const p = await TestPlatform.make({ plugins: [billing], config: { plugins: { enabled: ["billing"] } } })
  try {
    const admin = await p.login("admin", p.adminPassword)
    const lifecycle = async (action: string) => {
      const res = await p.http("POST", `/api/admin/plugins/billing/${action}`, { token: admin })
      if (res.status !== 200) throw new Error(`${action}: ${res.status} ${res.text}`)
    }

    // 1. A backlog.
    await lifecycle("disable")
    await write(p, Math.ceil(EVENTS / 5), "backlog")
    const before = await metered(p)
    const t0 = performance.now()
    await lifecycle("enable")
    await p.awaitDelivered(300_000)
    const seconds = (performance.now() - t0) / 1000
    const n = (await metered(p)) - before
    console.log(
      `backlog: ${n} session events metered in ${seconds.toFixed(2)} s = ${Math.round(n / seconds)} events/s (target ≥ 2000) ${n / seconds >= 2000 ? "PASS" : "FAIL"}`
    )

    // 2. Live, at RATE events/s in 100 ms slices.
    const start = await metered(p)
    const perSlice = Math.max(1, Math.round(RATE / 10 / 5))
    const began = performance.now()
    for (let i = 0; i < SECONDS * 10; i++) {
      await write(p, perSlice, `live-${i}`)
      const wait = began + (i + 1) * 100 - performance.now()
      if (wait > 0) await Bun.sleep(wait)
    }
    const written = SECONDS * 10 * perSlice * 5
    const writtenRate = written / ((performance.now() - began) / 1000)
    const lag = written - ((await metered(p)) - start)
    const t1 = performance.now()
    await p.awaitDelivered(300_000)
    console.log(
      `live: ${written} events written at ${Math.round(writtenRate)}/s; ${lag} behind when writing stopped, caught up ${((performance.now() - t1) / 1000).toFixed(2)} s later`
    )
  } finally {
    await p.close()
  }
}
