/**
 * A plugin's data, the events it publishes and its route's audit row commit
 * together, as its role: in a default (transactional) POST route, and inside
 * its own `withTransaction`. A failure after the publish rolls all back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { Conflict, HttpRoute } from "@streamspace/core"
import { definePlugin, Events, PluginSql, Routes } from "@streamspace/kernel"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Layer, Schema } from "effect"

const EntryCreated = Events.define(
  "ledger.entry.created",
  Schema.Struct({ note: Schema.String }),
  "an entry was written"
)

const Body = Schema.Struct({
  note: Schema.String,
  failAfterPublish: Schema.optionalWith(Schema.Boolean, { default: () => false })
})

const ledger = definePlugin({
  id: "ledger",
  name: "Ledger",
  version: "1.0.0",
  type: "extension",
  category: "example",
  events: Events.declare(EntryCreated),
  migrations: [{ id: 1, name: "entries", sql: "CREATE TABLE entries (note text PRIMARY KEY)" }],
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const sql = yield* PluginSql
      const events = yield* Events
      const write = (body: typeof Body.Type) =>
        Effect.gen(function* () {
          yield* sql`INSERT INTO entries (note) VALUES (${body.note})`
          yield* events.publish(EntryCreated, { note: body.note })
          if (body.failAfterPublish)
            return yield* new Conflict({ message: "refused after the publish", code: "refused" })
          return { note: body.note }
        })
      const routes = yield* Routes
      // The default: a POST is one transaction of the plugin's client, with its audit row.
      yield* routes.add(
        HttpRoute.make({
          method: "POST",
          path: "/entries",
          summary: "write an entry and publish it",
          permission: "authenticated",
          body: Body,
          response: Schema.Struct({ note: Schema.String }),
          audit: { action: "ledger.entry.create", target: ({ body }) => body.note },
          errors: [Conflict],
          handler: ({ body }) => write(body)
        })
      )
      yield* routes.add(
        HttpRoute.make({
          method: "POST",
          path: "/entries-in-own-transaction",
          summary: "the same, in the plugin's own withTransaction",
          permission: "authenticated",
          transactional: false,
          body: Body,
          response: Schema.Struct({ note: Schema.String }),
          errors: [Conflict],
          handler: ({ body }) => sql.withTransaction(write(body))
        })
      )
    })
  )
})

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [ledger], config: { plugins: { enabled: ["ledger"] } } })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const entries = async (note: string) =>
  (await p.query("SELECT note FROM plugin_ledger.entries WHERE note = $1", [note])).length
const events = async (note: string) =>
  (await p.query("SELECT source FROM events WHERE type = 'ledger.entry.created' AND payload->>'note' = $1", [note]))
    .length

describe(`a plugin's writes, events and audit row are atomic (${TestPlatform.engine()})`, () => {
  for (const path of ["/entries", "/entries-in-own-transaction"]) {
    test(`POST ${path}: row and event both committed`, async () => {
      const note = `ok${path}`
      const res = await p.http("POST", `/api/plugins/ledger${path}`, { token: admin, body: { note } })
      expect(res.status).toBe(200)
      expect(await entries(note)).toBe(1)
      expect(await events(note)).toBe(1)
      const [event] = await p.query<{ source: string; actor_id: string | null; payload: unknown }>(
        "SELECT source, actor_id, payload FROM events WHERE payload->>'note' = $1",
        [note]
      )
      expect(event!.source).toBe("ledger")
      expect(event!.actor_id).not.toBeNull()
      expect(Schema.decodeUnknownSync(EntryCreated.schema)(event!.payload)).toEqual({ note })
    })

    test(`POST ${path}: a failure after the publish rolls back row and event`, async () => {
      const note = `failed${path}`
      const res = await p.http<{ code: string }>("POST", `/api/plugins/ledger${path}`, {
        token: admin,
        body: { note, failAfterPublish: true }
      })
      expect(res.status).toBe(409)
      expect(await entries(note)).toBe(0)
      expect(await events(note)).toBe(0)
    })
  }

  test("the audit row of a plugin route carries the plugin id and commits with the data", async () => {
    const rows = await p.query<{ plugin: string | null; result: string; target: string | null }>(
      "SELECT plugin, result, target FROM audit_log WHERE action = 'ledger.entry.create' ORDER BY id"
    )
    expect(rows).toEqual([
      { plugin: "ledger", result: "success", target: "ok/entries" },
      // The failed request's row is written after its rollback, by the core, still naming the plugin.
      { plugin: "ledger", result: "failure", target: null }
    ])
  })

  test("its kernel function refuses events outside its namespace, and the core's tables stay closed to it", async () => {
    const role = (
      await p.query<{ r: string }>("SELECT rolname AS r FROM pg_roles WHERE rolname LIKE 'ssp_%_ledger'")
    )[0]!.r
    const asLedger = (statement: string) =>
      p
        .run(
          Effect.flatMap(SqlClient.SqlClient, (sql) =>
            sql.withTransaction(Effect.zipRight(sql.unsafe(`SET LOCAL ROLE ${role}`), sql.unsafe(statement)))
          )
        )
        .then(
          () => "ok",
          (e: unknown) => String(e)
        )
    expect(await asLedger("SELECT kernel.publish_ledger(gen_random_uuid(), 'core.fake', '{}'::jsonb, NULL)")).toContain(
      "may publish only ledger.* events"
    )
    expect(
      await asLedger("INSERT INTO public.events (id, type, payload) VALUES (gen_random_uuid(), 'ledger.x', '{}')")
    ).toContain("permission denied")
    expect(await asLedger("SELECT kernel.publish_ledger(gen_random_uuid(), 'ledger.direct', '{}'::jsonb, NULL)")).toBe(
      "ok"
    )
  })

  test("the event catalogue lists core events and the plugin's declared event with its payload Schema", async () => {
    const res = await p.http<{
      items: ReadonlyArray<{
        type: string
        source: string
        description: string
        schema: { properties?: Record<string, unknown> }
      }>
    }>("GET", "/api/events/catalogue", { token: admin })
    expect(res.status).toBe(200)
    const byType = new Map(res.body.items.map((e) => [e.type, e]))
    expect(byType.get("session.created")).toMatchObject({ source: "core" })
    expect(byType.get("ledger.entry.created")).toMatchObject({ source: "ledger", description: "an entry was written" })
    expect(Object.keys(byType.get("ledger.entry.created")!.schema.properties ?? {})).toEqual(["note"])
    expect((await p.http("GET", "/api/events/catalogue")).status).toBe(401)
  })

  test("delivery sees the plugin's events (they are in the outbox, not a side table)", async () => {
    expect(await events("ok/entries")).toBe(1)
  })
})
