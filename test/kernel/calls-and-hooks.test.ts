/** Typed calls between plugins, and what hanging hooks mean per hook point. */
import { afterAll, beforeAll, describe, expect, expectTypeOf, test } from "bun:test"
import { HttpRoute } from "@streamspace/core"
import {
  definePlugin,
  Events,
  Hooks,
  method,
  type PluginCallError,
  type PluginMethod,
  Plugins,
  PluginStorage,
  type PluginUnavailable,
  Routes
} from "@streamspace/kernel"
import { Manifest } from "@streamspace/kernel/host"
import hello, { greet } from "@streamspace/plugin-hello"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Layer, Option, Schema } from "effect"

/** A method whose types differ from their JSON form: a Date goes over the call encoded and comes back decoded. */
const shift = method("shift", {
  input: Schema.Struct({ at: Schema.Date, days: Schema.Int }),
  output: Schema.Struct({ at: Schema.Date }),
  handler: ({ at, days }) => Effect.succeed({ at: new Date(at.getTime() + days * 86_400_000) })
})

const clock = definePlugin({
  id: "clock",
  name: "Clock",
  version: "1.0.0",
  type: "extension",
  category: "example",
  methods: { shift },
  layer: Layer.empty
})

const caller = definePlugin({
  id: "caller",
  name: "Caller",
  version: "1.0.0",
  type: "extension",
  category: "example",
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const plugins = yield* Plugins
      yield* (yield* Routes).add(
        HttpRoute.make({
          method: "POST",
          path: "/call",
          summary: "call another plugin",
          permission: "authenticated",
          transactional: false,
          body: Schema.Struct({ plugin: Schema.String, method: Schema.String, input: Schema.Unknown }),
          response: Schema.Struct({ result: Schema.Unknown, error: Schema.NullOr(Schema.String) }),
          handler: ({ body }) =>
            plugins.call(body.plugin, body.method, body.input).pipe(
              Effect.map((result) => ({ result, error: null })),
              Effect.catchAll((e) => Effect.succeed({ result: null, error: `${e._tag}: ${e.message}` }))
            )
        })
      )
      // Typed: the method value gives the input and output types; no casts.
      yield* (yield* Routes).add(
        HttpRoute.make({
          method: "POST",
          path: "/greet",
          summary: "greet through hello's method",
          permission: "authenticated",
          transactional: false,
          body: Schema.Struct({ name: Schema.String }),
          response: Schema.Struct({ message: Schema.String }),
          handler: ({ body }) => plugins.call("hello", greet, { name: body.name }).pipe(Effect.orDie)
        })
      )
      yield* (yield* Routes).add(
        HttpRoute.make({
          method: "POST",
          path: "/shift",
          summary: "shift a date through clock's method",
          permission: "authenticated",
          transactional: false,
          body: Schema.Struct({ at: Schema.String, days: Schema.Number }),
          response: Schema.Struct({
            isDate: Schema.Boolean,
            at: Schema.NullOr(Schema.String),
            error: Schema.NullOr(Schema.String)
          }),
          handler: ({ body }) =>
            plugins.call("clock", shift, { at: new Date(body.at), days: body.days }).pipe(
              Effect.map(({ at }) => ({ isDate: at instanceof Date, at: at.toISOString(), error: null })),
              Effect.catchAll((e) => Effect.succeed({ isDate: false, at: null, error: `${e._tag}: ${e.message}` }))
            )
        })
      )
    })
  )
})

/** Hangs in every hook it can; records the events it sees. */
const sloth = definePlugin({
  id: "sloth",
  name: "Sloth",
  version: "1.0.0",
  type: "extension",
  category: "example",
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const hooks = yield* Hooks
      yield* hooks.intercept("session.beforeCreate", () => Effect.never, { timeoutMs: 100 })
      yield* hooks.intercept("user.beforeLogin", () => Effect.never, { timeoutMs: 100 })
      const storage = yield* PluginStorage
      yield* (yield* Events).subscribe({ name: "seen", types: ["sloth.test"] }, (e) =>
        Effect.flatMap(storage.get("seen"), (seen) =>
          storage.set("seen", [...(Option.getOrElse(seen, () => []) as Array<unknown>), e.payload])
        )
      )
    })
  )
})

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [hello, caller, sloth, clock],
    config: { plugins: { enabled: ["hello", "caller", "clock"] } }
  })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const call = (plugin: string, method: string, input: unknown) =>
  p
    .http<{ result: unknown; error: string | null }>("POST", "/api/plugins/caller/call", {
      token: admin,
      body: { plugin, method, input }
    })
    .then((r) => r.body)

describe(`plugins.call (${TestPlatform.engine()})`, () => {
  test("plugins listed in plugins.enabled are installed and enabled on first boot", async () => {
    const list = await p.http<{ items: ReadonlyArray<{ id: string; status: string }> }>("GET", "/api/admin/plugins", {
      token: admin
    })
    expect(
      list.body.items
        .filter((i) => i.status === "enabled")
        .map((i) => i.id)
        .sort()
    ).toEqual(["caller", "clock", "hello"])
    const startup = await p.http<{ items: ReadonlyArray<{ plugin: string; outcome: string }> }>(
      "GET",
      "/api/admin/plugins/startup",
      { token: admin }
    )
    expect(startup.body.items.map((i) => `${i.plugin}:${i.outcome}`).sort()).toEqual([
      "caller:enabled",
      "clock:enabled",
      "hello:enabled"
    ])
  })

  test("a call with the method value is typed: input and output are the method's types", async () => {
    const typed = await p.http<{ message: string }>("POST", "/api/plugins/caller/greet", {
      token: admin,
      body: { name: "Ada" }
    })
    expect(typed.body).toEqual({ message: "Hello, Ada!" })
    // A Date in, a Date out: encoded with the method's Schemas on the way, decoded on arrival.
    const shifted = await p.http("POST", "/api/plugins/caller/shift", {
      token: admin,
      body: { at: "2030-01-01T00:00:00.000Z", days: 2 }
    })
    expect(shifted.body).toEqual({ isDate: true, at: "2030-01-03T00:00:00.000Z", error: null })
    // An input its Schema refuses (not an integer) fails on the caller's side, naming the method.
    const refused = await p.http<{ error: string }>("POST", "/api/plugins/caller/shift", {
      token: admin,
      body: { at: "2030-01-01T00:00:00.000Z", days: 1.5 }
    })
    expect(refused.body.error).toContain("PluginCallError")
    expect(refused.body.error).toContain("the input does not match the method's Schema")
  })

  test("the untyped form, by name, checks input and output with the callee's Schemas", async () => {
    expect(await call("hello", "greet", { name: "Grace" })).toEqual({
      result: { message: "Hello, Grace!" },
      error: null
    })
    expect((await call("hello", "greet", { name: 42 })).error).toContain("PluginCallError")
    expect((await call("hello", "nope", {})).error).toContain("has no method nope")
    // The callee's encoded output: the Date as its ISO string.
    expect(await call("clock", "shift", { at: "2030-01-01T00:00:00.000Z", days: 1 })).toEqual({
      result: { at: "2030-01-02T00:00:00.000Z" },
      error: null
    })
  })

  test("types: a wrong input does not compile, and a method is declared under its own name", () => {
    // Checked by `bun run typecheck`; never run.
    const compileOnly = (plugins: Plugins["Type"]) => {
      expectTypeOf(plugins.call("hello", greet, { name: "Ada" })).toEqualTypeOf<
        Effect.Effect<{ readonly message: string }, PluginUnavailable | PluginCallError>
      >()
      // @ts-expect-error `name` is a string: a wrong input type does not compile
      plugins.call("hello", greet, { name: 42 })
      // @ts-expect-error a missing field neither
      plugins.call("hello", greet, {})
      expectTypeOf(plugins.call("hello", "greet", { name: 42 })).toEqualTypeOf<
        Effect.Effect<unknown, PluginUnavailable | PluginCallError>
      >()
      definePlugin({
        id: "x",
        name: "X",
        version: "1.0.0",
        type: "extension",
        category: "example",
        // @ts-expect-error `greet` declared under another name
        methods: { hi: greet },
        layer: Layer.empty
      })
    }
    expect(compileOnly).toBeFunction()
    // The same mistake in an untyped (JavaScript) plugin is refused when the manifest is validated.
    const untyped: Readonly<Record<string, PluginMethod>> = { hi: greet }
    const misnamed = definePlugin({
      id: "misnamed",
      name: "Misnamed",
      version: "1.0.0",
      type: "extension",
      category: "example",
      methods: untyped,
      layer: Layer.empty
    })
    expect(Manifest.validate(misnamed)).toEqual([
      { path: "misnamed.methods.hi", message: 'the method is named "greet": declare it under its name' }
    ])
  })

  test("calling a disabled or unknown plugin fails with a typed error", async () => {
    expect((await call("sloth", "x", {})).error).toBe("PluginUnavailable: plugin sloth is disabled")
    expect((await call("ghost", "x", {})).error).toBe("PluginUnavailable: plugin ghost is unknown")
  })
})

describe("hook policies", () => {
  test("a hanging session.beforeCreate hook fails closed (403 naming the plugin); a hanging login hook fails open", async () => {
    await p.http("POST", "/api/admin/plugins/sloth/install", { token: admin })
    await p.http("POST", "/api/admin/plugins/sloth/enable", { token: admin })
    const template = (
      await p.http<{ id: string }>("POST", "/api/templates", {
        token: admin,
        body: { name: "any", displayName: "x", image: "x:1" }
      })
    ).body.id
    const refused = await p.http<{ plugin: string; detail: string }>("POST", "/api/sessions", {
      token: admin,
      body: { templateId: template }
    })
    expect(refused.status).toBe(403)
    expect(refused.body.plugin).toBe("sloth")
    expect(refused.body.detail).toContain("timed out")
    expect(
      (await p.http("POST", "/api/auth/login", { body: { username: "admin", password: p.adminPassword } })).status
    ).toBe(200)
    const health = await p.http<{ items: ReadonlyArray<{ id: string; hookFailures: number }> }>(
      "GET",
      "/api/admin/plugins",
      { token: admin }
    )
    expect(health.body.items.find((i) => i.id === "sloth")!.hookFailures).toBeGreaterThanOrEqual(2)
  })

  test("emit and awaitDelivered let a test drive a plugin's subscription", async () => {
    await p.emit("sloth.test", { n: 1 })
    await p.emit("sloth.test", { n: 2 })
    await p.awaitDelivered()
    const rows = await p.query<{ value: unknown }>("SELECT value FROM plugin_sloth._streamspace_kv WHERE key = 'seen'")
    expect(rows[0]?.value).toEqual([{ n: 1 }, { n: 2 }])
  })
})
