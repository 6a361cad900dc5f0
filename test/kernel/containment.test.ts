/** A failing plugin is contained: the core and other plugins keep working; failures are visible. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { definePlugin, Events } from "@streamspace/kernel"
import hello from "@streamspace/plugin-hello"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Layer } from "effect"

const broken = definePlugin({
  id: "broken",
  name: "Broken",
  version: "1.0.0",
  type: "extension",
  category: "example",
  layer: Layer.effectDiscard(Effect.dieMessage("cannot reach the license server"))
})

const thrower = definePlugin({
  id: "thrower",
  name: "Thrower",
  version: "1.0.0",
  type: "extension",
  category: "example",
  layer: Layer.scopedDiscard(
    Effect.flatMap(Events, (events) =>
      events.subscribe({ name: "always-fails", types: ["user.created"], maxAttempts: 2 }, () =>
        Effect.fail("handler exploded")
      )
    )
  )
})

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [hello, broken, thrower] })
  admin = await p.login("admin", p.adminPassword)
  for (const id of ["hello", "broken", "thrower"])
    await p.http("POST", `/api/admin/plugins/${id}/install`, { token: admin })
})
afterAll(() => p.close())

interface State {
  readonly id: string
  readonly status: string
  readonly lastError: string | null
}

describe(`containment (${TestPlatform.engine()})`, () => {
  test("a plugin whose layer fails is marked failed with its error; nothing else is affected", async () => {
    const res = await p.http<{ code: string; detail: string }>("POST", "/api/admin/plugins/broken/enable", {
      token: admin
    })
    expect(res.status).toBe(500)
    expect(res.body.code).toBe("plugin_failed")
    expect(res.body.detail).toContain("cannot reach the license server")
    const list = await p.http<{ items: ReadonlyArray<State> }>("GET", "/api/admin/plugins", { token: admin })
    expect(list.body.items.find((i) => i.id === "broken")).toMatchObject({
      status: "failed",
      lastError: expect.stringContaining("license server")
    })
    expect((await p.http("POST", "/api/admin/plugins/hello/enable", { token: admin })).status).toBe(200)
    expect((await p.http("GET", "/api/plugins/hello/greetings", { token: admin })).status).toBe(200)
    expect((await p.http("GET", "/api/users", { token: admin })).status).toBe(200)
  })

  test("a handler that throws on every event dead-letters it; the core and other plugins keep going", async () => {
    expect((await p.http("POST", "/api/admin/plugins/thrower/enable", { token: admin })).status).toBe(200)
    expect(
      (await p.http("POST", "/api/users", { token: admin, body: { username: "victim", password: "long-enough-pw" } }))
        .status
    ).toBe(201)
    const letters = await p.eventually(async () => {
      const r = await p.http<{
        items: ReadonlyArray<{ id: string; eventType: string; attempts: number; error: string }>
      }>("GET", "/api/admin/plugins/thrower/dead-letters", { token: admin })
      return r.body.items.length > 0 ? r.body.items : undefined
    })
    expect(letters[0]).toMatchObject({
      eventType: "user.created",
      attempts: 2,
      error: expect.stringContaining("handler exploded")
    })
    await p.eventually(async () =>
      (
        await p.http<{ usernames: ReadonlyArray<string> }>("GET", "/api/plugins/hello/greetings", { token: admin })
      ).body.usernames.includes("victim")
    )
    const replay = await p.http("POST", `/api/admin/plugins/thrower/dead-letters/${letters[0]!.id}/replay`, {
      token: admin
    })
    expect(replay.status).toBe(500)
    expect((await p.http("POST", "/api/admin/plugins/thrower/dead-letters/none/replay", { token: admin })).status).toBe(
      404
    )
  })
})
