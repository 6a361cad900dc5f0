/**
 * `GET /api/events/stream` (server-sent events fed by the event outbox), on
 * the engine the run selects (PGlite, or PostgreSQL with TEST_DATABASE_URL):
 * a client sees its own sessions' events live and not other users', sees a
 * session shared with it, resumes with Last-Event-ID, and needs a login.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { EventOutbox } from "@streamspace/core"
import hello from "@streamspace/plugin-hello"
import { EventStream } from "@streamspace/server"
import { TestPlatform } from "@streamspace/testing"
import { Effect } from "effect"

interface SseEvent {
  readonly event: string
  readonly id: string | undefined
  readonly data: Record<string, unknown>
}

/** An open stream: the events parsed so far, and a way to wait for one. */
interface Reader {
  readonly events: Array<SseEvent>
  readonly comments: Array<string>
  readonly headers: Headers
  readonly status: number
  readonly waitFor: (match: (e: SseEvent) => boolean, timeoutMs?: number) => Promise<SseEvent>
  readonly close: () => void
}

let p: TestPlatform.TestPlatform
let template: string
const readers: Array<Reader> = []

const open = async (token: string | undefined, headers: Record<string, string> = {}): Promise<Reader> => {
  const abort = new AbortController()
  const res = await p.app.handle(
    new Request("http://localhost/api/events/stream", {
      headers: { accept: "text/event-stream", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      signal: abort.signal
    })
  )
  const events: Array<SseEvent> = []
  const comments: Array<string> = []
  const waiters = new Set<() => void>()
  if (res.ok && res.body) {
    const reader = res.body.getReader()
    const decoder = new TextDecoder()
    let buffer = ""
    void (async () => {
      for (;;) {
        const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }))
        if (chunk.done) return
        buffer += decoder.decode(chunk.value, { stream: true })
        let end = buffer.indexOf("\n\n")
        while (end >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          end = buffer.indexOf("\n\n")
          let event = "message"
          let id: string | undefined
          let data = ""
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) comments.push(line.slice(1).trim())
            else if (line.startsWith("event: ")) event = line.slice(7)
            else if (line.startsWith("id: ")) id = line.slice(4)
            else if (line.startsWith("data: ")) data += line.slice(6)
          }
          if (data) events.push({ event, id, data: JSON.parse(data) as Record<string, unknown> })
          for (const w of waiters) w()
        }
      }
    })()
  }
  const r: Reader = {
    events,
    comments,
    headers: res.headers,
    status: res.status,
    waitFor: (match, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match)
          if (!found) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(found)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      }),
    close: () => abort.abort()
  }
  readers.push(r)
  return r
}

/** A core event, as the plugin host publishes its lifecycle events. */
const emitCore = (type: string, payload: unknown) =>
  p.run(Effect.flatMap(EventOutbox.EventOutbox, (o) => o.publishRaw({ type, source: "core", payload, actorId: null })))

const user = async (admin: string, username: string) => {
  const created = await p.http<{ id: string }>("POST", "/api/users", {
    token: admin,
    body: { username, password: "long-enough-pw" }
  })
  expect(created.status).toBe(201)
  return { id: created.body.id, token: await p.login(username, "long-enough-pw") }
}

const launch = async (token: string) => {
  const res = await p.http<{ id: string }>("POST", "/api/sessions", { token, body: { templateId: template } })
  expect(res.status).toBe(201)
  return res.body.id
}

let admin: string
let alice: { id: string; token: string }
let bob: { id: string; token: string }

beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [hello], config: { sessions: { simulatedDelayMs: 100 } } })
  admin = await p.login("admin", p.adminPassword)
  template = (
    await p.http<{ id: string }>("POST", "/api/templates", {
      token: admin,
      body: { name: "stream-app", displayName: "Stream app", image: "x:1" }
    })
  ).body.id
  alice = await user(admin, "alice")
  bob = await user(admin, "bob")
}, 60_000)

afterAll(async () => {
  for (const r of readers) r.close()
  EventStream.handleOf(p.app)?.close()
  await p.close()
})

test("anonymous and bad tokens are refused with a problem document", async () => {
  const anonymous = await p.app.handle(new Request("http://localhost/api/events/stream"))
  expect(anonymous.status).toBe(401)
  expect(anonymous.headers.get("content-type")).toContain("application/problem+json")
  expect(((await anonymous.json()) as { code: string }).code).toBe("unauthorized")
  const forged = await p.app.handle(
    new Request("http://localhost/api/events/stream", { headers: { authorization: "Bearer not-a-token" } })
  )
  expect(forged.status).toBe(401)
  // A client that does not ask for a stream is told so instead of waiting forever.
  const plain = await p.http<{ code: string }>("GET", "/api/events/stream", { token: alice.token })
  expect(plain.status).toBe(406)
  expect(plain.body.code).toBe("not_acceptable")
})

test("a client receives its own session's events live, not another user's; shares make them visible", async () => {
  const stream = await open(alice.token)
  expect(stream.status).toBe(200)
  expect(stream.headers.get("content-type")).toContain("text/event-stream")
  const ready = await stream.waitFor((e) => e.event === "ready")
  expect(ready.id).toMatch(/^\d+-\d+$/)

  const bobSession = await launch(bob.token)
  const mine = await launch(alice.token)
  const created = await stream.waitFor((e) => e.event === "session.created" && e.data["sessionId"] === mine)
  expect(created.data["userId"]).toBe(alice.id)
  expect(created.data["state"]).toBe("pending")
  expect(created.id).toMatch(/^\d+-\d+$/)
  const started = await stream.waitFor((e) => e.event === "session.started" && e.data["sessionId"] === mine)
  expect(started.data["state"]).toBe("running")

  // Bob's own stream sees his session; Alice's never did.
  const bobStream = await open(bob.token, { "last-event-id": ready.id! })
  await bobStream.waitFor((e) => e.event === "session.started" && e.data["sessionId"] === bobSession)
  expect(bobStream.events.some((e) => e.data["sessionId"] === mine)).toBe(false)
  expect(stream.events.some((e) => e.data["sessionId"] === bobSession)).toBe(false)

  // Shared with Alice: she sees what happens to it from then on.
  expect(
    (
      await p.http("POST", `/api/sessions/${bobSession}/shares`, {
        token: bob.token,
        body: { userId: alice.id, access: "view" }
      })
    ).status
  ).toBe(204)
  expect((await p.http("POST", `/api/sessions/${bobSession}/hibernate`, { token: bob.token })).status).toBe(202)
  await stream.waitFor((e) => e.event === "session.hibernated" && e.data["sessionId"] === bobSession)

  // The admin (sessions:admin) sees everyone's.
  const adminStream = await open(admin, { "last-event-id": ready.id! })
  await adminStream.waitFor((e) => e.event === "session.started" && e.data["sessionId"] === mine)
  await adminStream.waitFor((e) => e.event === "session.started" && e.data["sessionId"] === bobSession)
}, 60_000)

test("Last-Event-ID resumes after the event named, and an unknown one asks for a reset", async () => {
  const stream = await open(alice.token)
  await stream.waitFor((e) => e.event === "ready")
  const session = await launch(alice.token)
  const created = await stream.waitFor((e) => e.event === "session.created" && e.data["sessionId"] === session)
  await stream.waitFor((e) => e.event === "session.started" && e.data["sessionId"] === session)
  stream.close()

  const resumed = await open(alice.token, { "last-event-id": created.id! })
  const replayed = await resumed.waitFor((e) => e.data["sessionId"] === session)
  expect(replayed.event).toBe("session.started")
  expect(resumed.events.some((e) => e.event === "session.created" && e.data["sessionId"] === session)).toBe(false)
  expect(resumed.events.some((e) => e.event === "ready")).toBe(false)
  // Live after the replay.
  expect((await p.http("DELETE", `/api/sessions/${session}`, { token: alice.token })).status).toBe(202)
  await resumed.waitFor((e) => e.event === "session.deleted" && e.data["sessionId"] === session)

  const unknown = await open(alice.token, { "last-event-id": "garbage" })
  const reset = await unknown.waitFor((e) => e.event === "reset")
  expect(reset.id).toMatch(/^\d+-\d+$/)
}, 60_000)

test("plugin lifecycle events reach every logged-in user with only the plugin id", async () => {
  const stream = await open(bob.token)
  await stream.waitFor((e) => e.event === "ready")
  // The plugin host's own events, from the admin API.
  expect((await p.http("POST", "/api/admin/plugins/hello/install", { token: admin })).status).toBe(200)
  expect((await p.http("POST", "/api/admin/plugins/hello/enable", { token: admin })).status).toBe(200)
  const installed = await stream.waitFor((e) => e.event === "plugin.installed")
  expect(installed.data).toEqual({
    id: expect.any(String),
    type: "plugin.installed",
    pluginId: "hello",
    occurredAt: expect.any(String)
  })
  await stream.waitFor((e) => e.event === "plugin.enabled" && e.data["pluginId"] === "hello")
  // Only the id, whatever else a payload carries.
  await emitCore("plugin.configured", { plugin: "hello", secret: "must-not-leak" })
  const configured = await stream.waitFor((e) => e.event === "plugin.configured")
  expect(JSON.stringify(configured.data)).not.toContain("must-not-leak")
  // Other event types (logins, events of plugins posing as lifecycle events) are not carried.
  await p.login("alice", "long-enough-pw")
  await p.emit("plugin.uninstalled", { pluginId: "spoofed" })
  expect((await p.http("POST", "/api/admin/plugins/hello/disable", { token: admin })).status).toBe(200)
  await stream.waitFor((e) => e.event === "plugin.disabled")
  expect(stream.events.some((e) => e.event.startsWith("user."))).toBe(false)
  expect(stream.events.some((e) => e.data["pluginId"] === "spoofed")).toBe(false)
}, 60_000)

test("closing ends every open stream", async () => {
  const stream = await open(alice.token)
  await stream.waitFor((e) => e.event === "ready")
  const handle = EventStream.handleOf(p.app)
  expect(handle?.clients()).toBeGreaterThan(0)
  handle?.close()
  expect(handle?.clients()).toBe(0)
  const after = await p.app.handle(
    new Request("http://localhost/api/events/stream", {
      headers: { authorization: `Bearer ${alice.token}`, accept: "text/event-stream" }
    })
  )
  expect(after.status).toBe(503)
}, 30_000)
