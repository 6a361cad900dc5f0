/**
 * Retention: rows older than `retention.days` that nobody needs go; what a
 * reader, an admin or a replay may still need stays.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { IntegrationDeliveries, Retention } from "@streamspace/core"
import hello from "@streamspace/plugin-hello"
import { TestPlatform } from "@streamspace/testing"
import { Effect } from "effect"

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [hello],
    config: { plugins: { enabled: ["hello"] }, retention: { days: 30, auditDays: 90 } }
  })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())
const old = (days: number) => `now() - interval '${days} days'`
const ids = (rows: ReadonlyArray<{ id: string }>) => rows.map((r) => r.id).sort()

test(`old rows go, needed ones stay (${TestPlatform.engine()})`, async () => {
  // Events of old transactions 5, 6, 7 and 8. The webhook fan-out has read up to 7; a subscription that
  // takes only probe.type has read up to 5; an unreplayed dead letter needs the event of transaction 5.
  const ev = {
    t5: crypto.randomUUID(),
    t6: crypto.randomUUID(),
    t7: crypto.randomUUID(),
    probe: crypto.randomUUID(),
    t8: crypto.randomUUID()
  }
  await p.query(`INSERT INTO events (id, type, source, payload, tx_id, occurred_at) VALUES
    ('${ev.t5}', 'old.event', 'test', '{}', '5', ${old(40)}), ('${ev.t6}', 'old.event', 'test', '{}', '6', ${old(40)}),
    ('${ev.probe}', 'probe.type', 'test', '{}', '6', ${old(40)}), ('${ev.t7}', 'old.event', 'test', '{}', '7', ${old(40)}),
    ('${ev.t8}', 'old.event', 'test', '{}', '8', ${old(40)})`)
  const positionOf = async (id: string) =>
    (await p.query<{ position: string }>(`SELECT position FROM events WHERE id = '${id}'`))[0]!.position
  // Registered first: enabling a webhook moves the fan-out cursor past the events before it.
  const hook = await p.http<{ id: string }>("POST", "/api/webhooks", {
    token: admin,
    body: { name: "retained", url: "https://receiver.invalid/hook", eventTypes: ["retention.never-emitted"] }
  })
  expect(hook.status).toBe(201)
  await p.query(`INSERT INTO event_cursors (name, tx_id, position) VALUES ('webhooks', '7', ${await positionOf(ev.t7)})
    ON CONFLICT (name) DO UPDATE SET tx_id = '7', position = ${await positionOf(ev.t7)}`)
  await p.query(`INSERT INTO plugin_subscriptions (plugin_id, name, event_types, tx_id, position, max_attempts)
    VALUES ('hello', 'retention-probe', '{probe.type}', '5', ${await positionOf(ev.t5)}, 5)`)
  await p.query(`INSERT INTO plugin_dead_letters (id, plugin_id, subscription, event_position, event_id, event_type, attempts, error, created_at)
    VALUES ('dl-1', 'hello', 'greeter', 1, '${ev.t5}', 'old.event', 5, 'boom', ${old(40)})`)

  const integration = await p.http<{ id: string }>("POST", "/api/integrations", {
    token: admin,
    body: { provider: "generic", name: "kept" }
  })
  const enqueue = (key: string) =>
    p.run(
      Effect.flatMap(IntegrationDeliveries.IntegrationDeliveries, (d) =>
        d.enqueue({ integrationId: integration.body.id, dedupeKey: key, subject: "x", payload: {} })
      )
    )
  const [oldDelivered, oldDead, oldRetrying, oldPending, newDelivered] = [
    await enqueue("a"),
    await enqueue("b"),
    await enqueue("c"),
    await enqueue("d"),
    await enqueue("e")
  ]
  // Still being attempted: due tomorrow (so no sender touches them meanwhile), last changed long ago.
  const later = "now() + interval '1 day'"
  await p.query(
    `UPDATE integration_deliveries SET status = 'delivered', updated_at = ${old(40)} WHERE id = '${oldDelivered.id}'`
  )
  await p.query(`UPDATE integration_deliveries SET status = 'dead', updated_at = ${old(40)} WHERE id = '${oldDead.id}'`)
  await p.query(
    `UPDATE integration_deliveries SET status = 'failed', attempts = 3, next_attempt_at = ${later}, updated_at = ${old(40)} WHERE id = '${oldRetrying.id}'`
  )
  await p.query(
    `UPDATE integration_deliveries SET next_attempt_at = ${later}, updated_at = ${old(40)}, created_at = ${old(40)} WHERE id = '${oldPending.id}'`
  )
  await p.query(`UPDATE integration_deliveries SET status = 'delivered' WHERE id = '${newDelivered.id}'`)

  // The same for webhook deliveries: only the old delivered one may go.
  const hookDeliveries = {
    oldDelivered: `'delivered', 1, now(), ${old(40)}`,
    oldDead: `'dead', 8, now(), ${old(40)}`,
    oldRetrying: `'failed', 3, ${later}, ${old(40)}`,
    oldPending: `'pending', 0, ${later}, ${old(40)}`,
    newDelivered: `'delivered', 1, now(), now()`
  }
  for (const [name, values] of Object.entries(hookDeliveries))
    await p.query(`INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload, status, attempts, next_attempt_at, updated_at, created_at)
      VALUES ('wd-${name}', '${hook.body.id}', gen_random_uuid(), 'retention.never-emitted', '{}', ${values}, ${old(40)})`)

  await p.query(
    `INSERT INTO login_attempts (username, ip, at, success) VALUES ('gone', '1.2.3.4', ${old(31)}, false), ('kept', '1.2.3.4', now(), false)`
  )
  await p.query(
    `INSERT INTO audit_log (at, actor, action, result) VALUES (${old(100)}, 'test', 'ancient.action', 'success'), (${old(40)}, 'test', 'recent.action', 'success')`
  )

  const result = await p.run(Effect.flatMap(Retention.Retention, (r) => r.sweep))
  expect(result).toMatchObject({
    events: 2,
    webhookDeliveries: 1,
    integrationDeliveries: 1,
    loginAttempts: 1,
    auditEntries: 1
  })
  const left = () =>
    p.query<{ id: string }>(`SELECT id::text AS id FROM events WHERE type IN ('old.event', 'probe.type')`).then(ids)
  // t6 and t7 were read by everyone who takes them; t5 waits for its dead letter, probe for its subscription, t8 for the fan-out.
  expect(await left()).toEqual([ev.t5, ev.probe, ev.t8].sort())
  expect(
    ids(
      await p.query<{ id: string }>(
        `SELECT id FROM integration_deliveries WHERE integration_id = '${integration.body.id}'`
      )
    )
  ).toEqual([oldDead.id, oldRetrying.id, oldPending.id, newDelivered.id].sort())
  // Dead ones wait for an admin, failed and pending ones for their next attempt: only the delivered one went.
  expect(
    ids(await p.query<{ id: string }>(`SELECT id FROM webhook_deliveries WHERE webhook_id = '${hook.body.id}'`))
  ).toEqual(["wd-newDelivered", "wd-oldDead", "wd-oldPending", "wd-oldRetrying"])
  expect(
    (await p.query<{ username: string }>(`SELECT username FROM login_attempts WHERE ip = '1.2.3.4'`)).map(
      (r) => r.username
    )
  ).toEqual(["kept"])
  expect(
    (await p.query<{ action: string }>(`SELECT action FROM audit_log WHERE actor = 'test'`)).map((r) => r.action)
  ).toEqual(["recent.action"])

  // Once replayed, the dead letter no longer holds its event.
  await p.query(`UPDATE plugin_dead_letters SET replayed_at = now() WHERE id = 'dl-1'`)
  expect((await p.run(Effect.flatMap(Retention.Retention, (r) => r.sweep))).events).toBe(1)
  expect(await left()).toEqual([ev.probe, ev.t8].sort())
})
