/**
 * A value that no member of a union accepts is one error entry naming the
 * allowed values (Effect reports one issue per member, and "Expected
 * undefined" for an optional field); a member that got further than the
 * others (right type, failed refinement or nested field) speaks for the
 * union. Tested through a real core route and a test route.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { HttpRoute } from "@streamspace/core"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Schema } from "effect"

interface Problem {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly errors: ReadonlyArray<{ readonly path: string; readonly message: string }>
}

const Body = Schema.Struct({
  kind: Schema.Literal("a", "b", "c"),
  mode: Schema.optional(Schema.Literal("on", "off")),
  level: Schema.optionalWith(Schema.Literal(1, 2, 3), { default: () => 1 as const }),
  shape: Schema.optional(
    Schema.Union(
      Schema.Struct({ type: Schema.Literal("circle"), r: Schema.Number }),
      Schema.Struct({ type: Schema.Literal("square"), side: Schema.Number })
    )
  ),
  label: Schema.optional(Schema.NullOr(Schema.String.pipe(Schema.minLength(3)))),
  target: Schema.optional(
    Schema.Union(Schema.Struct({ userId: Schema.String }), Schema.Struct({ groupId: Schema.String }))
  )
})

const echo = HttpRoute.make({
  method: "POST",
  path: "/api/test/union-echo",
  summary: "Echoes a body with union fields",
  permission: "public",
  body: Body,
  response: Body,
  handler: ({ body }) => Effect.succeed(body)
})

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ routes: [echo] })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const post = (body: Record<string, unknown>) => p.http<Problem>("POST", "/api/test/union-echo", { body })

describe(`union mismatches are one error entry (${TestPlatform.engine()})`, () => {
  test("a core route: a role outside the role list names the allowed roles once", async () => {
    const res = await p.http<Problem>("POST", "/api/users", {
      token: admin,
      body: { username: "rolf", password: "long-enough-pw", roles: ["superuser"] }
    })
    expect(res.status).toBe(400)
    expect(res.body.code).toBe("validation_failed")
    expect(res.body.errors).toEqual([
      { path: "body.roles.0", message: 'Expected one of "admin", "operator", "user", "viewer", actual "superuser"' }
    ])
    expect(res.body.detail).toBe(
      'body.roles.0: Expected one of "admin", "operator", "user", "viewer", actual "superuser"'
    )
  })

  test("a literal list", async () => {
    const res = await post({ kind: "x" })
    expect(res.status).toBe(400)
    expect(res.body.errors).toEqual([{ path: "body.kind", message: 'Expected one of "a", "b", "c", actual "x"' }])
  })

  test('an optional literal list (no "Expected undefined"), with or without a default', async () => {
    expect((await post({ kind: "a", mode: "maybe" })).body.errors).toEqual([
      { path: "body.mode", message: 'Expected one of "on", "off", actual "maybe"' }
    ])
    expect((await post({ kind: "a", level: 7 })).body.errors).toEqual([
      { path: "body.level", message: "Expected one of 1, 2, 3, actual 7" }
    ])
  })

  test("a tagged union of structs: an unknown tag names the tags", async () => {
    expect((await post({ kind: "a", shape: { type: "triangle" } })).body.errors).toEqual([
      { path: "body.shape.type", message: 'Expected one of "circle", "square", actual "triangle"' }
    ])
  })

  test("a tagged union of structs: a known tag reports that member's field", async () => {
    expect((await post({ kind: "a", shape: { type: "circle", r: "big" } })).body.errors).toEqual([
      { path: "body.shape.r", message: 'Expected number, actual "big"' }
    ])
  })

  test("an untagged union of structs that matches neither is one entry", async () => {
    const errors = (await post({ kind: "a", target: { roleId: "x" } })).body.errors
    expect(errors).toHaveLength(1)
    expect(errors[0]!.path).toBe("body.target")
    expect(errors[0]!.message).toContain("Expected one of { userId: string }, { groupId: string }")
  })

  test('a nullable refined field: the refinement speaks, not "Expected null"', async () => {
    expect((await post({ kind: "a", label: "ab" })).body.errors).toEqual([
      { path: "body.label", message: 'Expected a string at least 3 character(s) long, actual "ab"' }
    ])
    expect((await post({ kind: "a", label: 5 })).body.errors).toEqual([
      { path: "body.label", message: "Expected one of a string at least 3 character(s) long, null, actual 5" }
    ])
  })

  test("several bad fields are one entry each; good bodies pass", async () => {
    const res = await post({ kind: "z", mode: "up", shape: { type: "hexagon" } })
    expect(res.body.errors.map((e) => e.path)).toEqual(["body.kind", "body.mode", "body.shape.type"])
    const ok = await post({
      kind: "b",
      mode: "on",
      shape: { type: "square", side: 2 },
      label: null,
      target: { groupId: "g" }
    })
    expect(ok.status).toBe(200)
    expect(ok.body).toMatchObject({ kind: "b", level: 1, label: null })
  })
})
