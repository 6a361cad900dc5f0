/**
 * Two server processes on one PostgreSQL database with one webhook: users
 * created through both become one accepted request each at a receiver that
 * fails now and then — never two, though both instances fan events out and
 * send (and retry) queued deliveries.
 */
import { afterAll, expect, test } from "bun:test"
import { ServerDatabase } from "@streamspace/testing"
import * as ReplicaScenario from "./ReplicaScenario.ts"

let db: ServerDatabase.ServerDatabase
const USERS = 60

afterAll(() => db?.drop())

test("each event reaches the webhook once although two instances fan out and send", async () => {
  db = await ServerDatabase.create()
  const scenario = await ReplicaScenario.start({
    DATABASE_URL: db.url,
    STREAMSPACE_ADMIN_PASSWORD: "webhook-root-password",
    STREAMSPACE_RATE_LIMIT: "false",
    STREAMSPACE_LOG_LEVEL: "error"
  })
  try {
    const b = scenario.replicas[1]
    const hook = await fetch(`${b.url}/api/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${b.token}` },
      body: JSON.stringify({ name: "replicas", url: `${scenario.receiver.url}/hook`, eventTypes: ["user.created"] })
    })
    expect(hook.status).toBe(201)
    await scenario.createUsers("replica", USERS)
    await scenario.settle(() => scenario.accepted().length >= USERS)
    const usernames = scenario.accepted().map((r) => (r.json as { payload: { username: string } }).payload.username)
    expect(usernames).toHaveLength(USERS)
    expect(new Set(usernames)).toEqual(new Set(Array.from({ length: USERS }, (_, i) => `replica${i}`)))
    const deliveries = new Set(scenario.accepted().map((r) => r.headers.get("x-streamspace-delivery")))
    expect(deliveries.size).toBe(USERS)
  } finally {
    await scenario.stop()
  }
}, 120_000)
