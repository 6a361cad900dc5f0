/**
 * A real server process, killed with SIGKILL between an event and its
 * notification — once after a failed attempt, once right after the event
 * was accepted — and started again: every notification arrives, once.
 * Runs on embedded PGlite (a data directory) and, with TEST_DATABASE_URL,
 * on a fresh PostgreSQL database. Every wait is on a condition with a
 * deadline sized for a busy machine; no fixed sleeps.
 */
import { afterAll, expect, test } from "bun:test"
import { Eventually, LocalServer, ServerDatabase, ServerProcess } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-notify-restart-"))
// On PostgreSQL when TEST_DATABASE_URL is set (a database of its own), on embedded PGlite otherwise.
const db = process.env["TEST_DATABASE_URL"] ? await ServerDatabase.create() : undefined
Fs.writeFileSync(
  Path.join(dir, "streamspace.config.json"),
  JSON.stringify({ integrations: { backoffBaseMs: 200, maxAttempts: 50, timeoutMs: 2000 } })
)
const env = {
  STREAMSPACE_CONFIG: Path.join(dir, "streamspace.config.json"),
  STREAMSPACE_DATA_DIR: Path.join(dir, "data"),
  DATABASE_URL: db?.url ?? "",
  STREAMSPACE_ADMIN_PASSWORD: "restart-root-pw",
  STREAMSPACE_PLUGINS: "slack"
}

afterAll(async () => {
  // Servers first: one left running (a failed test) must not outlive its data directory.
  await ServerProcess.stopAll()
  Fs.rmSync(dir, { recursive: true, force: true })
  await db?.drop()
})

const client = (url: string) => {
  let token = ""
  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await res.text()
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T }
  }
  return {
    call,
    login: async () => {
      token = (
        await call<{ accessToken: string }>("POST", "/api/auth/login", {
          username: "admin",
          password: env.STREAMSPACE_ADMIN_PASSWORD
        })
      ).body.accessToken
    }
  }
}

test("no notification is lost when the server dies between an event and its delivery", async () => {
  const probe = LocalServer.start()
  const port = probe.port
  await probe.stop()

  // 1. The receiver is down: the first attempt fails, then the process is killed.
  let server = await ServerProcess.start(env)
  let api = client(server.url)
  await api.login()
  const integration = await api.call<{ id: string }>("POST", "/api/integrations", {
    provider: "slack",
    name: "ops",
    config: { webhookUrl: `http://127.0.0.1:${port}/services/restart`, events: ["user.created"] }
  })
  expect(integration.status).toBe(201)
  expect((await api.call("POST", "/api/users", { username: "ada", password: "long-enough-pw" })).status).toBe(201)
  await Eventually.eventually(async () => {
    const d = (
      await api.call<{ items: ReadonlyArray<{ attempts: number }> }>(
        "GET",
        `/api/integrations/${integration.body.id}/deliveries`
      )
    ).body.items
    expect(d[0]?.attempts ?? 0).toBeGreaterThanOrEqual(1)
    return true
  })
  // 2. A second event, and the process dies at once (before the event reached the plugin or the receiver).
  expect((await api.call("POST", "/api/users", { username: "bob", password: "long-enough-pw" })).status).toBe(201)
  server.proc.kill("SIGKILL")
  await server.proc.exited

  const receiver = LocalServer.start(() => new Response("ok"), port)
  server = await ServerProcess.start(env)
  api = client(server.url)
  await api.login()
  // A delivery the killed process had claimed (an attempt in flight) is retried once its lease ends:
  // the attempt timeout (2 s here) plus 30 s, so no other replica sends it twice. Wait past that.
  await receiver.waitFor(2, 75_000)
  await Eventually.eventually(async () => {
    const d = (
      await api.call<{ items: ReadonlyArray<{ status: string }> }>(
        "GET",
        `/api/integrations/${integration.body.id}/deliveries`
      )
    ).body.items
    expect(d.map((x) => x.status)).toEqual(["delivered", "delivered"])
    return true
  })
  // Once both are delivered nothing is due; with the sender gone and the receiver idle, the count is final.
  expect(await server.stop()).toBe(0)
  await receiver.idle()
  const texts = receiver.requests.map((r) => (r.json as { text: string }).text).sort()
  expect(texts).toEqual(["User created: ada has an account now", "User created: bob has an account now"])
  await receiver.stop()
}, 180_000)
