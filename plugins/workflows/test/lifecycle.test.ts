/**
 * The four runtime lifecycle steps: install, enable, disable (routes answer
 * 404 plugin_disabled; an execution waiting on a timer and events published
 * meanwhile are not lost), enable again (the execution resumes, the events
 * trigger from the durable cursor), uninstall (the schema is gone).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import workflows from "@streamspace/plugin-workflows"
import { LocalServer, TestPlatform } from "@streamspace/testing"
import { create, run, settle } from "./helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string
let peer: LocalServer.LocalServer

beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [workflows] })
  admin = await p.login("admin", p.adminPassword)
  peer = LocalServer.start()
})
afterAll(async () => {
  await peer?.stop()
  await p?.close()
})

const lifecycle = (action: string) => p.http("POST", `/api/admin/plugins/workflows/${action}`, { token: admin })

describe(`workflows at runtime (${TestPlatform.engine()})`, () => {
  test("install, enable, disable, enable: a waiting execution and the events of the pause are not lost", async () => {
    expect((await lifecycle("install")).status).toBe(200)
    expect((await lifecycle("enable")).status).toBe(200)
    const waiter = await create(p, admin, {
      name: "waits",
      trigger: { type: "manual" },
      steps: [
        { id: "pause", type: "wait", seconds: 2 },
        { id: "ping", type: "http", url: `${peer.url}/after-wait` }
      ]
    })
    const listener = await create(p, admin, {
      name: "listens",
      trigger: { type: "event", events: ["user.created"] },
      steps: [{ id: "ping", type: "http", url: `${peer.url}/user/{{ trigger.payload.username }}` }]
    })
    expect(listener.version).toBe(1)
    const started = await run(p, admin, waiter.id)
    await p.eventually(async () => {
      const rows = await p.query<{ status: string }>(
        "SELECT status FROM plugin_workflows.step_runs WHERE execution_id = $1",
        [started.executionId]
      )
      expect(rows.map((r) => r.status)).toEqual(["waiting"])
      return true
    })

    expect((await lifecycle("disable")).status).toBe(200)
    const off = await p.http<{ code: string }>("GET", "/api/plugins/workflows/workflows", { token: admin })
    expect(off.status).toBe(404)
    expect(off.body.code).toBe("plugin_disabled")
    const user = await p.http("POST", "/api/users", {
      token: admin,
      body: { username: "paused-ada", password: "long-enough-pw-1", roles: ["user"] }
    })
    expect(user.status).toBe(201)
    await Bun.sleep(2_500)
    expect(peer.requests).toHaveLength(0)

    expect((await lifecycle("enable")).status).toBe(200)
    const done = await settle(p, admin, started.executionId)
    expect(done.status).toBe("completed")
    await peer.waitFor(2)
    expect(peer.requests.map((r) => r.path).sort()).toEqual(["/after-wait", "/user/paused-ada"])
  })

  test("uninstall drops the schema; the routes are gone", async () => {
    expect((await p.http("DELETE", "/api/admin/plugins/workflows", { token: admin })).status).toBe(204)
    const schemas = await p.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = 'plugin_workflows'"
    )
    expect(schemas[0]!.n).toBe(0)
    expect((await p.http("GET", "/api/plugins/workflows/workflows", { token: admin })).status).toBe(404)
  })
})
