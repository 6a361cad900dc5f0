/**
 * Workflows on a real platform (PGlite, or PostgreSQL with TEST_DATABASE_URL):
 * validation naming the field, manual runs with HTTP steps against a local
 * peer, plugin method calls, conditions, variables, retries with back-off,
 * failure handlers, parallel branches, idempotency keys, event triggers with
 * filters, signed webhooks, versions, concurrency, cancellation, quotas,
 * the egress policy and the completed/failed events.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import hello from "@streamspace/plugin-hello"
import slack from "@streamspace/plugin-slack"
import { LocalServer, TestPlatform } from "@streamspace/testing"
import workflows, { signWebhook } from "@streamspace/plugin-workflows"
import { configure, create, execution, makeUser, run, settle, signingKey, step } from "./helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string
let peer: LocalServer.LocalServer
let slackHook: LocalServer.LocalServer
let flaky = 0

beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [workflows, hello, slack],
    config: { plugins: { enabled: ["hello", "workflows", "slack"] }, integrations: { backoffBaseMs: 20 } }
  })
  admin = await p.login("admin", p.adminPassword)
  await configure(p, admin, { webhookSigningKey: signingKey, maxWorkflowsPerUser: 3, pollSeconds: 0.2 })
  peer = LocalServer.start((req) => {
    if (req.path.startsWith("/flaky")) return new Response("busy", { status: flaky++ < 2 ? 503 : 200 })
    if (req.path.startsWith("/bad")) return new Response("no", { status: 400 })
    if (req.path.startsWith("/slow")) return Bun.sleep(3_000).then(() => Response.json({ ok: true }))
    return Response.json({ received: req.json ?? null, path: req.path })
  })
  // A Slack incoming-webhook stand-in: a Block Kit message (fallback text and blocks) is "ok", anything else 400.
  slackHook = LocalServer.start((req) => {
    const m = req.json as { text?: unknown; blocks?: ReadonlyArray<{ type?: unknown }> } | undefined
    const valid =
      typeof m?.text === "string" &&
      Array.isArray(m.blocks) &&
      m.blocks.every((b) => ["header", "section", "context"].includes(String(b.type)))
    return new Response(valid ? "ok" : "invalid_blocks", { status: valid ? 200 : 400 })
  })
})
afterAll(async () => {
  await slackHook?.stop()
  await peer?.stop()
  await p?.close()
})

const body = (path: string) => peer.requests.filter((r) => r.path === path)

describe("definitions", () => {
  test("a bad definition is a 400 naming the field", async () => {
    const post = (definition: unknown) =>
      p.http<{ code: string; errors: Array<{ path: string; message: string }> }>(
        "POST",
        "/api/plugins/workflows/workflows",
        { token: admin, body: definition }
      )
    const base = { name: "x", trigger: { type: "manual" } }
    const cases: Array<[unknown, string, string]> = [
      [{ ...base, steps: [{ id: "a", type: "teleport" }] }, "body.steps.0", ""],
      [
        {
          ...base,
          steps: [
            { id: "a", type: "wait", seconds: 1 },
            { id: "b", type: "wait", seconds: 1, after: ["zz"] }
          ]
        },
        "body.steps.1.after.0",
        "no step zz"
      ],
      [
        {
          ...base,
          steps: [
            { id: "a", type: "wait", seconds: 1, after: ["b"] },
            { id: "b", type: "wait", seconds: 1, after: ["a"] }
          ]
        },
        "body.steps.0.after",
        "cycle"
      ],
      [{ ...base, steps: [{ id: "a", type: "wait", seconds: 1, if: "while (true) 1" }] }, "body.steps.0.if", "unknown"],
      [
        {
          ...base,
          steps: [{ id: "a", type: "wait", seconds: 1, if: Array.from({ length: 300 }, () => "1").join("+") }]
        },
        "body.steps.0.if",
        "too large"
      ],
      [
        { ...base, steps: [{ id: "a", type: "http", url: "http://x/{{ process.env }}" }] },
        "body.steps.0.url",
        "unknown name process"
      ],
      [
        {
          ...base,
          trigger: { type: "cron", cron: "0 9 * * *", timeZone: "Mars/Olympus" },
          steps: [{ id: "a", type: "wait", seconds: 1 }]
        },
        "body.trigger.timeZone",
        "unknown time zone"
      ],
      [
        { ...base, trigger: { type: "cron", cron: "99 * * * *" }, steps: [{ id: "a", type: "wait", seconds: 1 }] },
        "body.trigger.cron",
        "cron"
      ],
      [
        {
          ...base,
          trigger: { type: "event", events: ["session.*"], filter: "event.payload.cpu >" },
          steps: [{ id: "a", type: "wait", seconds: 1 }]
        },
        "body.trigger.filter",
        "unexpected end"
      ],
      [
        {
          ...base,
          steps: [
            { id: "a", type: "wait", seconds: 1 },
            { id: "a", type: "wait", seconds: 1 }
          ]
        },
        "body.steps.1.id",
        "duplicate"
      ],
      [
        { ...base, steps: [{ id: "a", type: "session", action: "hibernate" }] },
        "body.steps.0.sessionId",
        "needs a sessionId"
      ]
    ]
    for (const [definition, path, message] of cases) {
      const res = await post(definition)
      expect(res.status, JSON.stringify(definition)).toBe(400)
      expect(res.body.code).toBe("validation_failed")
      const hit = res.body.errors.find((e) => e.path.startsWith(path))
      expect(hit, `${path} in ${JSON.stringify(res.body.errors)}`).toBeDefined()
      expect(hit!.message).toContain(message)
    }
    const ok = await p.http<{ valid: boolean }>("POST", "/api/plugins/workflows/validate", {
      token: admin,
      body: { ...base, steps: [{ id: "a", type: "wait", seconds: 1 }] }
    })
    expect(ok.status).toBe(200)
    expect(ok.body.valid).toBe(true)
  })

  test("maxWorkflowsPerUser: the next one is refused as a quota", async () => {
    const u = await makeUser(p, "quota-user")
    const def = { name: "q", trigger: { type: "manual" }, steps: [{ id: "a", type: "wait", seconds: 1 }] }
    for (let i = 0; i < 3; i++) await create(p, u.token, def)
    const res = await p.http<{ code: string; max: number }>("POST", "/api/plugins/workflows/workflows", {
      token: u.token,
      body: def
    })
    expect(res.status).toBe(403)
    expect(res.body.code).toBe("quota_exceeded")
    expect(res.body.max).toBe(3)
    // Others' workflows are invisible to this user (404), admins see them.
    const mine = await p.http<{ items: Array<{ id: string }> }>("GET", "/api/plugins/workflows/workflows", {
      token: u.token
    })
    expect(mine.body.items).toHaveLength(3)
    const other = await create(p, admin, def)
    expect((await p.http("GET", `/api/plugins/workflows/workflows/${other.id}`, { token: u.token })).status).toBe(404)
    expect(
      (await p.http("GET", `/api/plugins/workflows/workflows/${mine.body.items[0]!.id}`, { token: admin })).status
    ).toBe(200)
  })
})

describe("engine", () => {
  test("a manual run: HTTP with templates, a plugin method, a skipped step, variables; then the completed event", async () => {
    const wf = await create(p, admin, {
      name: "greeter",
      trigger: { type: "manual" },
      variables: { greeting: "hi" },
      steps: [
        { id: "greet", type: "call", plugin: "hello", method: "greet", input: { name: "{{ trigger.input.name }}" } },
        {
          id: "post",
          type: "http",
          url: `${peer.url}/hook/{{ trigger.input.name }}`,
          body: { message: "{{ steps.greet.output.message }}", n: "{{ trigger.input.n + 1 }}" }
        },
        { id: "never", type: "http", url: `${peer.url}/never`, if: "trigger.input.n > 100" },
        {
          id: "tally",
          type: "set",
          variables: { total: "trigger.input.n * 2", said: "steps.post.output.body.received.message" }
        }
      ]
    })
    const started = await run(p, admin, wf.id, { name: "Ada", n: 20 })
    expect(started.created).toBe(true)
    const e = await settle(p, admin, started.executionId)
    expect(e.status, e.error ?? "").toBe("completed")
    expect(step(e, "greet").output).toEqual({ message: "Hello, Ada!" })
    expect(body("/hook/Ada").map((r) => r.json)).toEqual([{ message: "Hello, Ada!", n: 21 }])
    expect(body("/hook/Ada")[0]!.headers.get("x-streamspace-execution")).toBe(e.id)
    expect(step(e, "never").status).toBe("skipped")
    expect(body("/never")).toHaveLength(0)
    expect(e.vars).toEqual({ greeting: "hi", total: 40, said: "Hello, Ada!" })
    await p.eventually(async () => {
      const rows = await p.query<{ payload: { executionId: string; status: string } }>(
        "SELECT payload FROM events WHERE type = 'workflows.execution.completed'"
      )
      expect(rows.map((r) => r.payload.executionId)).toContain(e.id)
      return true
    })
  })

  test("retries with back-off until the peer answers; a permanent failure goes to its onFailure handler", async () => {
    const wf = await create(p, admin, {
      name: "retry",
      trigger: { type: "manual" },
      steps: [
        {
          id: "flaky",
          type: "http",
          url: `${peer.url}/flaky`,
          retry: { maxAttempts: 4, backoffSeconds: 0.2, multiplier: 2 }
        },
        {
          id: "bad",
          type: "http",
          url: `${peer.url}/bad`,
          retry: { maxAttempts: 3, backoffSeconds: 0.1 },
          onFailure: "recover"
        },
        { id: "after_bad", type: "http", url: `${peer.url}/after-bad` },
        { id: "recover", type: "http", url: `${peer.url}/recover`, body: { why: "{{ steps.bad.error }}" } }
      ]
    })
    const e = await settle(p, admin, (await run(p, admin, wf.id)).executionId)
    expect(e.status, e.error ?? "").toBe("completed")
    expect(step(e, "flaky").attempts).toBe(3)
    expect(step(e, "flaky").status).toBe("completed")
    // 400 is not worth retrying: one attempt, then the handler.
    expect(body("/bad")).toHaveLength(1)
    expect(step(e, "bad").status).toBe("failed")
    expect(step(e, "recover").activatedBy).toBe("bad")
    expect(body("/recover")[0]!.json).toEqual({ why: "HTTP 400: no" })
    expect(step(e, "after_bad").status).toBe("bypassed")
    expect(body("/after-bad")).toHaveLength(0)
  })

  test("an unhandled failure fails the execution and publishes workflows.execution.failed", async () => {
    const wf = await create(p, admin, {
      name: "fails",
      trigger: { type: "manual" },
      steps: [
        { id: "bad", type: "http", url: `${peer.url}/bad` },
        { id: "next", type: "wait", seconds: 1 }
      ]
    })
    const e = await settle(p, admin, (await run(p, admin, wf.id)).executionId)
    expect(e.status).toBe("failed")
    expect(e.error).toContain("step bad failed: HTTP 400")
    await p.eventually(async () => {
      const rows = await p.query<{ payload: { executionId: string; error: string } }>(
        "SELECT payload FROM events WHERE type = 'workflows.execution.failed'"
      )
      expect(rows.find((r) => r.payload.executionId === e.id)?.payload.error).toContain("HTTP 400")
      return true
    })
  })

  test("parallel branches run side by side and join", async () => {
    const wf = await create(p, admin, {
      name: "fan-out",
      trigger: { type: "manual" },
      steps: [
        { id: "start", type: "set", variables: { x: "1" } },
        { id: "left", type: "http", url: `${peer.url}/slow/left`, after: ["start"], timeoutSeconds: 10 },
        { id: "right", type: "http", url: `${peer.url}/slow/right`, after: ["start"], timeoutSeconds: 10 },
        { id: "quick", type: "http", url: `${peer.url}/quick/1`, after: ["start"] },
        { id: "quick2", type: "http", url: `${peer.url}/quick/2`, after: ["quick"] },
        { id: "join", type: "http", url: `${peer.url}/join`, after: ["left", "right", "quick2"] }
      ]
    })
    const t0 = Date.now()
    const e = await settle(p, admin, (await run(p, admin, wf.id)).executionId)
    expect(e.status, e.error ?? "").toBe("completed")
    // Two 3-second calls one after the other would take 6 s.
    expect(Date.now() - t0).toBeLessThan(5_800)
    const left = body("/slow/left")[0]!.at
    const right = body("/slow/right")[0]!.at
    expect(Math.abs(left - right)).toBeLessThan(1_000)
    expect(body("/join")).toHaveLength(1)
    // A branch moves on without waiting for its slow siblings.
    expect(body("/quick/2")[0]!.at - left).toBeLessThan(2_000)
    expect(body("/join")[0]!.at - left).toBeGreaterThanOrEqual(2_900)
  })

  test("a step timeout fails the attempt", async () => {
    const wf = await create(p, admin, {
      name: "timeout",
      trigger: { type: "manual" },
      steps: [{ id: "slow", type: "http", url: `${peer.url}/slow/timeout`, timeoutSeconds: 0.5 }]
    })
    const e = await settle(p, admin, (await run(p, admin, wf.id)).executionId)
    expect(e.status).toBe("failed")
    expect(step(e, "slow").error).toContain("timed out after 0.5 s")
  })

  test("an idempotency key runs its step once across executions; the key goes to the peer", async () => {
    const wf = await create(p, admin, {
      name: "once",
      trigger: { type: "manual" },
      steps: [
        { id: "charge", type: "http", url: `${peer.url}/charge`, idempotencyKey: "order-{{ trigger.input.order }}" }
      ]
    })
    const a = await settle(p, admin, (await run(p, admin, wf.id, { order: 7 })).executionId)
    const b = await settle(p, admin, (await run(p, admin, wf.id, { order: 7 })).executionId)
    expect([a.status, b.status]).toEqual(["completed", "completed"])
    expect(body("/charge")).toHaveLength(1)
    expect(body("/charge")[0]!.headers.get("idempotency-key")).toBe("order-7")
    expect(step(b, "charge").output).toEqual(step(a, "charge").output)
    // The same Idempotency-Key on the run route gives the same execution.
    const r1 = await run(p, admin, wf.id, { order: 8 }, { "idempotency-key": "run-8" })
    const r2 = await run(p, admin, wf.id, { order: 8 }, { "idempotency-key": "run-8" })
    expect(r2.executionId).toBe(r1.executionId)
    expect(r2.created).toBe(false)
  })

  test("the egress policy applies to HTTP steps", async () => {
    const wf = await create(p, admin, {
      name: "egress",
      trigger: { type: "manual" },
      steps: [
        {
          id: "meta",
          type: "http",
          method: "GET",
          url: "http://169.254.169.254/latest/meta-data",
          retry: { maxAttempts: 3 }
        }
      ]
    })
    const e = await settle(p, admin, (await run(p, admin, wf.id)).executionId)
    expect(e.status).toBe("failed")
    expect(step(e, "meta").attempts).toBe(1)
    expect(step(e, "meta").error).toMatch(/refused|not allowed|egress/i)
  })

  test("an admin's workflow launches and deletes a session for a user through the platform; a user's workflow cannot call plugins", async () => {
    const template = await p.http<{ id: string }>("POST", "/api/templates", {
      token: admin,
      body: { name: "wf-desk", displayName: "Workflow desk", image: "desk:1" }
    })
    expect(template.status).toBe(201)
    const dana = await makeUser(p, "dana")
    const wf = await create(p, admin, {
      name: "sessions",
      trigger: { type: "manual" },
      steps: [
        { id: "launch", type: "session", action: "create", templateId: template.body.id, userId: dana.id },
        { id: "end", type: "session", action: "delete", sessionId: "{{ steps.launch.output.id }}", after: ["launch"] }
      ]
    })
    const e = await settle(p, admin, (await run(p, admin, wf.id)).executionId)
    expect(e.status).toBe("completed")
    const launched = step(e, "launch").output as { id: string; desired: string }
    expect(launched.desired).toBe("running")
    expect((step(e, "end").output as { desired: string }).desired).toBe("terminated")
    const [owner] = await p.query<{ user_id: string; desired: string }>(
      "SELECT user_id, desired FROM sessions WHERE id = $1",
      [launched.id]
    )
    expect(owner).toEqual({ user_id: dana.id, desired: "terminated" })
    const audit = await p.query<{ action: string; plugin: string }>(
      "SELECT action, plugin FROM audit_log WHERE target = $1 AND plugin = 'workflows' ORDER BY id",
      [launched.id]
    )
    expect(audit.map((a) => a.action)).toEqual(["session.create", "session.delete"])
    const u = await makeUser(p, "caller")
    const mine = await create(p, u.token, {
      name: "call",
      trigger: { type: "manual" },
      steps: [{ id: "greet", type: "call", plugin: "hello", method: "greet", input: { name: "x" } }]
    })
    const f = await settle(p, u.token, (await run(p, u.token, mine.id)).executionId)
    expect(step(f, "greet").error).toContain("only by workflows of admins")
  })
})

describe("recipe 3: start a session from an inbound webhook", () => {
  test("a signed webhook naming a user and a template launches that user's session", async () => {
    const template = await p.http<{ id: string }>("POST", "/api/templates", {
      token: admin,
      body: { name: "wf-hook-desk", displayName: "Webhook desk", image: "desk:1" }
    })
    expect(template.status).toBe(201)
    const erin = await makeUser(p, "erin-webhook")
    const wf = await create(p, admin, {
      name: "start from webhook",
      trigger: { type: "webhook" },
      steps: [
        {
          id: "launch",
          type: "session",
          action: "create",
          templateId: "{{ trigger.body.template }}",
          userId: "{{ trigger.body.user }}"
        }
      ]
    })
    const payload = JSON.stringify({ user: erin.id, template: template.body.id })
    const now = String(Math.floor(Date.now() / 1000))
    const res = await p.http<{ executionId: string }>("POST", wf.webhook!.url, {
      raw: payload,
      headers: {
        "content-type": "application/json",
        "x-streamspace-timestamp": now,
        "x-streamspace-signature": signWebhook(wf.webhook!.secret, now, payload)
      }
    })
    expect(res.status).toBe(202)
    const e = await settle(p, admin, res.body.executionId)
    expect(e.status).toBe("completed")
    const launched = step(e, "launch").output as { id: string }
    const [row] = await p.query<{ user_id: string; template_id: string }>(
      "SELECT user_id, template_id FROM sessions WHERE id = $1",
      [launched.id]
    )
    expect(row).toEqual({ user_id: erin.id, template_id: template.body.id })
  })
})

describe("triggers, versions, concurrency, cancellation", () => {
  test("recipe 2: notify Slack on quota exceeded — an event trigger with a filter, a notify step through the Slack plugin's integration", async () => {
    const created = await p.http<{ id: string }>("POST", "/api/integrations", {
      token: admin,
      body: {
        provider: "slack",
        name: "ops",
        // The integration's own event selection is not what the workflow sends: the workflow decides.
        config: { webhookUrl: `${slackHook.url}/services/T000/B000/XXXX`, events: ["billing.invoice.generated"] }
      }
    })
    expect(created.status).toBe(201)
    const integrationId = created.body.id
    const wf = await create(p, admin, {
      name: "quota to Slack",
      trigger: { type: "event", events: ["quota.*"], filter: "event.payload.requested > event.payload.max" },
      steps: [
        {
          id: "slack",
          type: "notify",
          provider: "slack",
          integrationId,
          severity: "warning",
          title: "Quota exceeded",
          text: "{{ trigger.payload.userId }} asked for {{ trigger.payload.requested }} {{ trigger.payload.limit }}, {{ trigger.payload.max }} allowed"
        }
      ]
    })
    const before = slackHook.requests.length
    await p.emit("quota.exceeded", { userId: "u-1", scope: "user", scopeId: "u-1", limit: "cpu", max: 4, requested: 6 })
    await p.emit("quota.exceeded", { userId: "u-2", scope: "user", scopeId: "u-2", limit: "cpu", max: 4, requested: 2 })
    await p.emit("session.created", { userId: "u-3" })
    await slackHook.waitFor(before + 1)
    const executions = await p.eventually(async () => {
      const list = await p.http<{ items: Array<{ id: string; status: string }> }>(
        "GET",
        `/api/plugins/workflows/executions?workflowId=${wf.id}`,
        { token: admin }
      )
      return list.body.items.length === 1 && list.body.items[0]!.status === "completed" ? list.body.items : undefined
    })
    const sent = slackHook.requests.slice(before)
    expect(sent).toHaveLength(1)
    const message = sent[0]!.json as { text: string; blocks: ReadonlyArray<{ type: string; text?: { text: string } }> }
    expect(message.text).toBe("Quota exceeded: u-1 asked for 6 cpu, 4 allowed")
    expect(message.blocks[0]).toMatchObject({ type: "header", text: { text: "Quota exceeded" } })
    expect(message.blocks[1]!.text!.text).toBe(":warning: u-1 asked for 6 cpu, 4 allowed")
    // The step's output names the queued delivery, which the core's delivery store shows as delivered.
    const e = await execution(p, admin, executions[0]!.id)
    const output = step(e, "slack").output as { provider: string; integrationId: string; deliveryIds: Array<string> }
    expect(output).toMatchObject({ provider: "slack", integrationId, created: true })
    const delivered = await p.eventually(async () => {
      const list = await p.http<{ items: Array<{ id: string; status: string; subject: string }> }>(
        "GET",
        `/api/integrations/${integrationId}/deliveries`,
        { token: admin }
      )
      return list.body.items.every((d) => d.status === "delivered") ? list.body.items : undefined
    })
    expect(output.deliveryIds).toHaveLength(1)
    expect(delivered.map((d) => [d.id, d.status, d.subject])).toEqual(
      output.deliveryIds.map((id) => [id, "delivered", "workflows.notify"])
    )
  })

  test("a notify step through an integration that does not exist fails at once; a user's workflow may not notify unless allowed", async () => {
    const wf = await create(p, admin, {
      name: "notify nowhere",
      trigger: { type: "manual" },
      steps: [
        {
          id: "n",
          type: "notify",
          provider: "slack",
          integrationId: "no-such-integration",
          title: "t",
          text: "x",
          retry: { maxAttempts: 3 }
        }
      ]
    })
    const e = await settle(p, admin, (await run(p, admin, wf.id)).executionId)
    expect(e.status).toBe("failed")
    expect(step(e, "n").attempts).toBe(1)
    expect(step(e, "n").error).toContain("no enabled slack integration no-such-integration")
    const other = await create(p, admin, {
      name: "notify through a plugin that is not there",
      trigger: { type: "manual" },
      steps: [{ id: "n", type: "notify", provider: "teams", integrationId: "x", title: "t", text: "x" }]
    })
    const e2 = await settle(p, admin, (await run(p, admin, other.id)).executionId)
    expect(e2.status).toBe("failed")
    expect(step(e2, "n").error).toContain("teams")
    const user = await makeUser(p, "notify-user")
    const mine = await create(p, user.token, {
      name: "user notify",
      trigger: { type: "manual" },
      steps: [{ id: "n", type: "notify", provider: "slack", integrationId: "x", title: "t", text: "x" }]
    })
    const e3 = await settle(p, user.token, (await run(p, user.token, mine.id)).executionId)
    expect(e3.status).toBe("failed")
    expect(step(e3, "n").error).toContain("list slack.notify in userCallableMethods")
  })

  test("a signed webhook starts an execution; unsigned, stale or replayed requests do not", async () => {
    const wf = await create(p, admin, {
      name: "inbound",
      trigger: { type: "webhook" },
      steps: [{ id: "echo", type: "http", url: `${peer.url}/inbound`, body: "{{ trigger.body }}" }]
    })
    expect(wf.webhook?.secret).toStartWith("whsec_")
    const url = wf.webhook!.url
    const payload = JSON.stringify({ user: "ada", template: "gpu" })
    const now = String(Math.floor(Date.now() / 1000))
    const post = (headers: Record<string, string>, raw = payload) =>
      p.http<{ executionId: string; created: boolean }>("POST", url, {
        raw,
        headers: { "content-type": "application/json", ...headers }
      })
    expect((await post({})).status).toBe(401)
    expect((await post({ "x-streamspace-timestamp": now, "x-streamspace-signature": "sha256=00" })).status).toBe(401)
    const old = String(Math.floor(Date.now() / 1000) - 3600)
    expect(
      (
        await post({
          "x-streamspace-timestamp": old,
          "x-streamspace-signature": signWebhook(wf.webhook!.secret, old, payload)
        })
      ).status
    ).toBe(401)
    const signed = {
      "x-streamspace-timestamp": now,
      "x-streamspace-signature": signWebhook(wf.webhook!.secret, now, payload)
    }
    const first = await post(signed)
    expect(first.status).toBe(202)
    expect(first.body.created).toBe(true)
    const again = await post(signed)
    expect(again.body.executionId).toBe(first.body.executionId)
    expect(again.body.created).toBe(false)
    const e = await settle(p, admin, first.body.executionId)
    expect(e.status).toBe("completed")
    expect(body("/inbound").map((r) => r.json)).toEqual([{ user: "ada", template: "gpu" }])
    expect((await p.http("POST", "/api/plugins/workflows/hooks/not-a-token", { raw: payload })).status).toBe(404)
    // Rotation: the old URL stops working.
    const rotated = await p.http<{ url: string }>("POST", `/api/plugins/workflows/workflows/${wf.id}/webhook/rotate`, {
      token: admin
    })
    expect(rotated.status).toBe(200)
    expect((await post(signed)).status).toBe(404)
  })

  test("an execution keeps its version; concurrency queues the rest; cancel stops waiting and queued executions", async () => {
    const def = (marker: string) => ({
      name: "versions",
      trigger: { type: "manual" },
      concurrency: 1,
      steps: [
        { id: "hold", type: "wait", seconds: 3600 },
        { id: "mark", type: "http", url: `${peer.url}/version/${marker}` }
      ]
    })
    const wf = await create(p, admin, def("v1"))
    const first = await run(p, admin, wf.id)
    await p.eventually(async () => {
      const e = await execution(p, admin, first.executionId)
      expect(e.steps.map((s) => s.status)).toEqual(["waiting"])
      return true
    })
    const put = await p.http<{ version: number }>("PUT", `/api/plugins/workflows/workflows/${wf.id}`, {
      token: admin,
      body: def("v2")
    })
    expect(put.body.version).toBe(2)
    const second = await run(p, admin, wf.id)
    await Bun.sleep(600)
    expect((await execution(p, admin, second.executionId)).status).toBe("queued")
    expect((await execution(p, admin, first.executionId)).version).toBe(1)
    expect((await execution(p, admin, second.executionId)).version).toBe(2)
    const versions = await p.http<{ items: Array<{ version: number }> }>(
      "GET",
      `/api/plugins/workflows/workflows/${wf.id}/versions`,
      { token: admin }
    )
    expect(versions.body.items.map((v) => v.version)).toEqual([1, 2])

    const cancel = (id: string) =>
      p.http<{ status: string }>("POST", `/api/plugins/workflows/executions/${id}/cancel`, { token: admin })
    expect((await cancel(first.executionId)).body.status).toBe("cancelled")
    // The slot is free: the second is admitted and waits in turn.
    await p.eventually(async () => {
      expect((await execution(p, admin, second.executionId)).status).toBe("running")
      return true
    })
    await cancel(second.executionId)
    const done = await settle(p, admin, second.executionId)
    expect(done.status).toBe("cancelled")
    expect((await cancel(second.executionId)).status).toBe(409)
    expect(body("/version/v1")).toHaveLength(0)
    const stats = await p.http<{ executionsByStatus: Record<string, number> }>("GET", "/api/plugins/workflows/stats", {
      token: admin
    })
    expect(stats.body.executionsByStatus.cancelled).toBeGreaterThanOrEqual(2)
  })

  test("a running step is interrupted by cancel", async () => {
    const wf = await create(p, admin, {
      name: "cancel-running",
      trigger: { type: "manual" },
      steps: [{ id: "slow", type: "http", url: `${peer.url}/slow/cancel`, timeoutSeconds: 30 }]
    })
    const r = await run(p, admin, wf.id)
    await peer.waitFor(peer.requests.filter((x) => x.path === "/slow/cancel").length ? 0 : peer.requests.length + 1)
    await p.eventually(async () => {
      expect(body("/slow/cancel")).toHaveLength(1)
      return true
    })
    const res = await p.http<{ status: string }>("POST", `/api/plugins/workflows/executions/${r.executionId}/cancel`, {
      token: admin
    })
    expect(res.status).toBe(202)
    const e = await settle(p, admin, r.executionId)
    expect(e.status).toBe("cancelled")
  })
})
