/**
 * The pieces of typed events without a platform: declared events in the
 * manifest (validated, listed in the catalogue with their JSON Schema),
 * `PluginEvents.make`'s publish forms and its check against the declaration,
 * how a subscription reads envelopes, `CoreEvents.read`, and typed storage
 * over a host's raw JSON store.
 */
import { describe, expect, expectTypeOf, test } from "bun:test"
import { CoreEvents } from "@streamspace/core"
import { definePlugin, Events } from "@streamspace/kernel"
import { EventCatalogueHttp, Manifest, PluginEvents, TypedStorage } from "@streamspace/kernel/host"
import hello, { Greeted } from "@streamspace/plugin-hello"
import { Cause, Effect, Exit, Layer, Option, Schema } from "effect"

const plugin = (events: Readonly<Record<string, Schema.Schema.AnyNoContext>>) =>
  definePlugin({
    id: "probe",
    name: "Probe",
    version: "1.0.0",
    type: "extension",
    category: "example",
    events,
    layer: Layer.empty
  })

const envelope = (type: string, payload: unknown): Events.Event => ({
  id: "e-1",
  position: "1",
  type,
  source: "test",
  payload,
  actorId: null,
  occurredAt: new Date(0)
})

const failureOf = <A, E>(effect: Effect.Effect<A, E>) => {
  const exit = Effect.runSyncExit(effect)
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  return Cause.pretty(exit.cause)
}

describe("declared events in the manifest", () => {
  test("a well-formed declaration passes", () => {
    expect(Manifest.validate(plugin({ "probe.done": Schema.Struct({ at: Schema.Date }) }))).toEqual([])
    expect(Manifest.validate(hello)).toEqual([])
  })

  test("types must be namespaced by the plugin id and well-formed; values must be Schemas with a JSON form", () => {
    // An external plugin written in JavaScript can put anything there; this is how its manifest looks to the host.
    const untyped: unknown = { "probe.nothing": "not a schema" }
    const problems = Manifest.validate(
      plugin({
        "other.done": Schema.String,
        "probe.Bad Name": Schema.String,
        "probe.raw": Schema.Struct({ at: Schema.DateFromSelf }),
        ...(untyped as Readonly<Record<string, Schema.Schema.AnyNoContext>>)
      })
    )
    expect(problems).toEqual([
      { path: "probe.events.other.done", message: 'must be namespaced "probe.…", got other.done' },
      { path: "probe.events.probe.Bad Name", message: "dot-separated parts of lowercase letters, digits, '-' and '_'" },
      { path: "probe.events.probe.raw", message: expect.stringContaining("the payload must have a JSON form") },
      { path: "probe.events.probe.nothing", message: "not a Schema" }
    ])
  })
})

describe("the event catalogue", () => {
  const entries = EventCatalogueHttp.catalogue([hello, plugin({ "probe.done": Schema.Struct({ ok: Schema.Boolean }) })])

  test("lists every core event first, described, with the JSON Schema of its payload", () => {
    const core = entries.filter((e) => e.source === "core")
    expect(core.map((e) => e.type)).toEqual([...CoreEvents.coreEventTypes])
    for (const e of core) {
      expect(e.description.length).toBeGreaterThan(20)
      expect(e.schema).toMatchObject({ type: "object", description: e.description })
    }
    expect(core.find((e) => e.type === "quota.exceeded")?.schema).toMatchObject({
      required: ["userId", "scope", "scopeId", "limit", "max", "requested"],
      properties: { scope: { enum: ["user", "group"] }, max: { type: "number" } }
    })
  })

  test("then each plugin's declared events, with the plugin as source", () => {
    expect(entries.filter((e) => e.source !== "core")).toEqual([
      {
        type: "hello.greeted",
        source: "hello",
        description: "hello greeted a new user",
        schema: expect.objectContaining({
          type: "object",
          required: ["username"],
          properties: { username: { type: "string" } }
        })
      },
      {
        type: "probe.done",
        source: "probe",
        description: "",
        schema: expect.objectContaining({ properties: { ok: { type: "boolean" } } })
      }
    ])
  })
})

describe("PluginEvents.make: publishing", () => {
  const published: Array<{ type: string; encoded: unknown }> = []
  const host: PluginEvents.HostEvents = {
    subscribe: () => Effect.void,
    subscribeBatch: () => Effect.void,
    publish: (type, schema, payload) =>
      Effect.map(Schema.encode(schema)(payload).pipe(Effect.orDie), (encoded) => {
        published.push({ type, encoded })
        return `id-${published.length}`
      })
  }
  const At = Events.define("probe.at", Schema.Struct({ at: Schema.Date }))
  const events = PluginEvents.make(host, Events.declare(At))

  test("by definition: the definition's type and Schema (a Date goes out encoded)", () => {
    expect(Effect.runSync(events.publish(At, { at: new Date("2031-01-02T03:04:05Z") }))).toBe("id-1")
    expect(published.at(-1)).toEqual({ type: "probe.at", encoded: { at: "2031-01-02T03:04:05.000Z" } })
  })

  test("with a type and a Schema, as before; checked against the declared Schema of that type", () => {
    expect(Effect.runSync(events.publish("probe.other", Schema.Struct({ n: Schema.Number }), { n: 1 }))).toBe("id-2")
    expect(
      Effect.runSync(events.publish("probe.at", Schema.Struct({ at: Schema.String }), { at: "2031-01-02T00:00:00Z" }))
    ).toBe("id-3")
    const refused = failureOf(events.publish("probe.at", Schema.Struct({ at: Schema.Number }), { at: 5 }))
    expect(refused).toContain(
      "event probe.at: the payload does not match the Schema declared in the manifest: payload.at:"
    )
    expect(published).toHaveLength(3)
  })
})

describe("how a subscription reads events", () => {
  test("by definitions: their types, each payload decoded with its own Schema", () => {
    const r = PluginEvents.reading({ name: "x", events: [CoreEvents.UserCreated, CoreEvents.FileUploaded] })
    expect(r.types).toEqual(["user.created", "file.uploaded"])
    const e = Effect.runSync(r.decode(envelope("user.created", { userId: "u", username: "ada", extra: true })))
    expect(e.payload).toEqual({ userId: "u", username: "ada" })
    expectTypeOf(e).toEqualTypeOf<CoreEvents.EventOf<typeof CoreEvents.UserCreated | typeof CoreEvents.FileUploaded>>()
  })

  test("a payload that does not decode fails with every bad field named", () => {
    const r = PluginEvents.reading({ name: "x", event: CoreEvents.FileUploaded })
    const exit = Effect.runSyncExit(
      r.decode(envelope("file.uploaded", { fileId: "f", userId: 7, sessionId: null, name: "a" }))
    )
    expect(exit).toMatchObject({ _tag: "Failure" })
    const error = Exit.isFailure(exit) ? Option.getOrThrow(Cause.failureOption(exit.cause)) : undefined
    expect(error?._tag).toBe("EventPayloadInvalid")
    expect(error?.issues).toEqual([
      { path: "payload.userId", message: "Expected string, actual 7" },
      { path: "payload.size", message: "is missing" }
    ])
    expect(error?.message).toBe(
      "event file.uploaded e-1: the payload does not match its Schema: payload.userId: Expected string, actual 7; payload.size: is missing"
    )
  })

  test("untyped types (exact, prefix, *) are handed over as they are", () => {
    const r = PluginEvents.reading({ name: "x", types: ["session.*", "*"] })
    expect(r.types).toEqual(["session.*", "*"])
    const e = Effect.runSync(r.decode(envelope("session.created", { anything: 1 })))
    expect(e.payload).toEqual({ anything: 1 })
    expectTypeOf(e.payload).toEqualTypeOf<unknown>()
  })
})

describe("CoreEvents.read", () => {
  test("a core event with its decoded payload, narrowed by type", () => {
    const e = Option.getOrThrow(
      CoreEvents.read(
        envelope("quota.exceeded", { userId: "u", scope: "group", scopeId: "g", limit: "cpu", max: 2, requested: 3 })
      )
    )
    if (e.type !== "quota.exceeded") throw new Error(`read as ${e.type}`)
    expect(e.payload.scope).toBe("group")
  })

  test("none for a core type whose payload does not match, and for other events", () => {
    expect(CoreEvents.read(envelope("user.login", { userId: "u" }))).toEqual(Option.none())
    expect(CoreEvents.read(envelope("hello.greeted", { username: "ada" }))).toEqual(Option.none())
  })
})

describe("typed storage over the host's JSON store", () => {
  const memory = new Map<string, unknown>()
  const storage = TypedStorage.make({
    get: (key) => Effect.sync(() => Option.fromNullable(memory.get(key))),
    set: (key, value) => Effect.sync(() => void memory.set(key, JSON.parse(JSON.stringify(value)))),
    delete: (key) => Effect.sync(() => void memory.delete(key)),
    list: (prefix) =>
      Effect.sync(() =>
        [...memory.entries()].filter(([k]) => k.startsWith(prefix)).map(([key, value]) => ({ key, value }))
      )
  })

  test("get with a Schema decodes; absent is none; without a Schema the stored JSON", () => {
    Effect.runSync(storage.set("ticks", 3))
    Effect.runSync(storage.set("since", new Date("2030-01-01T00:00:00Z"), Schema.Date))
    const ticks = Effect.runSync(storage.get("ticks", Schema.Number))
    expectTypeOf(ticks).toEqualTypeOf<Option.Option<number>>()
    expect(ticks).toEqual(Option.some(3))
    expect(Effect.runSync(storage.get("since", Schema.Date))).toEqual(Option.some(new Date("2030-01-01T00:00:00Z")))
    expect(Effect.runSync(storage.get("since"))).toEqual(Option.some("2030-01-01T00:00:00.000Z"))
    expect(Effect.runSync(storage.get("absent", Schema.Number))).toEqual(Option.none())
  })

  test("a stored value the Schema refuses is a StorageValueInvalid naming the key and the field", () => {
    Effect.runSync(storage.set("prefs", { theme: 3 }))
    const exit = Effect.runSyncExit(storage.get("prefs", Schema.Struct({ theme: Schema.String })))
    const error = Exit.isFailure(exit) ? Option.getOrThrow(Cause.failureOption(exit.cause)) : undefined
    expect(error?._tag).toBe("StorageValueInvalid")
    expect(error?.message).toBe(
      'storage key "prefs": the stored value does not match its Schema: value.theme: Expected string, actual 3'
    )
    expect(Effect.runSync(TypedStorage.decodeValue("k", Schema.Number, Option.some(1)))).toEqual(Option.some(1))
  })

  test("list with a Schema decodes every entry under the prefix", () => {
    Effect.runSync(storage.set("n/a", 1))
    Effect.runSync(storage.set("n/b", 2))
    expect(Effect.runSync(storage.list("n/", Schema.Number))).toEqual([
      { key: "n/a", value: 1 },
      { key: "n/b", value: 2 }
    ])
  })

  test("hello's Greeted is one definition for its manifest and its publish", () => {
    expect(hello.events?.[Greeted.type]).toBe(Greeted.schema)
  })
})
