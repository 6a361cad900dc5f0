/** Typed calls between plugins, and what hanging hooks mean per hook point. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { HttpRoute } from "@streamspace/core"
import { definePlugin, Events, Hooks, PluginStorage, Plugins, Routes } from "@streamspace/kernel"
import hello from "@streamspace/plugin-hello"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Layer, Option, Schema } from "effect"

const caller = definePlugin({
  id: "caller",
  name: "Caller",
  version: "1.0.0",
  type: "extension",
  category: "example",
  layer: Layer.scopedDiscard(Effect.gen(function*() {
    const plugins = yield* Plugins.Plugins
    yield* (yield* Routes.Routes).add(HttpRoute.make({
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
    }))
  }))
})

/** Hangs in every hook it can; records the events it sees. */
const sloth = definePlugin({
  id: "sloth",
  name: "Sloth",
  version: "1.0.0",
  type: "extension",
  category: "example",
  layer: Layer.scopedDiscard(Effect.gen(function*() {
    const hooks = yield* Hooks.Hooks
    yield* hooks.intercept("session.beforeCreate", () => Effect.never, { timeoutMs: 100 })
    yield* hooks.intercept("user.beforeLogin", () => Effect.never, { timeoutMs: 100 })
    const storage = yield* PluginStorage.PluginStorage
    yield* (yield* Events.Events).subscribe({ name: "seen", types: ["sloth.test"] }, (e) =>
      Effect.flatMap(storage.get("seen"), (seen) => storage.set("seen", [...(Option.getOrElse(seen, () => []) as Array<unknown>), e.payload])))
  }))
})

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [hello, caller, sloth], config: { plugins: { enabled: ["hello", "caller"] } } })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const call = (plugin: string, method: string, input: unknown) =>
  p.http<{ result: unknown; error: string | null }>("POST", "/api/plugins/caller/call", { token: admin, body: { plugin, method, input } }).then((r) => r.body)

describe(`plugins.call (${TestPlatform.engine()})`, () => {
  test("plugins listed in plugins.enabled are installed and enabled on first boot", async () => {
    const list = await p.http<{ items: ReadonlyArray<{ id: string; status: string }> }>("GET", "/api/admin/plugins", { token: admin })
    expect(list.body.items.filter((i) => i.status === "enabled").map((i) => i.id).sort()).toEqual(["caller", "hello"])
    const startup = await p.http<{ items: ReadonlyArray<{ plugin: string; outcome: string }> }>("GET", "/api/admin/plugins/startup", { token: admin })
    expect(startup.body.items.map((i) => `${i.plugin}:${i.outcome}`).sort()).toEqual(["caller:enabled", "hello:enabled"])
  })

  test("a typed call checks input and output with the callee's Schemas", async () => {
    expect(await call("hello", "greet", { name: "Grace" })).toEqual({ result: { message: "Hello, Grace!" }, error: null })
    expect((await call("hello", "greet", { name: 42 })).error).toContain("PluginCallError")
    expect((await call("hello", "nope", {})).error).toContain("has no method nope")
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
    const template = (await p.http<{ id: string }>("POST", "/api/templates", { token: admin, body: { name: "any", displayName: "x", image: "x:1" } })).body.id
    const refused = await p.http<{ plugin: string; detail: string }>("POST", "/api/sessions", { token: admin, body: { templateId: template } })
    expect(refused.status).toBe(403)
    expect(refused.body.plugin).toBe("sloth")
    expect(refused.body.detail).toContain("timed out")
    expect((await p.http("POST", "/api/auth/login", { body: { username: "admin", password: p.adminPassword } })).status).toBe(200)
    const health = await p.http<{ items: ReadonlyArray<{ id: string; hookFailures: number }> }>("GET", "/api/admin/plugins", { token: admin })
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
