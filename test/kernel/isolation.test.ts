/** A plugin's SQL is confined to its own schema and role. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { HttpRoute } from "@streamspace/core"
import { definePlugin, PluginSql, Routes } from "@streamspace/kernel"
import hello from "@streamspace/plugin-hello"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Layer, Schema } from "effect"

/** Test-only: runs the SQL it is given through its own PluginSql and reports the outcome. */
const snoop = definePlugin({
  id: "snoop",
  name: "Snoop",
  version: "1.0.0",
  type: "extension",
  category: "example",
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const sql = yield* PluginSql
      yield* (yield* Routes).add(
        HttpRoute.make({
          method: "POST",
          path: "/try",
          summary: "run a statement as the plugin",
          permission: "authenticated",
          transactional: false,
          body: Schema.Struct({ statements: Schema.Array(Schema.String) }),
          response: Schema.Struct({ ok: Schema.Boolean, error: Schema.String }),
          handler: ({ body }) =>
            Effect.forEach(body.statements, (s) => sql.unsafe(s), { discard: true }).pipe(
              Effect.as({ ok: true, error: "" }),
              Effect.catchAll((e) =>
                Effect.succeed({ ok: false, error: `${e.message} ${e.cause instanceof Error ? e.cause.message : ""}` })
              )
            )
        })
      )
    })
  )
})

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [hello, snoop] })
  admin = await p.login("admin", p.adminPassword)
  for (const id of ["hello", "snoop"]) {
    expect((await p.http("POST", `/api/admin/plugins/${id}/install`, { token: admin })).status).toBe(200)
    expect((await p.http("POST", `/api/admin/plugins/${id}/enable`, { token: admin })).status).toBe(200)
  }
})
afterAll(() => p.close())

const attempt = (...statements: Array<string>) =>
  p
    .http<{ ok: boolean; error: string }>("POST", "/api/plugins/snoop/try", { token: admin, body: { statements } })
    .then((r) => r.body)

describe(`plugin SQL isolation (${TestPlatform.engine()})`, () => {
  test("works in its own schema", async () => {
    expect(await attempt("CREATE TABLE notes (id int)", "INSERT INTO notes VALUES (1)", "SELECT * FROM notes")).toEqual(
      { ok: true, error: "" }
    )
  })

  test("cannot read or write core tables", async () => {
    for (const s of [
      "SELECT * FROM public.users",
      "UPDATE public.users SET disabled = true",
      "SELECT * FROM public.events",
      "DELETE FROM public.audit_log"
    ]) {
      const r = await attempt(s)
      expect(r.ok).toBe(false)
      expect(r.error).toContain("permission denied")
    }
  })

  test("cannot read or write another plugin's schema", async () => {
    for (const s of [
      "SELECT * FROM plugin_hello.greetings",
      "INSERT INTO plugin_hello.greetings (event_type) VALUES ('x')"
    ]) {
      const r = await attempt(s)
      expect(r.ok).toBe(false)
      expect(r.error).toContain("permission denied")
    }
  })

  if (TestPlatform.engine() === "postgres") {
    test("cannot RESET ROLE or SET ROLE its way out (its connections log in as its role)", async () => {
      const reset = await attempt("RESET ROLE", "SELECT * FROM public.users")
      expect(reset.ok).toBe(false)
      expect(reset.error).toContain("permission denied")
      const set = await attempt("SET ROLE postgres")
      expect(set.ok).toBe(false)
      expect(set.error).toContain("permission denied")
    })
  }
})
