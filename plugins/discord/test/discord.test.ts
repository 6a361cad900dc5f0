import { afterAll, beforeAll, expect, test } from "bun:test"
import discord, { colours } from "@streamspace/plugin-discord"
import { LocalServer, TestPlatform } from "@streamspace/testing"

type Embed = {
  title: string
  description: string
  color: number
  timestamp: string
  fields: ReadonlyArray<{ name: string; value: string }>
}
type DiscordBody = {
  embeds: ReadonlyArray<Embed>
  username?: string
  allowed_mentions?: { parse: ReadonlyArray<string> }
}

/** Discord's documented webhook embed limits. */
const isValid = (b: DiscordBody) =>
  Array.isArray(b.embeds) &&
  b.embeds.length >= 1 &&
  b.embeds.length <= 10 &&
  b.embeds.every(
    (e) =>
      e.title.length <= 256 &&
      e.description.length <= 4096 &&
      Number.isInteger(e.color) &&
      e.color >= 0 &&
      e.color <= 0xffffff &&
      !Number.isNaN(Date.parse(e.timestamp)) &&
      e.fields.length <= 25 &&
      e.fields.every(
        (f: { name: string; value: string }) => f.name.length <= 256 && f.value.length > 0 && f.value.length <= 1024
      )
  )

let throttleFirst = false
const receiver = LocalServer.start((req, i) => {
  if (!isValid(req.json as DiscordBody))
    return Response.json({ message: "Invalid Form Body", code: 50035 }, { status: 400 })
  // Discord's rate limit answer: 429 with retry_after (seconds) in the body.
  if (
    throttleFirst &&
    i === receiver.requests.length - 1 &&
    req.path.endsWith("/throttled") &&
    receiver.requests.filter((r) => r.path.endsWith("/throttled")).length === 1
  ) {
    return Response.json({ message: "You are being rate limited.", retry_after: 0.4, global: false }, { status: 429 })
  }
  return new Response(null, { status: 204 })
})
let p: TestPlatform.TestPlatform
let admin: string

beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [discord],
    config: { plugins: { enabled: ["discord"] }, integrations: { backoffBaseMs: 20, maxAttempts: 3 } }
  })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(async () => {
  await p.close()
  await receiver.stop()
})

const addIntegration = async (name: string, config: Record<string, unknown>) =>
  (
    await p.http<{ id: string }>("POST", "/api/integrations", {
      token: admin,
      body: { provider: "discord", name, config }
    })
  ).body.id

test(`embeds are coloured by severity (${TestPlatform.engine()})`, async () => {
  await addIntegration("alerts", { webhookUrl: `${receiver.url}/api/webhooks/1/tok`, username: "StreamSpace" })
  await p.http("POST", "/api/users", { token: admin, body: { username: "ada", password: "long-enough-pw" } })
  const [created] = await receiver.waitFor(1)
  const users = await p.http<{ items: ReadonlyArray<{ id: string; username: string }> }>("GET", "/api/users", {
    token: admin
  })
  const ada = users.body.items.find((u) => u.username === "ada")!
  await p.emit("quota.exceeded", {
    userId: ada.id,
    scope: "user",
    scopeId: ada.id,
    limit: "sessions",
    max: 1,
    requested: 2
  })
  const [, quota] = await receiver.waitFor(2)
  const first = created!.json as DiscordBody
  expect(first.username).toBe("StreamSpace")
  expect(first.allowed_mentions).toEqual({ parse: [] })
  expect(first.embeds[0]).toMatchObject({ title: "User created", color: colours.info })
  expect((quota!.json as DiscordBody).embeds[0]).toMatchObject({ title: "Quota exceeded", color: colours.warning })
  expect((quota!.json as DiscordBody).embeds[0]!.description).toContain("ada hit the user limit on sessions")
})

test("a 429 is retried after the retry_after Discord asked for", async () => {
  throttleFirst = true
  const id = await addIntegration("throttled", {
    webhookUrl: `${receiver.url}/api/webhooks/2/throttled`,
    events: ["user.created"]
  })
  await p.http("POST", "/api/users", { token: admin, body: { username: "grace", password: "long-enough-pw" } })
  const delivery = await p.eventually(async () => {
    const res = await p.http<{ items: ReadonlyArray<{ status: string; attempts: number; responseCode: number }> }>(
      "GET",
      `/api/integrations/${id}/deliveries`,
      { token: admin }
    )
    return res.body.items[0]?.status === "delivered" ? res.body.items[0] : undefined
  })
  expect(delivery).toMatchObject({ attempts: 2, responseCode: 204 })
  const attempts = receiver.requests.filter((r) => r.path.endsWith("/throttled"))
  expect(attempts).toHaveLength(2)
  // backoffBaseMs is 20 ms here: only the 0.4 s that Discord asked for explains the gap.
  expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(380)
})
