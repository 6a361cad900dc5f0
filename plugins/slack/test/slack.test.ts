import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import slack from "@streamspace/plugin-slack"
import { LocalServer, TestPlatform } from "@streamspace/testing"

type Block = {
  type: string
  text?: { type: string; text: string; emoji?: boolean }
  fields?: ReadonlyArray<{ type: string; text: string }>
  elements?: ReadonlyArray<{ type: string }>
}
type SlackBody = { text: string; channel?: string; blocks: ReadonlyArray<Block> }

/** Checks the Block Kit shape Slack documents for messages: fallback text, header, mrkdwn section, at most 10 fields, context. */
const isBlockKit = (body: SlackBody) => {
  if (typeof body.text !== "string" || !Array.isArray(body.blocks) || body.blocks.length > 50) return false
  return body.blocks.every((b) =>
    b.type === "header"
      ? b.text?.type === "plain_text" && b.text.text.length <= 150
      : b.type === "section"
        ? b.text?.type === "mrkdwn" ||
          (Array.isArray(b.fields) &&
            b.fields.length <= 10 &&
            b.fields.every((f: { type: string }) => f.type === "mrkdwn"))
        : b.type === "context"
          ? Array.isArray(b.elements) && b.elements.length > 0
          : false
  )
}

let p: TestPlatform.TestPlatform
let admin: string
const webhook = LocalServer.start(
  (req) =>
    new Response(isBlockKit(req.json as SlackBody) ? "ok" : "invalid_blocks", {
      status: isBlockKit(req.json as SlackBody) ? 200 : 400
    })
)
const api = LocalServer.start((req) => {
  const body = req.json as SlackBody
  if (req.headers.get("authorization") !== "Bearer xoxb-test-token")
    return Response.json({ ok: false, error: "invalid_auth" })
  if (body.channel === "#missing") return Response.json({ ok: false, error: "channel_not_found" })
  return Response.json(
    isBlockKit(body) ? { ok: true, channel: "C123", ts: "1.2" } : { ok: false, error: "invalid_blocks" }
  )
})

beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [slack],
    config: { plugins: { enabled: ["slack"] }, integrations: { backoffBaseMs: 20, maxAttempts: 3 } }
  })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(async () => {
  await p.close()
  await webhook.stop()
  await api.stop()
})

const integration = async (name: string, config: Record<string, unknown>) => {
  const res = await p.http<{ id: string }>("POST", "/api/integrations", {
    token: admin,
    body: { provider: "slack", name, config }
  })
  expect(res.status).toBe(201)
  return res.body.id
}
const deliveries = async (id: string) =>
  (
    await p.http<{
      items: ReadonlyArray<{
        status: string
        attempts: number
        responseCode: number | null
        lastError: string | null
        subject: string
      }>
    }>("GET", `/api/integrations/${id}/deliveries`, { token: admin })
  ).body.items

describe(`slack (${TestPlatform.engine()})`, () => {
  test("a new user becomes one Block Kit message through the incoming webhook, recorded as delivered", async () => {
    const id = await integration("ops-webhook", { webhookUrl: `${webhook.url}/services/T0/B0/secret-part` })
    await p.http("POST", "/api/users", { token: admin, body: { username: "ada", password: "long-enough-pw" } })
    const [msg] = await webhook.waitFor(1)
    const body = msg!.json as SlackBody
    expect(msg!.path).toBe("/services/T0/B0/secret-part")
    expect(body.blocks[0]).toEqual({ type: "header", text: { type: "plain_text", text: "User created", emoji: true } })
    expect(body.text).toContain("ada")
    await p.eventually(async () => (await deliveries(id))[0]?.status === "delivered")
    expect(await deliveries(id)).toEqual([
      expect.objectContaining({ subject: "user.created", status: "delivered", attempts: 1, responseCode: 200 })
    ])
    expect(p.outgoing.filter((o) => o.url.startsWith(webhook.url))).toHaveLength(1)
    await p.http("PATCH", `/api/integrations/${id}`, { token: admin, body: { enabled: false } })
  })

  test("bot token mode posts to chat.postMessage with the channel; a permanent API error is dead at once", async () => {
    const good = await integration("bot", {
      botToken: "xoxb-test-token",
      channel: "#ops",
      apiUrl: `${api.url}/api`,
      events: ["user.created"]
    })
    const missing = await integration("bot-missing", {
      botToken: "xoxb-test-token",
      channel: "#missing",
      apiUrl: `${api.url}/api`,
      events: ["user.created"]
    })
    await p.http("POST", "/api/users", { token: admin, body: { username: "grace", password: "long-enough-pw" } })
    await p.eventually(
      async () =>
        (await deliveries(good))[0]?.status === "delivered" && (await deliveries(missing))[0]?.status === "dead"
    )
    const posted = api.requests.filter((r) => (r.json as SlackBody).channel === "#ops")
    expect(posted).toHaveLength(1)
    expect(posted[0]!.path).toBe("/api/chat.postMessage")
    expect(await deliveries(missing)).toEqual([
      expect.objectContaining({ status: "dead", attempts: 1, lastError: "Slack API: channel_not_found" })
    ])
    for (const id of [good, missing]) await p.http("DELETE", `/api/integrations/${id}`, { token: admin })
  })

  test("events and filters choose what is sent", async () => {
    const before = webhook.requests.length
    const id = await integration("only-bob-sessions", {
      webhookUrl: `${webhook.url}/hooks/filtered`,
      events: ["user.*"],
      filters: { users: ["bob"] }
    })
    await p.http("POST", "/api/users", { token: admin, body: { username: "carol", password: "long-enough-pw" } })
    await p.http("POST", "/api/users", { token: admin, body: { username: "bob", password: "long-enough-pw" } })
    await p.awaitDelivered()
    await p.eventually(
      async () => (await deliveries(id)).length === 1 && (await deliveries(id))[0]!.status === "delivered"
    )
    const sent = webhook.requests.slice(before).filter((r) => r.path === "/hooks/filtered")
    expect(sent).toHaveLength(1)
    expect((sent[0]!.json as SlackBody).text).toContain("bob")
    await p.http("DELETE", `/api/integrations/${id}`, { token: admin })
  })

  test("config is validated by the plugin's Schema: 400 naming the field, nothing stored", async () => {
    const none = await p.http<{ errors: ReadonlyArray<{ path: string }> }>("POST", "/api/integrations", {
      token: admin,
      body: { provider: "slack", name: "broken", config: {} }
    })
    expect(none.status).toBe(400)
    expect(none.body.errors.map((e) => e.path)).toEqual(["body.config.webhookUrl"])
    const badUrl = await p.http<{ errors: ReadonlyArray<{ path: string; message: string }> }>(
      "POST",
      "/api/integrations",
      {
        token: admin,
        body: {
          provider: "slack",
          name: "broken",
          config: { webhookUrl: "not a url with secret-ish", events: ["no such thing!"] }
        }
      }
    )
    expect(badUrl.status).toBe(400)
    expect(badUrl.body.errors.map((e) => e.path).sort()).toEqual(["body.config.events.0", "body.config.webhookUrl"])
    expect(JSON.stringify(badUrl.body)).not.toContain("secret-ish")
    expect(
      (await p.http<{ items: unknown[] }>("GET", "/api/integrations?provider=slack", { token: admin })).body.items.some(
        (i) => (i as { name: string }).name === "broken"
      )
    ).toBe(false)
  })

  test("the webhook URL and token are masked on read and never in responses", async () => {
    const id = await integration("masked", { botToken: "xoxb-test-token", channel: "#ops", apiUrl: `${api.url}/api` })
    const read = await p.http<{ config: Record<string, unknown>; secretFields: ReadonlyArray<string> }>(
      "GET",
      `/api/integrations/${id}`,
      { token: admin }
    )
    expect(read.body.config["botToken"]).toBe("********")
    expect(read.body.secretFields).toContain("botToken")
    expect(read.text).not.toContain("xoxb-test-token")
    await p.http("DELETE", `/api/integrations/${id}`, { token: admin })
  })

  test("send test notification: sent now, answered with the delivery; unknown integration 404; users 403", async () => {
    const id = await integration("test-target", { webhookUrl: `${webhook.url}/hooks/test` })
    const res = await p.http<{ ok: boolean; deliveries: ReadonlyArray<{ status: string; subject: string }> }>(
      "POST",
      "/api/plugins/slack/test",
      { token: admin, body: { integrationId: id, message: "hello from the test" } }
    )
    expect(res.status).toBe(200)
    expect(res.body.ok).toBe(true)
    expect(res.body.deliveries).toEqual([expect.objectContaining({ status: "delivered", subject: "test" })])
    const got = webhook.requests.filter((r) => r.path === "/hooks/test")
    expect(got).toHaveLength(1)
    expect((got[0]!.json as SlackBody).text).toContain("hello from the test")
    expect(
      (await p.http("POST", "/api/plugins/slack/test", { token: admin, body: { integrationId: "nope" } })).status
    ).toBe(404)
    expect(
      (
        await p.http<{ errors: ReadonlyArray<{ path: string }> }>("POST", "/api/plugins/slack/test", {
          token: admin,
          body: {}
        })
      ).body.errors[0]?.path
    ).toBe("body.integrationId")
    const { token: plain } = await p.makeUser("plain")
    expect(
      (await p.http("POST", "/api/plugins/slack/test", { token: plain, body: { integrationId: id } })).status
    ).toBe(403)
  })
})

describe(`slack rate limits are retried, never dead letters (${TestPlatform.engine()})`, () => {
  let users = 0
  const createUser = async () => {
    const res = await p.http("POST", "/api/users", {
      token: admin,
      body: { username: `throttled-${++users}`, password: "amber-kettle-Wq7rTz4-meadow" }
    })
    expect(res.status).toBe(201)
  }
  const delivered = (id: string) =>
    p.eventually(async () => (await deliveries(id)).find((d) => d.status === "delivered"))

  test("an incoming webhook's HTTP 429 is retried after its Retry-After", async () => {
    const throttled = LocalServer.start((_, i) =>
      i === 0
        ? new Response("rate_limited", { status: 429, headers: { "retry-after": "1" } })
        : new Response("ok", { status: 200 })
    )
    try {
      const id = await integration("throttled-webhook", {
        webhookUrl: `${throttled.url}/services/T0/B0/throttled`,
        events: ["user.created"]
      })
      await createUser()
      expect(await delivered(id)).toMatchObject({ attempts: 2, responseCode: 200, lastError: null })
      expect(throttled.requests).toHaveLength(2)
      // backoffBaseMs is 20 ms here: only the Retry-After of one second explains the gap.
      expect(throttled.requests[1]!.at - throttled.requests[0]!.at).toBeGreaterThanOrEqual(950)
      await p.http("DELETE", `/api/integrations/${id}`, { token: admin })
    } finally {
      await throttled.stop()
    }
  })

  test('the Web API\'s {"ok": false, "error": "ratelimited"} is retried, not treated as permanent', async () => {
    const web = LocalServer.start((_, i) =>
      i === 0
        ? Response.json({ ok: false, error: "ratelimited" })
        : Response.json({ ok: true, channel: "C1", ts: "1.1" })
    )
    try {
      const id = await integration("ratelimited-api", {
        botToken: "xoxb-test-token",
        channel: "#ops",
        apiUrl: `${web.url}/api`,
        events: ["user.created"]
      })
      await createUser()
      // Treated as permanent, the first answer would leave the delivery dead after one attempt.
      expect(await delivered(id)).toMatchObject({ attempts: 2, responseCode: 200 })
      expect(web.requests.map((r) => r.path)).toEqual(["/api/chat.postMessage", "/api/chat.postMessage"])
      await p.http("DELETE", `/api/integrations/${id}`, { token: admin })
    } finally {
      await web.stop()
    }
  })

  test("the Web API's HTTP 429 with ratelimited and Retry-After is retried after it", async () => {
    const web = LocalServer.start((_, i) =>
      i === 0
        ? Response.json({ ok: false, error: "ratelimited" }, { status: 429, headers: { "retry-after": "1" } })
        : Response.json({ ok: true, channel: "C1", ts: "1.2" })
    )
    try {
      const id = await integration("ratelimited-429", {
        botToken: "xoxb-test-token",
        channel: "#ops",
        apiUrl: `${web.url}/api`,
        events: ["user.created"]
      })
      await createUser()
      expect(await delivered(id)).toMatchObject({ attempts: 2, responseCode: 200 })
      expect(web.requests).toHaveLength(2)
      expect(web.requests[1]!.at - web.requests[0]!.at).toBeGreaterThanOrEqual(950)
      await p.http("DELETE", `/api/integrations/${id}`, { token: admin })
    } finally {
      await web.stop()
    }
  })
})
