/**
 * Plugin routes carry their plugin's id: the route table sets it, the
 * OpenAPI operation shows it (`x-plugin`, whatever tags the plugin chose),
 * and the log lines of a plugin request (the failure and the request line)
 * are annotated with it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { HttpRoute } from "@streamspace/core"
import { definePlugin, Routes } from "@streamspace/kernel"
import { RouteRegistry } from "@streamspace/kernel/host"
import hello from "@streamspace/plugin-hello"
import { TestPlatform } from "@streamspace/testing"
import { Effect, HashMap, Layer, Logger, Schema } from "effect"

interface Line {
  readonly message: unknown
  readonly level: string
  readonly annotations: Record<string, unknown>
}

const lines: Array<Line> = []
const capture = Logger.make(({ annotations, logLevel, message }) => {
  lines.push({ message, level: logLevel.label, annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
})
const messageOf = (line: Line) => (Array.isArray(line.message) ? line.message.join(" ") : String(line.message))

/** A plugin whose one route has its own tags and always dies (a bug, not a typed error). */
const crasher = definePlugin({
  id: "crasher",
  name: "Crasher",
  version: "1.0.0",
  type: "extension",
  category: "example",
  layer: Layer.scopedDiscard(
    Effect.flatMap(Routes, (routes) =>
      routes.add(
        HttpRoute.make({
          method: "GET",
          path: "/boom",
          summary: "Always fails",
          tags: ["diagnostics"],
          permission: "authenticated",
          response: Schema.Struct({ ok: Schema.Boolean }),
          handler: () => Effect.dieMessage("crasher exploded")
        })
      )
    )
  )
})

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [hello, crasher],
    config: { plugins: { enabled: ["hello", "crasher"] }, log: { level: "debug", format: "json" } },
    layer: Logger.add(capture)
  })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

describe(`plugin routes carry their plugin id (${TestPlatform.engine()})`, () => {
  test("the route table sets `plugin` on each route it holds", async () => {
    const routes = await p.run(Effect.map(RouteRegistry.RouteRegistry, (r) => r.table.routes()))
    expect(routes.find((r) => r.path === "/api/plugins/hello/greetings")?.plugin).toBe("hello")
    expect(routes.find((r) => r.path === "/api/plugins/crasher/boom")?.plugin).toBe("crasher")
  })

  test("OpenAPI operations of plugin routes have x-plugin; core operations do not", async () => {
    type Op = { readonly tags: ReadonlyArray<string>; readonly "x-plugin"?: string }
    const doc = await p.http<{ paths: Record<string, Record<string, Op>> }>("GET", "/api/openapi.json")
    expect(doc.body.paths["/api/plugins/hello/greetings"]?.["get"]?.["x-plugin"]).toBe("hello")
    expect(doc.body.paths["/api/plugins/hello/echo"]?.["post"]?.["x-plugin"]).toBe("hello")
    // Its own tags say nothing about the plugin: x-plugin does.
    const boom = doc.body.paths["/api/plugins/crasher/boom"]?.["get"]
    expect(boom?.tags).toEqual(["diagnostics"])
    expect(boom?.["x-plugin"]).toBe("crasher")
    expect(doc.body.paths["/api/users"]?.["get"]).not.toHaveProperty("x-plugin")
  })

  test("a failed plugin request logs its error line and request line with the plugin id", async () => {
    const res = await p.http<{ code: string }>("GET", "/api/plugins/crasher/boom", {
      token: admin,
      headers: { "x-request-id": "req-crash-1" }
    })
    expect(res.status).toBe(500)
    expect(res.body.code).toBe("internal_error")
    const mine = await p.eventually(async () => {
      const found = lines.filter((l) => l.annotations["requestId"] === "req-crash-1")
      return found.length >= 2 ? found : undefined
    })
    const failure = mine.find((l) => messageOf(l).includes("request failed"))
    expect(failure?.level).toBe("ERROR")
    expect(failure?.annotations["plugin"]).toBe("crasher")
    expect(messageOf(failure!)).toContain("crasher exploded")
    const request = mine.find((l) => messageOf(l) === "request")
    expect(request?.level).toBe("DEBUG")
    expect(request?.annotations).toMatchObject({ plugin: "crasher", status: 500, path: "/api/plugins/crasher/boom" })
  })

  test("core requests are not annotated with a plugin", async () => {
    expect(
      (await p.http("GET", "/api/users", { token: admin, headers: { "x-request-id": "req-core-1" } })).status
    ).toBe(200)
    const request = await p.eventually(async () =>
      lines.find((l) => l.annotations["requestId"] === "req-core-1" && messageOf(l) === "request")
    )
    expect(request.annotations).not.toHaveProperty("plugin")
  })
})
