/**
 * A NUL character anywhere in a request's input — a path param, a query
 * value or key, a JSON string or key at any depth — is a 400 naming the
 * field, refused at the edge before any route runs (PostgreSQL's text and
 * jsonb cannot hold it, so it used to surface as a 500). Nothing changes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"

interface Problem {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly errors: ReadonlyArray<{ readonly path: string; readonly message: string }>
}

let p: TestPlatform.TestPlatform
let admin: string
let session: string
beforeAll(async () => {
  p = await TestPlatform.make()
  admin = await p.login("admin", p.adminPassword)
  const template = await p.http<{ id: string }>("POST", "/api/templates", {
    token: admin,
    body: { name: "nul-app", displayName: "NUL app", image: "nul:1" }
  })
  session = (
    await p.http<{ id: string }>("POST", "/api/sessions", { token: admin, body: { templateId: template.body.id } })
  ).body.id
})
afterAll(() => p.close())

const expectNul = (res: TestPlatform.TestResponse<Problem>, path: string) => {
  expect(res.status).toBe(400)
  expect(res.headers.get("content-type")).toContain("application/problem+json")
  expect(res.body.code).toBe("validation_failed")
  expect(res.body.errors).toEqual([{ path, message: "must not contain NUL characters" }])
}

const count = async (table: string) =>
  Number((await p.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n)

describe(`NUL characters are refused at the edge (${TestPlatform.engine()})`, () => {
  test("in a path param: 400 naming the param", async () => {
    expectNul(await p.http<Problem>("GET", "/api/sessions/ab%00cd", { token: admin }), "params.id")
    expectNul(
      await p.http<Problem>("DELETE", `/api/sessions/${session}/shares/u%00`, { token: admin }),
      "params.userId"
    )
    // The real session is untouched.
    expect((await p.http("GET", `/api/sessions/${session}`, { token: admin })).status).toBe(200)
  })

  test("in a query value or key: 400 naming the query field", async () => {
    expectNul(await p.http<Problem>("GET", "/api/users?q=ad%00min", { token: admin }), "query.q")
    expectNul(await p.http<Problem>("GET", "/api/templates?category=x%00", { token: admin }), "query.category")
    expectNul(await p.http<Problem>("GET", "/api/audit?ac%00tion=x", { token: admin }), "query.ac\\u0000tion")
  })

  test("in a JSON string of the body: 400 naming the field; nothing is created", async () => {
    const before = await count("groups")
    expectNul(
      await p.http<Problem>("POST", "/api/groups", { token: admin, body: { name: "ops\u0000team" } }),
      "body.name"
    )
    expect(await count("groups")).toBe(before)
  })

  test("deep inside a jsonb value (an integration's config), in a string or a key", async () => {
    const before = await count("integrations")
    expectNul(
      await p.http<Problem>("POST", "/api/integrations", {
        token: admin,
        body: { provider: "custom", name: "deep", config: { targets: [{ url: "ok" }, { url: "bad\u0000" }] } }
      }),
      "body.config.targets.1.url"
    )
    expectNul(
      await p.http<Problem>("POST", "/api/integrations", {
        token: admin,
        body: { provider: "custom", name: "key", config: { nested: { "ke\u0000y": 1 } } }
      }),
      "body.config.nested.ke\\u0000y"
    )
    expect(await count("integrations")).toBe(before)
  })

  test("in a webhook body and a plugin admin body: the same 400", async () => {
    expectNul(
      await p.http<Problem>("POST", "/api/webhooks", {
        token: admin,
        body: { name: "hook", url: "https://example.com/\u0000", eventTypes: ["user.created"] }
      }),
      "body.url"
    )
    expectNul(
      await p.http<Problem>("PUT", "/api/admin/plugins/hello/config", { token: admin, body: { greeting: "\u0000" } }),
      "body.greeting"
    )
  })

  test("a request without NUL still works (the check is not a blanket refusal)", async () => {
    const res = await p.http<{ name: string }>("POST", "/api/groups", { token: admin, body: { name: "ops team" } })
    expect(res.status).toBe(201)
    expect(res.body.name).toBe("ops team")
  })
})
