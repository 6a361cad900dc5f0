/** The lifecycle of the example plugin, through the admin API, on the test clock. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { Manifest } from "@streamspace/kernel/host"
import hello from "@streamspace/plugin-hello"
import { TestPlatform } from "@streamspace/testing"
import { Effect } from "effect"

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [hello], clock: "test" })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

interface State {
  readonly id: string
  readonly status: string
  readonly lastError: string | null
}
interface Greetings {
  readonly greeting: string
  readonly usernames: ReadonlyArray<string | null>
  readonly ticks: number
}

const admin_ = (method: string, path: string, body?: unknown) =>
  p.http<State & { code?: string; errors?: ReadonlyArray<{ path: string }> }>(method, path, {
    token: admin,
    ...(body === undefined ? {} : { body })
  })
const greetings = () => p.http<Greetings & { code?: string }>("GET", "/api/plugins/hello/greetings", { token: admin })
const tablesNamed = (name: string) =>
  p.query<{ table_schema: string }>("SELECT table_schema FROM information_schema.tables WHERE table_name = $1", [name])
let n = 0
const newUser = () =>
  p.http("POST", "/api/users", { token: admin, body: { username: `greet-${++n}`, password: "long-enough-pw" } })

describe(`plugin lifecycle: hello (${TestPlatform.engine()})`, () => {
  test("available, then installed: its tables exist in its own schema only", async () => {
    const list = await p.http<{ items: ReadonlyArray<State> }>("GET", "/api/admin/plugins", { token: admin })
    expect(list.body.items).toContainEqual(expect.objectContaining({ id: "hello", status: "available" }))
    expect((await admin_("POST", "/api/admin/plugins/hello/install")).body.status).toBe("installed")
    expect((await admin_("POST", "/api/admin/plugins/hello/install")).status).toBe(409)
    expect((await tablesNamed("greetings")).map((r) => r.table_schema)).toEqual(["plugin_hello"])
    expect((await greetings()).body.code).toBe("plugin_disabled")
  })

  test("enabled: its route answers, its handler runs, its job fires on the test clock", async () => {
    expect((await admin_("POST", "/api/admin/plugins/hello/enable")).body.status).toBe("enabled")
    expect((await greetings()).status).toBe(200)
    await newUser()
    await p.eventually(async () => (await greetings()).body.usernames?.includes(`greet-${n}`))
    await p.adjustClock("61 seconds")
    await p.eventually(async () => (await greetings()).body.ticks >= 1)
    const runs = await p.http<{ items: ReadonlyArray<{ job: string; outcome: string }> }>(
      "GET",
      "/api/admin/plugins/hello/jobs",
      { token: admin }
    )
    expect(runs.body.items[0]).toMatchObject({ job: "tick", outcome: "success" })
    const echo = await p.http<{ message: string }>("POST", "/api/plugins/hello/echo", {
      token: admin,
      body: { name: "Ada" }
    })
    expect(echo.body.message).toBe("Hello, Ada!")
    const bad = await p.http<{ errors: ReadonlyArray<{ path: string }> }>("POST", "/api/plugins/hello/echo", {
      token: admin,
      body: { name: "" }
    })
    expect(bad.status).toBe(400)
    expect(bad.body.errors[0]?.path).toBe("body.name")
    const openapi = await p.http<{ paths: Record<string, unknown> }>("GET", "/api/openapi.json")
    expect(Object.keys(openapi.body.paths)).toContain("/api/plugins/hello/greetings")
  })

  test("disabled: route 404 plugin_disabled, job stops; events meanwhile arrive after re-enable", async () => {
    expect((await admin_("POST", "/api/admin/plugins/hello/disable")).body.status).toBe("disabled")
    const off = await greetings()
    expect(off.status).toBe(404)
    expect(off.body.code).toBe("plugin_disabled")
    const before = await p.query<{ n: string }>("SELECT count(*) AS n FROM plugin_job_runs WHERE plugin_id = 'hello'")
    await newUser()
    const missed = `greet-${n}`
    await p.adjustClock("120 seconds")
    await Bun.sleep(100)
    const after = await p.query<{ n: string }>("SELECT count(*) AS n FROM plugin_job_runs WHERE plugin_id = 'hello'")
    expect(after[0]!.n).toBe(before[0]!.n)
    await admin_("POST", "/api/admin/plugins/hello/enable")
    await p.eventually(async () => (await greetings()).body.usernames?.includes(missed))
  })

  test("configure: invalid values are 400 naming the field and change nothing; valid ones apply", async () => {
    const bad = await admin_("PUT", "/api/admin/plugins/hello/config", { tickSeconds: 0 })
    expect(bad.status).toBe(400)
    expect(bad.body.errors?.[0]?.path).toBe("body.tickSeconds")
    const current = await p.http<{ value: { tickSeconds: number }; schema: { properties: Record<string, unknown> } }>(
      "GET",
      "/api/admin/plugins/hello/config",
      { token: admin }
    )
    expect(current.body.value.tickSeconds).toBe(60)
    expect(Object.keys(current.body.schema.properties)).toEqual(expect.arrayContaining(["greeting", "tickSeconds"]))
    expect(
      (await admin_("PUT", "/api/admin/plugins/hello/config", { greeting: "Hi", blockedTemplate: "forbidden-app" }))
        .status
    ).toBe(200)
    expect(
      (await p.http<{ message: string }>("POST", "/api/plugins/hello/echo", { token: admin, body: { name: "Bo" } }))
        .body.message
    ).toBe("Hi, Bo!")
  })

  test("its hook vetoes sessions of the blocked template with 403 naming the plugin", async () => {
    const blocked = await p.http<{ id: string }>("POST", "/api/templates", {
      token: admin,
      body: { name: "forbidden-app", displayName: "x", image: "x:1" }
    })
    const res = await p.http<{ plugin: string; detail: string }>("POST", "/api/sessions", {
      token: admin,
      body: { templateId: blocked.body.id }
    })
    expect(res.status).toBe(403)
    expect(res.body.plugin).toBe("hello")
    expect(res.body.detail).toContain("blocked by hello")
  })

  test("UI extensions show to users with the plugin's permission only", async () => {
    const mine = await p.http<{ items: ReadonlyArray<{ plugin: string }> }>("GET", "/api/ui/extensions", {
      token: admin
    })
    expect(mine.body.items).toEqual([expect.objectContaining({ plugin: "hello" })])
    const { token: user } = await p.makeUser("no-widgets")
    expect(
      (await p.http<{ items: ReadonlyArray<unknown> }>("GET", "/api/ui/extensions", { token: user })).body.items
    ).toEqual([])
    expect((await p.http("GET", "/api/plugins/hello/greetings", { token: user })).status).toBe(403)
  })

  test("uninstall drops schema and role; reinstall works", async () => {
    expect((await admin_("DELETE", "/api/admin/plugins/hello")).status).toBe(204)
    expect(await tablesNamed("greetings")).toEqual([])
    const roles = await p.run(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const db = (yield* sql<{ db: string }>`SELECT current_database() AS db`)[0]!.db
        return yield* sql<{
          n: string
        }>`SELECT count(*) AS n FROM pg_roles WHERE rolname = ${Manifest.roleOf("hello", db)}`
      })
    )
    expect(roles[0]!.n).toBe("0")
    expect((await greetings()).body.code).toBe("plugin_disabled")
    expect((await admin_("POST", "/api/admin/plugins/hello/install")).body.status).toBe("installed")
    expect((await admin_("POST", "/api/admin/plugins/hello/enable")).body.status).toBe("enabled")
    expect((await greetings()).body.usernames).toEqual([])
    expect((await admin_("DELETE", "/api/admin/plugins/hello?keepData=true")).status).toBe(204)
    expect((await tablesNamed("greetings")).map((r) => r.table_schema)).toEqual(["plugin_hello"])
  })
})
