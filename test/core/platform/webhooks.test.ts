import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { LocalServer, TestPlatform } from "@streamspace/testing"
import { createHmac } from "node:crypto"

let p: TestPlatform.TestPlatform
let admin: string
const servers: Array<LocalServer.LocalServer> = []
beforeAll(async () => {
  p = await TestPlatform.make({ config: { webhooks: { maxAttempts: 3, backoffBaseMs: 50, timeoutMs: 2000 } } })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(async () => {
  for (const s of servers) await s.stop()
  await p.close()
})

interface Problem {
  readonly status: number
  readonly errors?: ReadonlyArray<{ path: string }>
}
interface Delivery {
  readonly id: string
  readonly status: string
  readonly attempts: number
  readonly responseCode: number | null
  readonly lastError: string | null
  readonly eventType: string
}

const receiver = (handler?: LocalServer.Handler) => {
  const s = LocalServer.start(handler)
  servers.push(s)
  return s
}

const register = async (url: string, eventTypes: ReadonlyArray<string> = ["user.created"]) => {
  const res = await p.http<{ id: string; secret: string }>("POST", "/api/webhooks", {
    token: admin,
    body: { name: "test", url, eventTypes }
  })
  expect(res.status).toBe(201)
  return res.body
}

let n = 0
const createUser = () =>
  p.http("POST", "/api/users", { token: admin, body: { username: `hooked-${++n}`, password: "long-enough-pw" } })

const deliveries = (id: string) =>
  p
    .http<{ items: ReadonlyArray<Delivery> }>("GET", `/api/webhooks/${id}/deliveries`, { token: admin })
    .then((r) => r.body.items)

describe(`webhooks (${TestPlatform.engine()})`, () => {
  test("deliveries are signed: HMAC-SHA256 over timestamp and body, verifiable by the receiver", async () => {
    const r = receiver()
    const hook = await register(r.url)
    await createUser()
    const [req] = await r.waitFor(1)
    const timestamp = req!.headers.get("x-streamspace-timestamp")!
    const expected = `sha256=${createHmac("sha256", hook.secret).update(`${timestamp}.${req!.body}`).digest("hex")}`
    expect(req!.headers.get("x-streamspace-signature")).toBe(expected)
    expect(req!.headers.get("x-streamspace-event")).toBe("user.created")
    expect(req!.json).toMatchObject({ type: "user.created", payload: { username: `hooked-${n}` } })
    const items = await p.eventually(async () => {
      const d = await deliveries(hook.id)
      return d[0]?.status === "delivered" ? d : undefined
    })
    expect(items[0]).toMatchObject({ attempts: 1, responseCode: 200, eventType: "user.created" })
  })

  test("a receiver that fails twice then succeeds: one delivered message, three attempts", async () => {
    const r = receiver((_, i) => new Response(i < 2 ? "busy" : "ok", { status: i < 2 ? 503 : 200 }))
    const hook = await register(r.url)
    await createUser()
    const items = await p.eventually(async () => {
      const d = await deliveries(hook.id)
      return d[0]?.status === "delivered" ? d : undefined
    })
    expect(items[0]!.attempts).toBe(3)
    expect(r.requests).toHaveLength(3)
    const ids = new Set(r.requests.map((q) => q.headers.get("x-streamspace-delivery")))
    expect(ids.size).toBe(1)
  })

  test("a receiver down for the whole window: dead, and a replay once it is back delivers once", async () => {
    let up = false
    const r = receiver(() => new Response("", { status: up ? 200 : 500 }))
    const hook = await register(r.url)
    await createUser()
    const dead = await p.eventually(async () => {
      const d = await deliveries(hook.id)
      return d[0]?.status === "dead" ? d[0] : undefined
    })
    expect(dead).toMatchObject({ attempts: 3, responseCode: 500, lastError: "HTTP 500" })
    up = true
    const replay = await p.http<Delivery>("POST", `/api/webhooks/${hook.id}/deliveries/${dead.id}/replay`, {
      token: admin
    })
    expect(replay.status).toBe(202)
    await p.eventually(async () => (await deliveries(hook.id))[0]?.status === "delivered")
    expect(r.requests.filter((q) => q.headers.get("x-streamspace-delivery") === dead.id)).toHaveLength(4)
    expect((await p.http("POST", `/api/webhooks/${hook.id}/deliveries/nope/replay`, { token: admin })).status).toBe(404)
  })

  test("only chosen event types are sent; disabled webhooks get nothing", async () => {
    const r = receiver()
    const hook = await register(r.url, ["session.created"])
    await createUser()
    const other = receiver()
    const all = await register(other.url, ["*"])
    await createUser()
    await other.waitFor(1)
    expect(r.requests).toHaveLength(0)
    await p.http("PATCH", `/api/webhooks/${all.id}`, { token: admin, body: { enabled: false } })
    await createUser()
    await Bun.sleep(300)
    expect(other.requests.every((q) => (q.json as { type: string }).type === "user.created")).toBe(true)
    expect(r.requests).toHaveLength(0)
    expect((await p.http("GET", `/api/webhooks/${hook.id}`, { token: admin })).status).toBe(200)
  })

  test("validation, permissions, secrets never returned, 404 and delete", async () => {
    const bad = await p.http<Problem>("POST", "/api/webhooks", {
      token: admin,
      body: { name: "x", url: "ftp://nope", eventTypes: [] }
    })
    expect(bad.status).toBe(400)
    expect(bad.body.errors?.map((e) => e.path)).toEqual(expect.arrayContaining(["body.url", "body.eventTypes"]))
    expect((await p.http("GET", "/api/webhooks")).status).toBe(401)
    const { token: user } = await p.makeUser("plain-user")
    expect((await p.http("GET", "/api/webhooks", { token: user })).status).toBe(403)
    const hook = await register("http://127.0.0.1:9/never")
    const listed = await p.http("GET", "/api/webhooks", { token: admin })
    expect(listed.text).not.toContain(hook.secret)
    expect((await p.http("GET", `/api/webhooks/${hook.id}`, { token: admin })).text).not.toContain(hook.secret)
    expect((await p.http("DELETE", `/api/webhooks/${hook.id}`, { token: admin })).status).toBe(204)
    expect((await p.http("GET", `/api/webhooks/${hook.id}/deliveries`, { token: admin })).status).toBe(404)
  })
})

if (TestPlatform.engine() === "postgres") {
  test("an event whose transaction commits after a later one is still delivered (no cursor skip)", async () => {
    const { EventOutbox, WebhookDispatcher } = await import("@streamspace/core")
    const { SqlClient } = await import("@effect/sql")
    const { Effect, Fiber } = await import("effect")
    const r = receiver()
    await register(r.url, ["test.late"])
    await p.run(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const outbox = yield* EventOutbox.EventOutbox
        const dispatcher = yield* WebhookDispatcher.WebhookDispatcher
        const written = yield* Effect.makeLatch(false)
        const release = yield* Effect.makeLatch(false)
        // The slow transaction writes first (lower position) and commits last.
        const slow = yield* Effect.fork(
          sql.withTransaction(
            Effect.gen(function* () {
              yield* outbox.publishRaw({ type: "test.late", source: "test", payload: { n: "first" }, actorId: null })
              yield* written.open
              yield* release.await
            })
          )
        )
        yield* written.await
        yield* outbox.publishRaw({ type: "test.late", source: "test", payload: { n: "second" }, actorId: null })
        yield* dispatcher.runOnce
        yield* release.open
        yield* Fiber.join(slow)
        yield* dispatcher.runOnce
      })
    )
    const got = await r.waitFor(2)
    expect(got.map((q) => (q.json as { payload: { n: string } }).payload.n).sort()).toEqual(["first", "second"])
  })
}

test("fan-out follows transaction ids as numbers: events of transactions 9 and 10…158 are all delivered", async () => {
  const r = receiver()
  const hook = await register(r.url, ["ordering.test"])
  // Rows posing as events of old transactions whose ids cross digit boundaries, read from the start.
  const txIds = [9, ...Array.from({ length: 149 }, (_, i) => 10 + i)]
  await p.query(`INSERT INTO events (id, type, source, payload, tx_id)
    SELECT gen_random_uuid(), 'ordering.test', 'test', jsonb_build_object('tx', t), t::text::xid8 FROM unnest(ARRAY[${txIds.join(",")}]) AS t`)
  await p.query("UPDATE event_cursors SET tx_id = '0', position = 0 WHERE name = 'webhooks'")
  await p.eventually(
    async () =>
      (
        await p.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = '${hook.id}'`
        )
      )[0]!.n >= 150 || undefined,
    20_000
  )
  const got = await p.query<{ tx: number }>(
    `SELECT (payload->'payload'->>'tx')::int AS tx FROM webhook_deliveries WHERE webhook_id = '${hook.id}' ORDER BY tx`
  )
  expect(got.map((g) => g.tx)).toEqual(txIds)
})
