/**
 * What every notification plugin gets from @streamspace/notify and the
 * core's dispatcher, exercised through the Slack plugin against a real local
 * receiver: retries, dead letters and replay, secrets kept out of errors,
 * deliveries waiting for a disabled plugin, plugin events.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import slack from "@streamspace/plugin-slack"
import { LocalServer, TestPlatform } from "@streamspace/testing"

type Delivery = {
  id: string
  status: string
  attempts: number
  responseCode: number | null
  lastError: string | null
  subject: string
}

let p: TestPlatform.TestPlatform
let admin: string

beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [slack],
    config: { plugins: { enabled: ["slack"] }, integrations: { backoffBaseMs: 30, maxAttempts: 3 } }
  })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const api = <T>(method: string, path: string, body?: unknown) => p.http<T>(method, path, { token: admin, body })
const addSlack = async (name: string, webhookUrl: string, events: ReadonlyArray<string> = ["user.created"]) => {
  const res = await api<{ id: string }>("POST", "/api/integrations", {
    provider: "slack",
    name,
    config: { webhookUrl, events }
  })
  expect(res.status).toBe(201)
  return res.body.id
}
const deliveries = async (id: string, status?: string) =>
  (
    await api<{ items: ReadonlyArray<Delivery> }>(
      "GET",
      `/api/integrations/${id}/deliveries${status ? `?status=${status}` : ""}`
    )
  ).body.items
const settled = (id: string, status: string) =>
  p.eventually(async () => ((await deliveries(id))[0]?.status === status ? (await deliveries(id))[0] : undefined))
let users = 0
const newUser = () => api("POST", "/api/users", { username: `user${++users}`, password: "long-enough-pw" })
const disable = (id: string) => api("PATCH", `/api/integrations/${id}`, { enabled: false })

describe(`notification delivery (${TestPlatform.engine()})`, () => {
  test("a receiver that fails twice and then succeeds: one delivered message, three recorded attempts", async () => {
    const receiver = LocalServer.start((_, i) =>
      i < 2 ? new Response("upstream down", { status: i === 0 ? 500 : 503 }) : new Response("ok")
    )
    const id = await addSlack("flaky", `${receiver.url}/services/flaky`)
    await newUser()
    const delivery = await settled(id, "delivered")
    expect(delivery).toMatchObject({ attempts: 3, responseCode: 200, lastError: null })
    await Bun.sleep(150)
    expect(receiver.requests).toHaveLength(3)
    expect((await deliveries(id)).length).toBe(1)
    await disable(id)
    await receiver.stop()
  })

  test("a receiver down for the whole retry window: a dead letter; replayed after it is back, delivered once", async () => {
    const probe = LocalServer.start()
    const port = probe.port
    await probe.stop()
    const id = await addSlack("down", `http://127.0.0.1:${port}/services/T0/B0/SECRETPART`)
    await newUser()
    const dead = await settled(id, "dead")
    expect(dead.attempts).toBe(3)
    expect(dead.lastError).toContain("could not reach the receiver")
    // The webhook URL is a secret: the stored error names it only masked.
    expect(dead.lastError).not.toContain("SECRETPART")
    expect((await deliveries(id, "dead")).map((d) => d.id)).toEqual([dead.id])

    const receiver = LocalServer.start(() => new Response("ok"), port)
    const replayed = await api<Delivery>("POST", `/api/integrations/${id}/deliveries/${dead.id}/replay`)
    expect(replayed.status).toBe(200)
    expect(replayed.body.status).toBe("pending")
    expect(await settled(id, "delivered")).toMatchObject({ id: dead.id, attempts: 4, responseCode: 200 })
    await Bun.sleep(150)
    expect(receiver.requests).toHaveLength(1)
    expect(receiver.requests[0]!.path).toBe("/services/T0/B0/SECRETPART")
    expect((await api("POST", `/api/integrations/${id}/deliveries/${dead.id}/replay`)).status).toBe(409)
    const audit = await api<{ items: ReadonlyArray<{ action: string; target: string }> }>(
      "GET",
      "/api/audit?action=integration.delivery.replay"
    )
    expect(audit.body.items.map((a) => a.target)).toContain(dead.id)
    await disable(id)
    await receiver.stop()
  })

  test("while the plugin is disabled nothing is lost: events and queued deliveries go out after it is enabled again", async () => {
    const receiver = LocalServer.start(() => new Response("ok"))
    const id = await addSlack("paused", `${receiver.url}/services/paused`)
    expect((await api("POST", "/api/admin/plugins/slack/disable")).status).toBe(200)
    await newUser()
    await newUser()
    await Bun.sleep(300)
    expect(receiver.requests).toHaveLength(0)
    expect((await api("POST", "/api/admin/plugins/slack/enable")).status).toBe(200)
    await receiver.waitFor(2)
    await Bun.sleep(150)
    expect(receiver.requests.map((r) => (r.json as { text: string }).text).sort()).toEqual([
      `User created: user${users - 1} has an account now`,
      `User created: user${users} has an account now`
    ])
    await disable(id)
    await receiver.stop()
  })

  test("plugin events can be chosen too, by type or by prefix", async () => {
    const receiver = LocalServer.start(() => new Response("ok"))
    const id = await addSlack("billing", `${receiver.url}/services/billing`, ["billing.*"])
    await p.emit("billing.invoice.generated", { invoiceId: "inv-7", total: 42.5, currency: "EUR", lines: [1, 2] })
    await newUser()
    const [msg] = await receiver.waitFor(1)
    await p.awaitDelivered()
    await Bun.sleep(150)
    expect(receiver.requests).toHaveLength(1)
    const text = JSON.stringify(msg!.json)
    expect(text).toContain("billing.invoice.generated")
    expect(text).toContain("inv-7")
    await disable(id)
    await receiver.stop()
  })

  test("the same event handled twice (at-least-once) is queued once", async () => {
    const receiver = LocalServer.start(() => new Response("ok"))
    const id = await addSlack("dedupe", `${receiver.url}/services/dedupe`)
    const { IntegrationDeliveries } = await import("@streamspace/core")
    const { Effect } = await import("effect")
    const enqueue = () =>
      p.run(
        Effect.flatMap(IntegrationDeliveries.IntegrationDeliveries, (d) =>
          d.enqueue({
            integrationId: id,
            dedupeKey: "event:same",
            subject: "user.created",
            payload: { text: "once", blocks: [] }
          })
        )
      )
    const [a, b] = [await enqueue(), await enqueue()]
    expect(a.created).toBe(true)
    expect(b).toEqual({ id: a.id, created: false })
    await receiver.waitFor(1)
    await Bun.sleep(150)
    expect(receiver.requests).toHaveLength(1)
    await disable(id)
    await receiver.stop()
  })
})
