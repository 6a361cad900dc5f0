/**
 * Two server processes on one PostgreSQL database with the Slack plugin:
 * users created through both become one message each at a receiver that
 * fails now and then — never two, though both instances handle events and
 * send queued deliveries.
 */
import { afterAll, expect, test } from "bun:test"
import { LocalServer, ServerDatabase, ServerProcess } from "@streamspace/testing"

let db: ServerDatabase.ServerDatabase
const env = {
  STREAMSPACE_ADMIN_PASSWORD: "notify-admin-password",
  STREAMSPACE_PLUGINS: "slack",
  STREAMSPACE_RATE_LIMIT: "false",
  STREAMSPACE_LOG_LEVEL: "error"
}
const USERS = 60

afterAll(() => db?.drop())

const login = async (url: string) =>
  ((await (await fetch(`${url}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: env.STREAMSPACE_ADMIN_PASSWORD }) })).json()) as { accessToken: string }).accessToken

test("each notification is sent once although two instances handle and send", async () => {
  db = await ServerDatabase.create()
  // Every fifth request fails with 503: retries are spread over both instances too.
  const receiver = LocalServer.start((_, i) => (i % 5 === 4 ? new Response("busy", { status: 503 }) : new Response("ok")))
  const a = await ServerProcess.start({ ...env, DATABASE_URL: db.url })
  const b = await ServerProcess.start({ ...env, DATABASE_URL: db.url })
  try {
    const [ta, tb] = [await login(a.url), await login(b.url)]
    const created = await fetch(`${a.url}/api/integrations`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ta}` },
      body: JSON.stringify({ provider: "slack", name: "ops", config: { webhookUrl: `${receiver.url}/services/multi`, events: ["user.created"] } })
    })
    expect(created.status).toBe(201)
    await Promise.all(Array.from({ length: USERS }, async (_, i) => {
      const [url, token] = i % 2 === 0 ? [a.url, ta] : [b.url, tb]
      const res = await fetch(`${url}/api/users`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ username: `member${i}`, password: "long-enough-pw" }) })
      expect(res.status).toBe(201)
    }))
    const deadline = Date.now() + 60_000
    const delivered = () => new Set(receiver.requests.map((r, i) => (i % 5 === 4 ? undefined : (r.json as { text: string }).text)).filter(Boolean))
    while (delivered().size < USERS && Date.now() < deadline) await Bun.sleep(50)
    await Bun.sleep(1500)
    const accepted = receiver.requests.filter((_, i) => i % 5 !== 4).map((r) => (r.json as { text: string }).text)
    expect(accepted).toHaveLength(USERS)
    expect(new Set(accepted).size).toBe(USERS)
  } finally {
    await a.stop()
    await b.stop()
    await receiver.stop()
  }
}, 120_000)
