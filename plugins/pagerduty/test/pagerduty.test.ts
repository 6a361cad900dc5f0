import { afterAll, beforeAll, expect, test } from "bun:test"
import pagerduty from "@streamspace/plugin-pagerduty"
import { LocalServer, TestPlatform } from "@streamspace/testing"

type PdEvent = {
  client?: string
  routing_key: string
  event_action: string
  dedup_key: string
  payload?: {
    summary: string
    source: string
    severity: string
    timestamp: string
    custom_details: Record<string, string>
  }
}

const routingKey = "R0UT1NGKEY0123456789abcdefabcdef"
/** Events API v2 as PagerDuty documents it: 202 with status "success", 400 for an invalid event. */
let failTriggers = 0
const receiver = LocalServer.start((req) => {
  const e = req.json as PdEvent
  if (e.event_action === "trigger" && failTriggers > 0) {
    failTriggers--
    return Response.json({ status: "unavailable" }, { status: 503 })
  }
  const validTrigger =
    e.event_action !== "trigger" ||
    (!!e.payload &&
      e.payload.summary.length > 0 &&
      e.payload.summary.length <= 1024 &&
      e.payload.source.length > 0 &&
      ["critical", "error", "warning", "info"].includes(e.payload.severity) &&
      !Number.isNaN(Date.parse(e.payload.timestamp)))
  if (
    req.path !== "/v2/enqueue" ||
    e.routing_key !== routingKey ||
    !["trigger", "acknowledge", "resolve"].includes(e.event_action) ||
    !validTrigger
  ) {
    return Response.json(
      { status: "invalid event", message: "Event object is invalid", errors: ["invalid"] },
      { status: 400 }
    )
  }
  return Response.json({ status: "success", message: "Event processed", dedup_key: e.dedup_key }, { status: 202 })
})
let p: TestPlatform.TestPlatform
let admin: string
let integrationId: string
let userId: string

beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [pagerduty],
    config: { plugins: { enabled: ["pagerduty"] }, integrations: { backoffBaseMs: 20, maxAttempts: 3 } }
  })
  admin = await p.login("admin", p.adminPassword)
  const created = await p.http<{ id: string }>("POST", "/api/integrations", {
    token: admin,
    body: {
      provider: "pagerduty",
      name: "on-call",
      config: { routingKey, eventsUrl: `${receiver.url}/v2/enqueue`, severities: { "quota.exceeded": "critical" } }
    }
  })
  expect(created.status).toBe(201)
  integrationId = created.body.id
  userId = (
    await p.http<{ id: string }>("POST", "/api/users", {
      token: admin,
      body: { username: "ada", password: "long-enough-pw" }
    })
  ).body.id
})
afterAll(async () => {
  await p.close()
  await receiver.stop()
})

const sent = () => receiver.requests.map((r) => r.json as PdEvent)

test(`quota exceeded triggers; the user's next session resolves it with the same dedup_key (${TestPlatform.engine()})`, async () => {
  await p.emit("quota.exceeded", { userId, scope: "user", scopeId: userId, limit: "sessions", max: 1, requested: 2 })
  const [triggered] = await receiver.waitFor(1)
  const trigger = triggered!.json as PdEvent
  expect(trigger).toMatchObject({
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key: `streamspace:quota:${userId}`
  })
  expect(trigger.payload).toMatchObject({ severity: "critical", source: "streamspace" })
  expect(trigger.payload!.summary).toContain("Quota exceeded")
  expect(trigger.payload!.custom_details).toMatchObject({ User: "ada", Limit: "sessions (user)" })

  // session.created is not among the selected events, but it ends the quota condition.
  await p.emit("session.created", { sessionId: "s-1", userId, templateId: "t-1", state: "pending" })
  await receiver.waitFor(2)
  expect(sent()[1]).toEqual({
    routing_key: routingKey,
    event_action: "resolve",
    dedup_key: trigger.dedup_key,
    client: "StreamSpace"
  })

  // A second session of the same user has nothing left to resolve.
  await p.emit("session.created", { sessionId: "s-2", userId, templateId: "t-1", state: "pending" })
  await p.awaitDelivered()
  await Bun.sleep(200)
  expect(receiver.requests).toHaveLength(2)
})

test("a failed session triggers with the event's severity; deleting it resolves", async () => {
  const before = receiver.requests.length
  await p.emit("session.failed", {
    sessionId: "s-9",
    userId,
    templateId: "t-1",
    state: "failed",
    reason: "image pull failed"
  })
  await p.emit("session.deleted", { sessionId: "s-9", userId, templateId: "t-1", state: "terminated" })
  await receiver.waitFor(before + 2)
  const [trigger, resolve] = sent().slice(before)
  expect(trigger).toMatchObject({
    event_action: "trigger",
    dedup_key: "streamspace:session:s-9",
    payload: { severity: "error" }
  })
  expect(trigger!.payload!.summary).toContain("image pull failed")
  expect(resolve).toMatchObject({ event_action: "resolve", dedup_key: "streamspace:session:s-9" })
})

test("a resolve never overtakes its trigger: it waits while the trigger is retried", async () => {
  const before = receiver.requests.length
  failTriggers = 2
  const other = (
    await p.http<{ id: string }>("POST", "/api/users", {
      token: admin,
      body: { username: "bea", password: "long-enough-pw" }
    })
  ).body.id
  await p.emit("quota.exceeded", {
    userId: other,
    scope: "user",
    scopeId: other,
    limit: "sessions",
    max: 1,
    requested: 2
  })
  await p.emit("session.created", { sessionId: "s-3", userId: other, templateId: "t-1", state: "pending" })
  await receiver.waitFor(before + 4)
  await Bun.sleep(200)
  expect(
    sent()
      .slice(before)
      .map((e) => `${e.event_action} ${e.dedup_key}`)
  ).toEqual([
    `trigger streamspace:quota:${other}`,
    `trigger streamspace:quota:${other}`,
    `trigger streamspace:quota:${other}`,
    `resolve streamspace:quota:${other}`
  ])
})

test("an invalid event (400) is dead at once; the routing key never appears in responses or errors", async () => {
  const bad = await p.http<{ id: string }>("POST", "/api/integrations", {
    token: admin,
    body: {
      provider: "pagerduty",
      name: "wrong-key",
      config: { routingKey: "WRONGKEY99999999", eventsUrl: `${receiver.url}/v2/enqueue` }
    }
  })
  await p.emit("quota.exceeded", { userId, scope: "user", scopeId: userId, limit: "cpu", max: 2, requested: 4 })
  const dead = await p.eventually(async () => {
    const res = await p.http<{
      items: ReadonlyArray<{ status: string; attempts: number; responseCode: number; lastError: string }>
    }>("GET", `/api/integrations/${bad.body.id}/deliveries?status=dead`, { token: admin })
    return res.body.items[0]
  })
  expect(dead).toMatchObject({ attempts: 1, responseCode: 400 })
  const all = await p.http("GET", `/api/integrations/${bad.body.id}`, { token: admin })
  expect(all.text).not.toContain("WRONGKEY")
  expect((await p.http("GET", `/api/integrations/${integrationId}`, { token: admin })).text).not.toContain(routingKey)
})

test("test notification triggers and resolves its own alert", async () => {
  const before = receiver.requests.length
  const res = await p.http<{ ok: boolean; deliveries: ReadonlyArray<{ status: string }> }>(
    "POST",
    "/api/plugins/pagerduty/test",
    { token: admin, body: { integrationId } }
  )
  expect(res.body).toMatchObject({ ok: true, deliveries: [{ status: "delivered" }, { status: "delivered" }] })
  const [t, r] = sent().slice(before)
  expect(t!.event_action).toBe("trigger")
  expect(r).toMatchObject({ event_action: "resolve", dedup_key: t!.dedup_key })
})

test("a 429 (PagerDuty's throttle answer) is retried until accepted, not dead-lettered", async () => {
  const throttled = LocalServer.start((_, i) =>
    i === 0
      ? Response.json(
          {
            status: "throttle event",
            message: "Requests for this service are arriving too quickly. Please retry later."
          },
          { status: 429 }
        )
      : Response.json({ status: "success", message: "Event processed" }, { status: 202 })
  )
  try {
    const created = await p.http<{ id: string }>("POST", "/api/integrations", {
      token: admin,
      body: {
        provider: "pagerduty",
        name: "throttled",
        config: { routingKey, eventsUrl: `${throttled.url}/v2/enqueue`, events: ["user.created"] }
      }
    })
    expect(created.status).toBe(201)
    const user = await p.http("POST", "/api/users", {
      token: admin,
      body: { username: "throttled", password: "granite-willow-Hm5tRx2-harbour" }
    })
    expect(user.status).toBe(201)
    const delivery = await p.eventually(async () => {
      const res = await p.http<{ items: ReadonlyArray<{ status: string; attempts: number; responseCode: number }> }>(
        "GET",
        `/api/integrations/${created.body.id}/deliveries`,
        { token: admin }
      )
      return res.body.items[0]?.status === "delivered" ? res.body.items[0] : undefined
    })
    expect(delivery).toMatchObject({ attempts: 2, responseCode: 202 })
    expect(throttled.requests.map((r) => (r.json as PdEvent).event_action)).toEqual(["trigger", "trigger"])
  } finally {
    await throttled.stop()
  }
})
