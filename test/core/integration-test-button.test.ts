import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import slack from "@streamspace/plugin-slack"
import { LocalServer, TestPlatform } from "@streamspace/testing"

type Delivery = { status: string; subject: string; responseCode: number | null; lastError: string | null }
type TestResult = { ok: boolean; deliveries: ReadonlyArray<Delivery> }
type Problem = { status: number; code: string; detail: string; errors?: ReadonlyArray<{ path: string }> }

let p: TestPlatform.TestPlatform
let admin: string
let failNext = false
const receiver = LocalServer.start(() => {
  if (failNext) {
    failNext = false
    return new Response("no_service", { status: 404 })
  }
  return new Response("ok")
})

beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [slack],
    config: { plugins: { enabled: ["slack"] }, integrations: { backoffBaseMs: 20, maxAttempts: 2 } }
  })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(async () => {
  await p?.close()
  await receiver.stop()
})

const create = async (name: string, path: string, enabled = true) => {
  const res = await p.http<{ id: string }>("POST", "/api/integrations", {
    token: admin,
    body: { provider: "slack", name, enabled, config: { webhookUrl: `${receiver.url}${path}` } }
  })
  expect(res.status).toBe(201)
  return res.body.id
}

describe(`POST /api/integrations/:id/test (${TestPlatform.engine()})`, () => {
  test("sends a test notification through the provider to a real HTTP server and answers with the outcome", async () => {
    const id = await create("button", "/hooks/button")
    const res = await p.http<TestResult>("POST", `/api/integrations/${id}/test`, {
      token: admin,
      body: { message: "pressed the button" }
    })
    expect(res.status).toBe(200)
    expect(res.body.ok).toBe(true)
    expect(res.body.deliveries).toEqual([
      expect.objectContaining({ status: "delivered", subject: "test", responseCode: 200 })
    ])
    const got = receiver.requests.filter((r) => r.path === "/hooks/button")
    expect(got).toHaveLength(1)
    expect(JSON.stringify(got[0]!.json)).toContain("pressed the button")
    // The secret webhook URL is never in the answer.
    expect(JSON.stringify(res.body)).not.toContain(receiver.url)
    const audit = await p.http<{ items: ReadonlyArray<{ action: string; target: string }> }>(
      "GET",
      `/api/audit?action=integration.test&target=${id}`,
      { token: admin }
    )
    expect(audit.body.items).toHaveLength(1)
  })

  test("a refusing receiver is reported as a failed delivery (ok false), not an error", async () => {
    const id = await create("refusing", "/hooks/refusing")
    failNext = true
    const res = await p.http<TestResult>("POST", `/api/integrations/${id}/test`, { token: admin, body: {} })
    expect(res.status).toBe(200)
    expect(res.body.ok).toBe(false)
    expect(res.body.deliveries[0]?.status).not.toBe("delivered")
    expect(res.body.deliveries[0]?.responseCode).toBe(404)
  })

  test("unknown 404, disabled integration 409, bad message 400 naming the field, non-admins 403", async () => {
    expect((await p.http("POST", "/api/integrations/nope/test", { token: admin, body: {} })).status).toBe(404)
    const off = await create("off", "/hooks/off", false)
    const disabled = await p.http<Problem>("POST", `/api/integrations/${off}/test`, { token: admin, body: {} })
    expect(disabled.status).toBe(409)
    expect(disabled.body.code).toBe("integration_disabled")
    const on = await create("bad-message", "/hooks/bad")
    const bad = await p.http<Problem>("POST", `/api/integrations/${on}/test`, {
      token: admin,
      body: { message: "" }
    })
    expect(bad.status).toBe(400)
    expect(bad.body.errors?.map((e) => e.path)).toEqual(["body.message"])
    const { token: plain } = await p.makeUser("plain-button")
    expect((await p.http("POST", `/api/integrations/${on}/test`, { token: plain, body: {} })).status).toBe(403)
    // The refused and the disabled tests sent nothing (the enabled one may get the user.created notice).
    expect(receiver.requests.some((r) => r.path === "/hooks/off")).toBe(false)
    expect(receiver.requests.some((r) => r.path === "/hooks/bad" && JSON.stringify(r.json).includes("test"))).toBe(
      false
    )
  })

  test("with the provider plugin disabled: 409 naming the provider", async () => {
    const id = await create("orphan", "/hooks/orphan")
    expect((await p.http("POST", "/api/admin/plugins/slack/disable", { token: admin })).status).toBe(200)
    try {
      const res = await p.http<Problem>("POST", `/api/integrations/${id}/test`, { token: admin, body: {} })
      expect(res.status).toBe(409)
      expect(res.body.code).toBe("provider_unavailable")
      expect(res.body.detail).toContain("slack")
    } finally {
      await p.http("POST", "/api/admin/plugins/slack/enable", { token: admin })
    }
  })
})

describe(`the test button under the egress policy (${TestPlatform.engine()})`, () => {
  let strict: TestPlatform.TestPlatform
  beforeAll(async () => {
    strict = await TestPlatform.make({
      plugins: [slack],
      config: { egress: { allow: [] }, plugins: { enabled: ["slack"] }, integrations: { maxAttempts: 1 } }
    })
  })
  afterAll(() => strict?.close())

  test("a destination the policy refuses is never contacted: the outcome says why", async () => {
    const token = await strict.login("admin", strict.adminPassword)
    // A name that does not resolve yet passes configuration; it is checked again when sent.
    const created = await strict.http<{ id: string }>("POST", "/api/integrations", {
      token,
      body: { provider: "slack", name: "outside", config: { webhookUrl: "https://receiver.invalid/hook" } }
    })
    expect(created.status).toBe(201)
    const res = await strict.http<TestResult>("POST", `/api/integrations/${created.body.id}/test`, { token, body: {} })
    expect(res.status).toBe(200)
    expect(res.body.ok).toBe(false)
    expect(res.body.deliveries[0]?.lastError).toBeTruthy()
    // Loopback is refused when configured, before anything is sent.
    const loopback = await strict.http<Problem>("POST", "/api/integrations", {
      token,
      body: { provider: "slack", name: "inside", config: { webhookUrl: `${receiver.url}/hooks/inside` } }
    })
    expect(loopback.status).toBe(400)
    expect(receiver.requests.some((r) => r.path === "/hooks/inside")).toBe(false)
  })
})
