/**
 * `bun run bench background`: what background delivery costs the database
 * per event write on PostgreSQL. An in-process platform with no webhook and
 * no plugin; 32 concurrent writers publish EVENTS events, one transaction
 * each, 20 ms apart (a client's request loop); the database's committed transactions (pg_stat_database, read
 * after the statistics were flushed) less the writers' own and less the
 * platform's idle rate are the background's, printed per event. Then the same
 * with one enabled webhook that selects none of the events.
 *
 * Env: BENCH_EVENTS (400), TEST_DATABASE_URL / BENCH_DATABASE_URL
 * (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { EventOutbox } from "@streamspace/core"
import { TestPlatform } from "@streamspace/testing"
import { SQL } from "bun"
import { Effect } from "effect"

const EVENTS = Number(process.env["BENCH_EVENTS"] ?? 400)
const WRITERS = 32
const WORK_MS = 20

/** The database's committed transactions, read from another database (so that reading them is not counted). */
const committed = async (server: SQL, database: string) => {
  const [row] = await server<Array<{ n: string }>>`
    SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = ${database}`
  return Number(row!.n)
}

/** An idle backend flushes its statistics within ten seconds (PGSTAT_IDLE_INTERVAL): every reading waits this long first. */
const FLUSH_MS = 11_000

const burst = (p: TestPlatform.TestPlatform) =>
  p.run(
    Effect.flatMap(EventOutbox.EventOutbox, (outbox) =>
      Effect.forEach(
        Array.from({ length: EVENTS }, (_, i) => i),
        // Each writer stands for a client whose requests take a few ms of server work besides the write.
        (i) =>
          Effect.zipRight(
            outbox.publishRaw({ type: "bench.background", source: "bench", payload: { i }, actorId: null }),
            Effect.sleep(`${WORK_MS} millis`)
          ),
        { concurrency: WRITERS, discard: true }
      )
    )
  )

const measure = async (p: TestPlatform.TestPlatform, server: SQL, label: string) => {
  const [db] = await p.query<{ name: string }>("SELECT current_database() AS name")
  const read = async () => {
    await Bun.sleep(FLUSH_MS)
    return { n: await committed(server, db!.name), at: performance.now() }
  }
  // The platform's own pollers commit while idle too: their rate over a quiet window is taken off.
  const quiet = await read()
  const before = await read()
  const idlePerMs = (before.n - quiet.n) / (before.at - quiet.at)
  await burst(p)
  const after = await read()
  const background = Math.round(after.n - before.n - EVENTS - idlePerMs * (after.at - before.at))
  console.log(
    `${label}: ~${background} background transactions for ${EVENTS} events (${(background / EVENTS).toFixed(2)} per event; idle ${(idlePerMs * 1000).toFixed(1)}/s taken off)`
  )
}

export const run = async () => {
  const url =
    process.env["BENCH_DATABASE_URL"] ??
    process.env["TEST_DATABASE_URL"] ??
    "postgres://postgres@127.0.0.1:5432/postgres"
  process.env["TEST_DATABASE_URL"] = url
  const server = new SQL(url)
  const p = await TestPlatform.make()
  try {
    await measure(p, server, "no webhook")
    const admin = await p.login("admin", p.adminPassword)
    const hook = await p.http("POST", "/api/webhooks", {
      token: admin,
      body: { name: "bench", url: "http://127.0.0.1:9/never", eventTypes: ["bench.never"] }
    })
    if (hook.status !== 201) throw new Error(`webhook not created: ${hook.status} ${hook.text}`)
    await measure(p, server, "one webhook selecting none of them")
  } finally {
    await p.close()
    await server.close()
  }
}
