/**
 * Typed events and storage through a real platform: a subscription by
 * definition hands its handler the decoded payload (a payload that does not
 * decode is retried and dead-lettered naming the field, and in a batch only
 * that event is); several definitions give a union narrowed by `type`;
 * `types` with a Schema decodes (transformations included); prefixes select
 * by type; a plugin publishes its declared event by definition, and a
 * payload against its declaration is refused; storage reads with a Schema.
 */
import { afterAll, beforeAll, describe, expect, expectTypeOf, test } from "bun:test"
import { CoreEvents, HttpRoute } from "@streamspace/core"
import { definePlugin, Events, PluginSql, PluginStorage, Routes } from "@streamspace/kernel"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Layer, Option, Schema } from "effect"

const Strict = Events.define("typed.strict", Schema.Struct({ n: Schema.Number }), "a number, strictly")
const Measured = Events.define("typed.measured", Schema.Struct({ n: Schema.Int }), "batched measurements")
const Greeted = Events.define(
  "typed.greeted",
  Schema.Struct({ name: Schema.String.pipe(Schema.minLength(1)) }),
  "someone was greeted"
)

const typed = definePlugin({
  id: "typed",
  name: "Typed",
  version: "1.0.0",
  type: "extension",
  category: "example",
  events: Events.declare(Strict, Measured, Greeted),
  migrations: [
    { id: 1, name: "seen", sql: "CREATE TABLE seen (seq bigserial, sub text NOT NULL, value text NOT NULL)" }
  ],
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const sql = yield* PluginSql
      const events = yield* Events
      const storage = yield* PluginStorage
      const seen = (sub: string, value: string) =>
        sql`INSERT INTO seen (sub, value) VALUES (${sub}, ${value})`.pipe(Effect.asVoid)

      yield* events.subscribe({ name: "users", event: CoreEvents.UserCreated }, (event) => {
        expectTypeOf(event.type).toEqualTypeOf<"user.created">()
        expectTypeOf(event.payload).toEqualTypeOf<{ readonly userId: string; readonly username: string }>()
        return seen("users", event.payload.username)
      })
      yield* events.subscribe({ name: "strict", event: Strict, maxAttempts: 2 }, (event) =>
        seen("strict", String(event.payload.n + 1))
      )
      yield* events.subscribe(
        { name: "sessions", events: [CoreEvents.SessionCreated, CoreEvents.QuotaExceeded] },
        (event) => {
          switch (event.type) {
            case "session.created":
              return seen("sessions", `created ${event.payload.templateId}`)
            case "quota.exceeded":
              return seen("sessions", `quota ${event.payload.limit} ${event.payload.max}`)
          }
        }
      )
      yield* events.subscribe(
        { name: "parsed", types: ["typed.text"], schema: Schema.Struct({ n: Schema.NumberFromString }) },
        (event) => {
          expectTypeOf(event.payload.n).toEqualTypeOf<number>()
          return seen("parsed", String(event.payload.n * 2))
        }
      )
      yield* events.subscribe({ name: "prefix", types: ["typed.ping.*"] }, (event) => {
        expectTypeOf(event.payload).toEqualTypeOf<unknown>()
        return seen("prefix", event.type)
      })
      yield* events.subscribeBatch({ name: "batch", event: Measured, maxAttempts: 2, maxBatch: 50 }, (batch) =>
        seen("batch", batch.map((e) => e.payload.n).join(","))
      )

      const routes = yield* Routes
      yield* routes.add(
        HttpRoute.make({
          method: "POST",
          path: "/greet",
          summary: "Publish typed.greeted by its definition, or with a Schema that disagrees with the declaration",
          permission: "authenticated",
          body: Schema.Struct({ name: Schema.String, mismatched: Schema.optional(Schema.Boolean) }),
          response: Schema.Struct({ id: Schema.String }),
          handler: ({ body }) =>
            Effect.map(
              body.mismatched
                ? events.publish("typed.greeted", Schema.Struct({ name: Schema.String }), { name: body.name })
                : events.publish(Greeted, { name: body.name }),
              (id) => ({ id })
            )
        })
      )
      yield* routes.add(
        HttpRoute.make({
          method: "POST",
          path: "/storage",
          summary: "Write typed values and read them back",
          permission: "authenticated",
          transactional: false,
          response: Schema.Struct({
            count: Schema.Number,
            year: Schema.Number,
            stored: Schema.Unknown,
            missing: Schema.Boolean,
            bad: Schema.String,
            listed: Schema.Array(Schema.Number)
          }),
          handler: () =>
            Effect.gen(function* () {
              yield* storage.set("count", 41)
              yield* storage.set("when", new Date("2030-05-01T00:00:00Z"), Schema.Date)
              yield* storage.set("bad", "not a number")
              yield* storage.set("n/1", 1)
              yield* storage.set("n/2", 2)
              const count = yield* storage.get("count", Schema.Number)
              const when = yield* storage.get("when", Schema.Date)
              const stored = yield* storage.get("when")
              const missing = yield* storage.get("nothing here", Schema.Number)
              const bad = yield* storage
                .get("bad", Schema.Number)
                .pipe(Effect.match({ onFailure: (e) => e.message, onSuccess: () => "decoded?!" }))
              const listed = yield* storage.list("n/", Schema.Number)
              return {
                count: Option.getOrElse(count, () => 0) + 1,
                year: Option.match(when, { onNone: () => 0, onSome: (d) => d.getUTCFullYear() }),
                stored: Option.getOrNull(stored),
                missing: Option.isNone(missing),
                bad,
                listed: listed.map((e) => e.value)
              }
              // A value that does not decode is not the caller's error: undeclared, so a defect.
            }).pipe(Effect.catchTag("StorageValueInvalid", Effect.die))
        })
      )
    })
  )
})

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [typed], config: { plugins: { enabled: ["typed"] } } })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const seen = (sub: string) =>
  p
    .query<{ value: string }>("SELECT value FROM plugin_typed.seen WHERE sub = $1 ORDER BY seq", [sub])
    .then((rows) => rows.map((r) => r.value))
const deadLetters = () =>
  p
    .http<{ items: ReadonlyArray<{ subscription: string; eventType: string; attempts: number; error: string }> }>(
      "GET",
      "/api/admin/plugins/typed/dead-letters",
      { token: admin }
    )
    .then((r) => r.body.items)

describe(`typed events (${TestPlatform.engine()})`, () => {
  test("a subscription by definition gets the decoded, typed payload of core events", async () => {
    await p.http("POST", "/api/users", { token: admin, body: { username: "typed-ada", password: "long-enough-pw" } })
    await p.awaitDelivered()
    expect(await seen("users")).toEqual(["typed-ada"])
  })

  test("a payload that does not decode is retried, then dead-lettered with the field named; good ones still arrive", async () => {
    await p.emit("typed.strict", { n: "seven" })
    await p.emit("typed.strict", { n: 7 })
    const letters = await p.eventually(async () => {
      const items = (await deadLetters()).filter((d) => d.subscription === "strict")
      return items.length > 0 ? items : undefined
    }, 20_000)
    expect(letters).toEqual([expect.objectContaining({ eventType: "typed.strict", attempts: 2 })])
    expect(letters[0]!.error).toContain("payload.n")
    expect(letters[0]!.error).toContain('Expected number, actual "seven"')
    await p.eventually(async () => ((await seen("strict")).length > 0 ? true : undefined), 20_000)
    expect(await seen("strict")).toEqual(["8"])
  }, 30_000)

  test("several definitions: the handler gets their union, narrowed by type; other types are not selected", async () => {
    const user = (
      await p.http<{ id: string }>("POST", "/api/users", {
        token: admin,
        body: { username: "typed-bob", password: "long-enough-pw" }
      })
    ).body.id
    const token = await p.login("typed-bob", "long-enough-pw")
    const template = (
      await p.http<{ id: string }>("POST", "/api/templates", {
        token: admin,
        body: { name: "typed-app", displayName: "x", image: "x:1" }
      })
    ).body.id
    await p.http("PUT", `/api/quotas/users/${user}`, { token: admin, body: { maxSessions: 1 } })
    expect((await p.http("POST", "/api/sessions", { token, body: { templateId: template } })).status).toBe(201)
    expect((await p.http("POST", "/api/sessions", { token, body: { templateId: template } })).status).toBe(403)
    await p.awaitDelivered()
    expect(await seen("sessions")).toEqual([`created ${template}`, "quota sessions 1"])
  })

  test("types with a Schema decode each payload, transformations included", async () => {
    await p.emit("typed.text", { n: "21" })
    await p.awaitDelivered()
    expect(await seen("parsed")).toEqual(["42"])
  })

  test("a prefix type selects every type under it, and only those", async () => {
    await p.emit("typed.ping.a", {})
    await p.emit("typed.pong", {})
    await p.emit("typed.ping.b.c", {})
    await p.emit("typed.pingx", {})
    await p.eventually(async () => ((await seen("prefix")).length >= 2 ? true : undefined))
    await p.emit("typed.ping.d", {})
    await p.eventually(async () => ((await seen("prefix")).length >= 3 ? true : undefined))
    expect(await seen("prefix")).toEqual(["typed.ping.a", "typed.ping.b.c", "typed.ping.d"])
  })

  test("in a batch, an event that does not decode is dead-lettered on its own; the rest arrive decoded", async () => {
    expect((await p.http("POST", "/api/admin/plugins/typed/disable", { token: admin })).status).toBe(200)
    for (const n of [1, 2, 3]) await p.emit("typed.measured", { n })
    await p.emit("typed.measured", { n: 4.5 })
    for (const n of [5, 6]) await p.emit("typed.measured", { n })
    expect((await p.http("POST", "/api/admin/plugins/typed/enable", { token: admin })).status).toBe(200)
    const letters = await p.eventually(async () => {
      const items = (await deadLetters()).filter((d) => d.subscription === "batch")
      return items.length > 0 ? items : undefined
    }, 20_000)
    expect(letters).toEqual([
      expect.objectContaining({ eventType: "typed.measured", attempts: 2, error: expect.stringContaining("payload.n") })
    ])
    await p.awaitDelivered(20_000)
    expect((await seen("batch")).flatMap((v) => v.split(","))).toEqual(["1", "2", "3", "5", "6"])
  }, 30_000)

  test("a plugin publishes its declared event by definition; a payload against the declaration is refused", async () => {
    const ok = await p.http<{ id: string }>("POST", "/api/plugins/typed/greet", { token: admin, body: { name: "Ada" } })
    expect(ok.status).toBe(200)
    const row = (
      await p.query<{ type: string; source: string; payload: unknown }>(
        "SELECT type, source, payload FROM events WHERE id = $1",
        [ok.body.id]
      )
    )[0]!
    expect(row).toMatchObject({ type: "typed.greeted", source: "typed" })
    expect(Schema.decodeUnknownSync(Greeted.schema)(row.payload)).toEqual({ name: "Ada" })

    // By definition, the definition's Schema applies (minLength 1); with another Schema, the declaration still does.
    expect((await p.http("POST", "/api/plugins/typed/greet", { token: admin, body: { name: "" } })).status).toBe(500)
    expect(
      (await p.http("POST", "/api/plugins/typed/greet", { token: admin, body: { name: "", mismatched: true } })).status
    ).toBe(500)
    const greeted = await p.query<{ payload: { name: string } }>(
      "SELECT payload FROM events WHERE type = 'typed.greeted'"
    )
    expect(greeted.map((r) => r.payload.name)).toEqual(["Ada"])
  })

  test("storage reads with a Schema: typed values, encoded forms, and a refused value naming its key", async () => {
    const res = await p.http<{
      count: number
      year: number
      stored: unknown
      missing: boolean
      bad: string
      listed: ReadonlyArray<number>
    }>("POST", "/api/plugins/typed/storage", { token: admin })
    expect(res.status).toBe(200)
    // The Date went in through its Schema, so it is stored in its encoded form (and read without a Schema as such).
    expect(res.body).toMatchObject({
      count: 42,
      year: 2030,
      stored: "2030-05-01T00:00:00.000Z",
      missing: true,
      listed: [1, 2]
    })
    expect(res.body.bad).toContain('storage key "bad"')
    expect(res.body.bad).toContain('Expected number, actual "not a number"')
  })
})
