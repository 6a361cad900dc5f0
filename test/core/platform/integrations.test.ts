import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { IntegrationDeliveries, Integrations } from "@streamspace/core"
import { TestPlatform } from "@streamspace/testing"
import { Effect } from "effect"

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make()
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

interface IntegrationBody {
  readonly id: string
  readonly config: Record<string, unknown>
  readonly secretFields: ReadonlyArray<string>
}

describe(`integrations (${TestPlatform.engine()})`, () => {
  test("secret fields are encrypted at rest, masked on read, write-only on update", async () => {
    const created = await p.http<IntegrationBody>("POST", "/api/integrations", {
      token: admin,
      body: {
        provider: "slack",
        name: "ops",
        config: { channel: "#ops", webhookUrl: "https://hooks.example/T000/B000/XXXX", signing: "s3cr3t-value" },
        secretFields: ["signing", "webhookUrl"]
      }
    })
    expect(created.status).toBe(201)
    expect(created.body.config).toEqual({ channel: "#ops", webhookUrl: "********", signing: "********" })
    expect(created.body.secretFields).toEqual(["signing", "webhookUrl"])
    const raw = await p.run(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<Record<string, unknown>>`SELECT * FROM integrations WHERE id = ${created.body.id}`
      )
    )
    expect(JSON.stringify(raw)).not.toContain("XXXX")
    expect(JSON.stringify(raw)).not.toContain("s3cr3t-value")
    const updated = await p.http<IntegrationBody>("PATCH", `/api/integrations/${created.body.id}`, {
      token: admin,
      body: { config: { channel: "#alerts", webhookUrl: "********" } }
    })
    expect(updated.body.config).toEqual({ channel: "#alerts", webhookUrl: "********", signing: "********" })
    const resolved = await p.run(Effect.flatMap(Integrations.Integrations, (i) => i.resolve(created.body.id)))
    expect(resolved.config).toEqual({
      channel: "#alerts",
      webhookUrl: "https://hooks.example/T000/B000/XXXX",
      signing: "s3cr3t-value"
    })
    await p.http("PATCH", `/api/integrations/${created.body.id}`, { token: admin, body: { config: { signing: null } } })
    const after = await p.run(Effect.flatMap(Integrations.Integrations, (i) => i.resolve(created.body.id)))
    expect(after.config).not.toHaveProperty("signing")
    expect((await p.http("GET", "/api/integrations?provider=slack", { token: admin })).text).not.toContain("XXXX")
  })

  test("validation, conflicts, permissions, 404, deliveries list", async () => {
    const bad = await p.http<{ errors: ReadonlyArray<{ path: string }> }>("POST", "/api/integrations", {
      token: admin,
      body: { provider: "Bad Provider", name: "" }
    })
    expect(bad.status).toBe(400)
    expect(bad.body.errors.map((e) => e.path)).toEqual(expect.arrayContaining(["body.provider", "body.name"]))
    const first = await p.http<IntegrationBody>("POST", "/api/integrations", {
      token: admin,
      body: { provider: "pagerduty", name: "main" }
    })
    expect(
      (await p.http("POST", "/api/integrations", { token: admin, body: { provider: "pagerduty", name: "main" } }))
        .status
    ).toBe(409)
    expect((await p.http("GET", "/api/integrations")).status).toBe(401)
    const { token: integrator } = await p.makeUser("integrator")
    expect((await p.http("GET", "/api/integrations", { token: integrator })).status).toBe(403)
    expect((await p.http("GET", "/api/integrations/none", { token: admin })).status).toBe(404)
    const enqueue = () =>
      p.run(
        Effect.flatMap(IntegrationDeliveries.IntegrationDeliveries, (d) =>
          d.enqueue({
            integrationId: first.body.id,
            dedupeKey: "event:1",
            subject: "session.created",
            payload: { x: 1 }
          })
        )
      )
    const queued = await enqueue()
    expect(queued.created).toBe(true)
    expect(await enqueue()).toEqual({ id: queued.id, created: false })
    const deliveries = await p.http<{ items: ReadonlyArray<{ id: string; status: string; attempts: number }> }>(
      "GET",
      `/api/integrations/${first.body.id}/deliveries`,
      { token: admin }
    )
    // No plugin sends pagerduty deliveries here: the delivery waits in the queue.
    expect(deliveries.body.items).toEqual([expect.objectContaining({ id: queued.id, status: "pending", attempts: 0 })])
    expect(
      (
        await p.http<{ items: unknown[] }>("GET", `/api/integrations/${first.body.id}/deliveries?status=dead`, {
          token: admin
        })
      ).body.items
    ).toEqual([])
    const badStatus = await p.http<{ errors: ReadonlyArray<{ path: string }> }>(
      "GET",
      `/api/integrations/${first.body.id}/deliveries?status=lost`,
      { token: admin }
    )
    expect(badStatus.status).toBe(400)
    expect(badStatus.body.errors[0]?.path).toBe("query.status")
    const notReplayable = await p.http<{ code: string }>(
      "POST",
      `/api/integrations/${first.body.id}/deliveries/${queued.id}/replay`,
      { token: admin }
    )
    expect(notReplayable.status).toBe(409)
    expect(
      (await p.http("POST", `/api/integrations/${first.body.id}/deliveries/nope/replay`, { token: admin })).status
    ).toBe(404)
    expect((await p.http("DELETE", `/api/integrations/${first.body.id}`, { token: admin })).status).toBe(204)
    expect((await p.http("GET", `/api/integrations/${first.body.id}/deliveries`, { token: admin })).status).toBe(404)
  })
})

describe("core events", () => {
  test("an event exists only if its change committed; each has id, time and actor, and decodes with the catalog", async () => {
    const { CoreEvents, EventOutbox, Actor } = await import("@streamspace/core")
    const { Schema } = await import("effect")
    const before = await p.run(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: string }>`SELECT count(*) AS n FROM events`)
    )
    const rolledBack = await p.runtime.runPromiseExit(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const outbox = yield* EventOutbox.EventOutbox
        yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* outbox.publish("user.created", { userId: "u-rollback", username: "ghost" })
            return yield* Effect.fail("abort")
          })
        )
      }).pipe(Effect.provideService(Actor.CurrentActor, Actor.system("test")))
    )
    expect(rolledBack._tag).toBe("Failure")
    const after = await p.run(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: string }>`SELECT count(*) AS n FROM events`)
    )
    expect(after[0]!.n).toBe(before[0]!.n)
    await p.http("POST", "/api/users", { token: admin, body: { username: "evented", password: "long-enough-pw" } })
    const rows = await p.run(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) =>
          sql<{
            id: string
            type: string
            payload: unknown
            actor_id: string | null
            occurred_at: Date
          }>`SELECT * FROM events WHERE type = 'user.created' ORDER BY position DESC LIMIT 1`
      )
    )
    const e = rows[0]!
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(e.occurred_at).toBeInstanceOf(Date)
    expect(e.actor_id).not.toBeNull()
    expect(Schema.decodeUnknownSync(CoreEvents.catalog["user.created"])(e.payload)).toMatchObject({
      username: "evented"
    })
  })
})
