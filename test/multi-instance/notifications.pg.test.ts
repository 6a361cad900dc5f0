/**
 * Two server processes on one PostgreSQL database with the Slack plugin:
 * users created through both become one message each at a receiver that
 * fails now and then — never two, though both instances handle events and
 * send queued deliveries.
 */
import { afterAll, expect, test } from "bun:test"
import { ServerDatabase } from "@streamspace/testing"
import * as ReplicaScenario from "./ReplicaScenario.ts"

let db: ServerDatabase.ServerDatabase
const USERS = 60

afterAll(() => db?.drop())

test("each notification is sent once although two instances handle and send", async () => {
  db = await ServerDatabase.create()
  const scenario = await ReplicaScenario.start({
    DATABASE_URL: db.url,
    STREAMSPACE_ADMIN_PASSWORD: "notify-root-password",
    STREAMSPACE_PLUGINS: "slack",
    STREAMSPACE_RATE_LIMIT: "false",
    STREAMSPACE_LOG_LEVEL: "error"
  })
  try {
    const a = scenario.replicas[0]
    const created = await fetch(`${a.url}/api/integrations`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${a.token}` },
      body: JSON.stringify({
        provider: "slack",
        name: "ops",
        config: { webhookUrl: `${scenario.receiver.url}/services/multi`, events: ["user.created"] }
      })
    })
    expect(created.status).toBe(201)
    await scenario.createUsers("member", USERS)
    const texts = () => scenario.accepted().map((r) => (r.json as { text: string }).text)
    await scenario.settle(() => new Set(texts()).size >= USERS)
    expect(texts()).toHaveLength(USERS)
    expect(new Set(texts()).size).toBe(USERS)
  } finally {
    await scenario.stop()
  }
}, 120_000)
