/**
 * Two server processes on one PostgreSQL database with one webhook: users
 * created through both become one accepted request each at a receiver that
 * fails now and then — never two, though both instances fan events out and
 * send (and retry) queued deliveries.
 */
import { afterAll, expect, test } from "bun:test"
import { LocalServer, ServerDatabase, ServerProcess } from "@streamspace/testing"

let db: ServerDatabase.ServerDatabase
const env = {
  STREAMSPACE_ADMIN_PASSWORD: "webhook-admin-password",
  STREAMSPACE_RATE_LIMIT: "false",
  STREAMSPACE_LOG_LEVEL: "error"
}
const USERS = 60

afterAll(() => db?.drop())

const login = async (url: string) =>
  ((await (await fetch(`${url}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: env.STREAMSPACE_ADMIN_PASSWORD }) })).json()) as { accessToken: string }).accessToken

test("each event reaches the webhook once although two instances fan out and send", async () => {
  db = await ServerDatabase.create()
  // Every fifth request fails with 503: retries are spread over both instances too.
  const receiver = LocalServer.start((_, i) => (i % 5 === 4 ? new Response("busy", { status: 503 }) : new Response("ok")))
  const a = await ServerProcess.start({ ...env, DATABASE_URL: db.url })
  const b = await ServerProcess.start({ ...env, DATABASE_URL: db.url })
  try {
    const [ta, tb] = [await login(a.url), await login(b.url)]
    const hook = await fetch(`${b.url}/api/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tb}` },
      body: JSON.stringify({ name: "replicas", url: `${receiver.url}/hook`, eventTypes: ["user.created"] })
    })
    expect(hook.status).toBe(201)
    await Promise.all(Array.from({ length: USERS }, async (_, i) => {
      const [url, token] = i % 2 === 0 ? [a.url, ta] : [b.url, tb]
      const res = await fetch(`${url}/api/users`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ username: `replica${i}`, password: "long-enough-pw" }) })
      expect(res.status).toBe(201)
    }))
    const accepted = () => receiver.requests.filter((_, i) => i % 5 !== 4)
    const deadline = Date.now() + 60_000
    while (accepted().length < USERS && Date.now() < deadline) await Bun.sleep(50)
    // Anything sent twice would arrive within the next retry round.
    await Bun.sleep(1500)
    const usernames = accepted().map((r) => (r.json as { payload: { username: string } }).payload.username)
    expect(usernames).toHaveLength(USERS)
    expect(new Set(usernames)).toEqual(new Set(Array.from({ length: USERS }, (_, i) => `replica${i}`)))
    const deliveries = new Set(accepted().map((r) => r.headers.get("x-streamspace-delivery")))
    expect(deliveries.size).toBe(USERS)
  } finally {
    await a.stop()
    await b.stop()
    await receiver.stop()
  }
}, 120_000)
