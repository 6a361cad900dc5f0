import { afterAll, beforeAll, expect, test } from "bun:test"
import teams from "@streamspace/plugin-teams"
import { LocalServer, TestPlatform } from "@streamspace/testing"

type Element = { type: string; text?: string; facts?: ReadonlyArray<{ title: unknown; value: unknown }> }
type Card = { type: string; version: string; $schema: string; body: ReadonlyArray<Element> }
type TeamsBody = {
  type: string
  attachments: ReadonlyArray<{ contentType: string; contentUrl: unknown; content: Card }>
}

/** The message shape Teams incoming webhooks document for Adaptive Cards. */
const isAdaptiveCardMessage = (b: TeamsBody) =>
  b.type === "message" &&
  Array.isArray(b.attachments) &&
  b.attachments.length === 1 &&
  b.attachments.every(
    (a) =>
      a.contentType === "application/vnd.microsoft.card.adaptive" &&
      a.contentUrl === null &&
      a.content.type === "AdaptiveCard" &&
      /^1\.\d$/.test(a.content.version) &&
      a.content.$schema === "http://adaptivecards.io/schemas/adaptive-card.json" &&
      a.content.body.every(
        (e: Element) =>
          (e.type === "TextBlock" && typeof e.text === "string") ||
          (e.type === "FactSet" &&
            Array.isArray(e.facts) &&
            e.facts.every(
              (f: { title: unknown; value: unknown }) => typeof f.title === "string" && typeof f.value === "string"
            ))
      )
  )

const receiver = LocalServer.start((req) =>
  isAdaptiveCardMessage(req.json as TeamsBody)
    ? new Response(null, { status: 202 })
    : new Response("Bad card", { status: 400 })
)
let p: TestPlatform.TestPlatform
let admin: string

beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [teams],
    config: { plugins: { enabled: ["teams"] }, integrations: { backoffBaseMs: 20, maxAttempts: 3 } }
  })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(async () => {
  await p.close()
  await receiver.stop()
})

test(`an event becomes an Adaptive Card through the incoming webhook (${TestPlatform.engine()})`, async () => {
  const created = await p.http<{ id: string }>("POST", "/api/integrations", {
    token: admin,
    body: { provider: "teams", name: "ops", config: { webhookUrl: `${receiver.url}/webhookb2/abc` } }
  })
  expect(created.status).toBe(201)
  await p.http("POST", "/api/users", {
    token: admin,
    body: { username: "ada", password: "long-enough-pw", email: "ada@example.com" }
  })
  const [msg] = await receiver.waitFor(1)
  const card = (msg!.json as TeamsBody).attachments[0]!.content
  expect(card.body[0]).toMatchObject({ type: "TextBlock", text: "User created", weight: "Bolder" })
  expect(card.body.find((e) => e.type === "FactSet")?.facts).toContainEqual({
    title: "Email",
    value: "ada@example.com"
  })
  const items = await p.eventually(async () => {
    const res = await p.http<{ items: ReadonlyArray<{ status: string; responseCode: number }> }>(
      "GET",
      `/api/integrations/${created.body.id}/deliveries`,
      { token: admin }
    )
    return res.body.items[0]?.status === "delivered" ? res.body.items : undefined
  })
  expect(items).toEqual([expect.objectContaining({ status: "delivered", responseCode: 202 })])
})

test("the webhook URL is required, validated and masked", async () => {
  const missing = await p.http<{ errors: ReadonlyArray<{ path: string }> }>("POST", "/api/integrations", {
    token: admin,
    body: { provider: "teams", name: "bad", config: {} }
  })
  expect(missing.status).toBe(400)
  expect(missing.body.errors.map((e) => e.path)).toEqual(["body.config.webhookUrl"])
  const list = await p.http("GET", "/api/integrations?provider=teams", { token: admin })
  expect(list.text).not.toContain("webhookb2")
  expect(list.text).toContain("********")
})

test("send test notification", async () => {
  const [integration] = (
    await p.http<{ items: ReadonlyArray<{ id: string }> }>("GET", "/api/integrations?provider=teams", { token: admin })
  ).body.items
  const res = await p.http<{ ok: boolean }>("POST", "/api/plugins/teams/test", {
    token: admin,
    body: { integrationId: integration!.id }
  })
  expect(res.body.ok).toBe(true)
  expect((receiver.requests.at(-1)!.json as TeamsBody).attachments[0]!.content.body[0]!.text).toBe("Test notification")
})

test("a 429 from the incoming webhook is retried after its Retry-After, not dead-lettered", async () => {
  const throttled = LocalServer.start((req, i) =>
    i === 0
      ? new Response("Microsoft Teams endpoint returned HTTP error 429", {
          status: 429,
          headers: { "retry-after": "1" }
        })
      : isAdaptiveCardMessage(req.json as TeamsBody)
        ? new Response(null, { status: 202 })
        : new Response("Bad card", { status: 400 })
  )
  try {
    const created = await p.http<{ id: string }>("POST", "/api/integrations", {
      token: admin,
      body: {
        provider: "teams",
        name: "throttled",
        config: { webhookUrl: `${throttled.url}/webhookb2/throttled`, events: ["user.created"] }
      }
    })
    expect(created.status).toBe(201)
    const user = await p.http("POST", "/api/users", {
      token: admin,
      body: { username: "throttled", password: "copper-lantern-Xv3kPq8-orchard" }
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
    expect(throttled.requests).toHaveLength(2)
    // backoffBaseMs is 20 ms here: only the Retry-After of one second explains the gap.
    expect(throttled.requests[1]!.at - throttled.requests[0]!.at).toBeGreaterThanOrEqual(950)
  } finally {
    await throttled.stop()
  }
})
