/**
 * A plugin's SQL runs as its role, in its schema, on every path a plugin's
 * code runs on: a GET route, a default (transactional) POST, a
 * `transactional: false` POST, inside `withTransaction`, in a job, in an event
 * handler, in a hook (inside the core's transaction), and in a method another
 * plugin calls (inside the caller's transaction). On each it tries to read
 * `public.users`, to read another plugin's schema, and to write its own table.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SqlClient } from "@effect/sql"
import { HttpRoute } from "@streamspace/core"
import { definePlugin, Events, Hooks, method, Plugins, PluginSql, Routes, Scheduler } from "@streamspace/kernel"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Layer, Schema } from "effect"

const Outcome = Schema.Struct({ statement: Schema.String, ok: Schema.Boolean, result: Schema.String })
const Outcomes = Schema.Array(Outcome)
type Outcomes = typeof Outcomes.Type

/** Each statement in a savepoint of its own, so one refusal does not abort the rest. */
const probe = (sql: SqlClient.SqlClient, path: string) =>
  Effect.gen(function* () {
    const statements = [
      "SELECT count(*)::text AS result FROM public.users",
      "SELECT count(*)::text AS result FROM plugin_bystander.secrets",
      `INSERT INTO marks (path) VALUES ('${path}') RETURNING path AS result`,
      "SELECT current_user::text AS result"
    ]
    const outcomes = yield* Effect.forEach(statements, (statement) =>
      sql.withTransaction(sql.unsafe<{ result: string }>(statement)).pipe(
        Effect.map((rows) => ({ statement, ok: true, result: rows[0]?.result ?? "" })),
        Effect.catchAll((e) =>
          Effect.succeed({ statement, ok: false, result: e.cause instanceof Error ? e.cause.message : e.message })
        )
      )
    )
    yield* sql`INSERT INTO outcomes (path, outcomes) VALUES (${path}, ${JSON.stringify(outcomes)})`
    return outcomes
  })

const bystander = definePlugin({
  id: "bystander",
  name: "Bystander",
  version: "1.0.0",
  type: "extension",
  category: "example",
  migrations: [{ id: 1, name: "secrets", sql: "CREATE TABLE secrets (v text); INSERT INTO secrets VALUES ('mine');" }],
  layer: Layer.empty
})

const probeMethod = method("probe", {
  input: Schema.Struct({}),
  output: Outcomes,
  handler: () => Effect.flatMap(PluginSql, (sql) => probe(sql, "method"))
})

const prober = definePlugin({
  id: "prober",
  name: "Prober",
  version: "1.0.0",
  type: "extension",
  category: "example",
  migrations: [
    {
      id: 1,
      name: "marks",
      sql: "CREATE TABLE marks (path text NOT NULL); CREATE TABLE outcomes (path text NOT NULL, outcomes jsonb NOT NULL);"
    }
  ],
  methods: { probe: probeMethod },
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const sql = yield* PluginSql
      const routes = yield* Routes
      const route = (
        path: string,
        method: "GET" | "POST",
        options: { readonly transactional?: boolean; readonly wrap?: boolean } = {}
      ) =>
        routes.add(
          HttpRoute.make({
            method,
            path: `/${path}`,
            summary: `probe on ${path}`,
            permission: "authenticated",
            response: Outcomes,
            ...(options.transactional === undefined ? {} : { transactional: options.transactional }),
            handler: () => (options.wrap ? sql.withTransaction(probe(sql, path)) : probe(sql, path)).pipe(Effect.orDie)
          })
        )
      yield* route("get", "GET")
      yield* route("post", "POST")
      yield* route("post-untransactional", "POST", { transactional: false })
      yield* route("post-with-transaction", "POST", { transactional: false, wrap: true })
      yield* (yield* Scheduler).schedule(
        "probe",
        { every: "1 second" },
        Effect.gen(function* () {
          const done = yield* sql<{ n: string }>`SELECT count(*) AS n FROM outcomes WHERE path = 'job'`
          if (done[0]?.n === "0") yield* probe(sql, "job")
        })
      )
      yield* (yield* Events).subscribe({ name: "probe", types: ["user.created"] }, () => probe(sql, "event"))
      yield* (yield* Hooks).intercept("session.beforeCreate", (input) =>
        Effect.as(probe(sql, "hook").pipe(Effect.orDie), input)
      )
    })
  )
})

/** Calls prober's method from inside its own default (transactional) route. */
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
          summary: "call prober",
          permission: "authenticated",
          response: Outcomes,
          handler: () => plugins.call("prober", probeMethod, {}).pipe(Effect.orDie)
        })
      )
    })
  )
})

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [bystander, prober, caller],
    config: { plugins: { enabled: ["bystander", "prober", "caller"] } }
  })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const expectConfined = (outcomes: Outcomes) => {
  const [users, other, own, whoami] = outcomes
  expect(users).toMatchObject({ ok: false })
  expect(users!.result).toContain("permission denied")
  expect(other).toMatchObject({ ok: false })
  expect(other!.result).toContain("permission denied")
  expect(own).toMatchObject({ ok: true })
  expect(whoami!.ok).toBe(true)
  expect(whoami!.result).toMatch(/^ssp_[a-z0-9]+_prober$/)
}

const recorded = (path: string) =>
  p.eventually(async () => {
    const rows = await p.query<{ outcomes: Outcomes }>("SELECT outcomes FROM plugin_prober.outcomes WHERE path = $1", [
      path
    ])
    return rows[0]?.outcomes
  }, 30_000)

describe(`plugin SQL isolation on every path (${TestPlatform.engine()})`, () => {
  for (const [path, method] of [
    ["get", "GET"],
    ["post", "POST"],
    ["post-untransactional", "POST"],
    ["post-with-transaction", "POST"]
  ] as const) {
    test(`${method} /${path}`, async () => {
      const res = await p.http<Outcomes>(method, `/api/plugins/prober/${path}`, { token: admin })
      expect(res.status).toBe(200)
      expectConfined(res.body)
      // What the route wrote as the plugin is there (and a GET, read-only by default, still writes its own table).
      expectConfined(await recorded(path))
    })
  }

  test("in a method another plugin calls from its transactional route", async () => {
    const res = await p.http<Outcomes>("POST", "/api/plugins/caller/call", { token: admin })
    expect(res.status).toBe(200)
    expectConfined(res.body)
    expectConfined(await recorded("method"))
  })

  test("in a scheduled job", async () => {
    expectConfined(await recorded("job"))
  })

  test("in an event handler", async () => {
    const created = await p.http("POST", "/api/users", {
      token: admin,
      body: { username: "probed", password: "long-enough-pw" }
    })
    expect(created.status).toBe(201)
    expectConfined(await recorded("event"))
  })

  test("in a hook, inside the core's transaction", async () => {
    const template = await p.http<{ id: string }>("POST", "/api/templates", {
      token: admin,
      body: { name: "probe-app", displayName: "Probe", image: "example/probe:1" }
    })
    expect(template.status).toBe(201)
    const session = await p.http("POST", "/api/sessions", { token: admin, body: { templateId: template.body.id } })
    expect(session.status).toBe(201)
    expectConfined(await recorded("hook"))
    // The core's own writes in that transaction were not done as the plugin.
    expect((await p.query<{ n: string }>("SELECT count(*)::text AS n FROM sessions"))[0]!.n).toBe("1")
  })
})
