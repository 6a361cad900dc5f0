/**
 * Background work coalesces: what the webhook fan-out and the plugins'
 * event delivery write per request, counted by the database itself.
 * Statement-level triggers (a real PostgreSQL mechanism, on PGlite too)
 * record every INSERT and UPDATE statement on the tables these workers
 * write, with its transaction and the number of rows it changed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { DeliveryLoop, EventOutbox, WebhookDispatcher } from "@streamspace/core"
import hello from "@streamspace/plugin-hello"
import { TestPlatform } from "@streamspace/testing"
import { Deferred, Duration, Effect, Ref } from "effect"
import { makeTemplate, makeUser } from "../core/sessions/helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [hello], config: { plugins: { enabled: ["hello"] } } })
  admin = await p.login("admin", p.adminPassword)
  await p.query("CREATE TABLE perf_probe (tbl text NOT NULL, op text NOT NULL, xact xid8 NOT NULL, n bigint NOT NULL)")
  for (const op of ["INSERT", "UPDATE"]) {
    await p.query(`CREATE FUNCTION perf_probe_${op.toLowerCase()}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO perf_probe SELECT TG_TABLE_NAME, TG_OP, pg_current_xact_id(), (SELECT count(*) FROM changed);
        RETURN NULL;
      END $$`)
    for (const table of ["event_cursors", "webhook_deliveries", "plugin_subscriptions"])
      await p.query(`CREATE TRIGGER perf_probe_${op.toLowerCase()} AFTER ${op} ON ${table}
        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION perf_probe_${op.toLowerCase()}()`)
  }
})
afterAll(() => p.close())

interface Probe {
  /** Statements, including those that changed no row. */
  readonly statements: number
  /** Statements that changed rows. */
  readonly changing: number
  readonly transactions: number
  readonly rows: number
}

const probe = async (tables: ReadonlyArray<string>, op?: string): Promise<Probe> => {
  const [row] = await p.query<Probe>(
    `SELECT count(*)::int AS statements, (count(*) FILTER (WHERE n > 0))::int AS changing,
       count(DISTINCT xact)::int AS transactions, COALESCE(sum(n), 0)::int AS rows
     FROM perf_probe WHERE tbl = ANY($1) ${op ? "AND op = $2" : ""}`,
    op ? [tables, op] : [tables]
  )
  return row!
}
const resetProbe = () => p.query("DELETE FROM perf_probe")
const runDispatcher = () => p.run(Effect.flatMap(WebhookDispatcher.WebhookDispatcher, (d) => d.runOnce))
const WEBHOOK_TABLES = ["event_cursors", "webhook_deliveries"]

describe(`background work coalesces (${TestPlatform.engine()})`, () => {
  test("with no webhook, creating sessions costs the webhook fan-out no statement that writes or locks", async () => {
    const template = await makeTemplate(p, admin, "quiet")
    const user = await makeUser(p, admin, "burst-user")
    await resetProbe()
    const N = 20
    for (let i = 0; i < N; i++) {
      const created = await p.http("POST", "/api/sessions", { token: user.token, body: { templateId: template } })
      expect(created.status).toBe(201)
    }
    const written = await p.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM events WHERE type = 'session.created' AND actor_id = $1",
      [user.id]
    )
    expect(written[0]!.n).toBe(N)
    // Whatever pass the loop still had to make, made now.
    await runDispatcher()
    expect(await probe(WEBHOOK_TABLES)).toEqual({ statements: 0, changing: 0, transactions: 0, rows: 0 })
  })

  test("a webhook registered now receives no event from before it; one re-enabled none from while it was off", async () => {
    await p.emit("perf.before", { n: 1 })
    const hook = await p.http<{ id: string }>("POST", "/api/webhooks", {
      token: admin,
      body: { name: "late", url: "http://127.0.0.1:9/never", eventTypes: ["perf.before", "perf.after"] }
    })
    expect(hook.status).toBe(201)
    await p.emit("perf.after", { n: 2 })
    await runDispatcher()
    const types = async () =>
      (
        await p.query<{ event_type: string }>(
          "SELECT event_type FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY created_at, event_type",
          [hook.body.id]
        )
      ).map((d) => d.event_type)
    expect(await types()).toEqual(["perf.after"])

    const patch = (enabled: boolean) =>
      p.http("PATCH", `/api/webhooks/${hook.body.id}`, { token: admin, body: { enabled } })
    expect((await patch(false)).status).toBe(200)
    await p.emit("perf.before", { n: 3 })
    await runDispatcher()
    expect((await patch(true)).status).toBe(200)
    await runDispatcher()
    expect(await types()).toEqual(["perf.after"])
    expect((await p.http("DELETE", `/api/webhooks/${hook.body.id}`, { token: admin })).status).toBe(204)
  })

  test("a burst of events fans out to a webhook in one statement per batch, bodies as before", async () => {
    const hook = await p.http<{ id: string }>("POST", "/api/webhooks", {
      token: admin,
      body: { name: "burst", url: "http://127.0.0.1:9/never", eventTypes: ["perf.burst"] }
    })
    expect(hook.status).toBe(201)
    await resetProbe()
    const N = 50
    // One transaction: every pass either sees none of the burst or all of it.
    const ids = await p.run(
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql.withTransaction(
          Effect.flatMap(EventOutbox.EventOutbox, (outbox) =>
            Effect.forEach(
              Array.from({ length: N }, (_, i) => i),
              (i) => outbox.publishRaw({ type: "perf.burst", source: "test", payload: { i }, actorId: null })
            )
          )
        )
      )
    )
    await runDispatcher()
    const queued = await probe(["webhook_deliveries"], "INSERT")
    expect(queued.rows).toBe(N)
    expect(queued.changing).toBe(1)
    const deliveries = await p.query<{
      event_id: string
      payload: { id: string; type: string; occurredAt: string; actorId: null; payload: { i: number } }
      occurred_at: Date
    }>(
      `SELECT d.event_id::text AS event_id, d.payload, e.occurred_at FROM webhook_deliveries d
       JOIN events e ON e.id = d.event_id WHERE d.webhook_id = $1`,
      [hook.body.id]
    )
    expect(deliveries.map((d) => d.event_id).sort()).toEqual([...ids].sort())
    for (const d of deliveries) {
      expect(d.payload).toEqual({
        id: d.event_id,
        type: "perf.burst",
        occurredAt: d.occurred_at.toISOString(),
        actorId: null,
        payload: { i: expect.any(Number) }
      })
    }
    expect((await p.http("DELETE", `/api/webhooks/${hook.body.id}`, { token: admin })).status).toBe(204)
  })

  test("a plugin subscription is not leased by wake-ups that bring nothing it selects", async () => {
    await p.awaitDelivered()
    await resetProbe()
    const N = 20
    for (let i = 0; i < N; i++) await p.emit("perf.unselected", { i })
    // hello's greeter selects user.created: this one it takes, and once it has, the wake-ups before are over.
    await makeUser(p, admin, "greeted-after-burst")
    await p.awaitDelivered()
    // The greeter's one pass: lease, cursor, release. A claim that finds nothing waiting changes no row.
    const written = await probe(["plugin_subscriptions"], "UPDATE")
    expect(written.changing).toBeLessThanOrEqual(3)
  })
})

test("a burst of nudges a few ms apart makes one delivery pass", async () => {
  const passes = await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const count = yield* Ref.make(0)
        const first = yield* Deferred.make<void>()
        const loop = yield* DeliveryLoop.start({
          name: "probe",
          prepare: Effect.zipRight(
            Ref.update(count, (n) => n + 1),
            Deferred.succeed(first, undefined)
          ),
          claim: Effect.succeed([]),
          attempt: () => Effect.void,
          idle: Effect.succeed(Duration.hours(1)),
          // Wide enough that a busy machine still nudges within it.
          debounce: Duration.millis(300)
        })
        for (let i = 0; i < 5; i++) {
          yield* loop.nudge
          yield* Effect.sleep(Duration.millis(2))
        }
        yield* Deferred.await(first)
        // A second pass would start once the window after a later nudge had passed.
        yield* Effect.sleep(Duration.millis(400))
        return yield* Ref.get(count)
      })
    )
  )
  expect(passes).toBe(1)
})
