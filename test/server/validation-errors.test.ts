/**
 * A value that no member of a union accepts is one error entry naming the
 * allowed values (Effect reports one issue per member, and "Expected
 * undefined" for an optional field); a member that got further than the
 * others (right type, failed refinement or nested field) speaks for the
 * union. Messages stay bounded (a rejected value shows at most 100
 * characters, a key in a path too, at most 100 entries) and never show the
 * value of a field marked sensitive (`Text.sensitive`, `Text.Secret`).
 * Tested through a real core route and test routes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { HttpRoute, Text } from "@streamspace/core"
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

const Secretive = Schema.Struct({
  user: Text.Short,
  pin: Text.sensitive(Schema.String.pipe(Schema.pattern(/^\d{6}$/))),
  token: Schema.optional(Text.Secret),
  credentials: Schema.optional(Schema.Struct({ key: Text.Secret, note: Schema.optional(Text.Short) })),
  choice: Schema.optional(Schema.Union(Text.Secret, Schema.Number)),
  notes: Schema.optional(Schema.Array(Schema.Number))
})

const secretive = HttpRoute.make({
  method: "POST",
  path: "/api/test/secretive",
  summary: "Takes sensitive fields",
  permission: "authenticated",
  body: Secretive,
  audit: { action: "test.secretive" },
  handler: () => Effect.void
})

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ routes: [echo, secretive] })
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

  test("a core route: a role named twice is a 400 naming the field, not a database conflict (a 500)", async () => {
    const roles = ["user", "admin", "user"]
    const me = await p.http<{ id: string }>("GET", "/api/auth/me", { token: admin })
    for (const [method, path, body] of [
      ["POST", "/api/users", { username: "twice", password: "long-enough-pw", roles }],
      ["PATCH", `/api/users/${me.body.id}`, { roles }]
    ] as const) {
      const res = await p.http<Problem>(method, path, { token: admin, body })
      expect(res.status).toBe(400)
      expect(res.body.errors.map((e) => e.path)).toEqual(["body.roles"])
    }
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

describe(`bounded messages, sensitive fields (${TestPlatform.engine()})`, () => {
  const secret = "correct-horse-battery-staple"
  const send = (body: Record<string, unknown>) => p.http<Problem>("POST", "/api/test/secretive", { token: admin, body })

  test("a long rejected value shows 100 characters and an ellipsis", async () => {
    const res = await post({ kind: "a", label: ["y".repeat(5000)] })
    expect(res.body.errors).toHaveLength(1)
    const message = res.body.errors[0]!.message
    expect(message).toStartWith("Expected one of a string at least 3 character(s) long, null, actual [")
    expect(message).toEndWith("…")
    expect(message.length).toBeLessThan(250)
  })

  test("a long key in a path is cut short; at most 100 entries", async () => {
    const long = await post({ kind: "a", ["k".repeat(3000)]: 1 })
    expect(long.body.errors[0]!.path).toBe(`body.${"k".repeat(100)}…`)
    const many = await post({ kind: "a", ...Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`x${i}`, i])) })
    expect(many.status).toBe(400)
    expect(many.body.errors).toHaveLength(100)
  })

  test("the value of a sensitive field is never shown: wrong type, failed refinement, inside a union", async () => {
    for (const body of [
      { user: "u", pin: { value: secret } },
      { user: "u", pin: secret },
      { user: "u", pin: "123456", token: [secret] },
      { user: "u", pin: "123456", choice: { secret } },
      { user: "u", pin: "123456", credentials: { key: [secret] } }
    ]) {
      const res = await send(body)
      expect(res.status).toBe(400)
      expect(res.text).not.toContain(secret)
      expect(res.body.errors[0]!.message).toEndWith("actual <redacted>")
    }
  })

  test("a value that holds a sensitive field, sent whole in the wrong shape, is not shown either", async () => {
    const res = await send({ user: "u", pin: "123456", credentials: [secret] })
    expect(res.status).toBe(400)
    expect(res.body.errors).toEqual([{ path: "body.credentials", message: expect.stringContaining("<redacted>") }])
    expect(res.text).not.toContain(secret)
  })

  test("fields not marked sensitive still show their value, so errors stay useful", async () => {
    const res = await send({ user: 7, pin: "123456", notes: ["seven"] })
    expect(res.body.errors).toEqual([
      { path: "body.user", message: "Expected string, actual 7" },
      { path: "body.notes.0", message: 'Expected number, actual "seven"' }
    ])
  })

  test("the failed request's audit row carries no sensitive value", async () => {
    expect((await send({ user: "u", pin: { value: secret } })).status).toBe(400)
    const rows = await p.query<{ detail: string | null }>(
      "SELECT detail FROM audit_log WHERE action = 'test.secretive' AND result = 'failure'"
    )
    expect(rows.filter((row) => row.detail?.includes("body.pin")).length).toBeGreaterThan(0)
    for (const row of rows) expect(row.detail).not.toContain(secret)
  })

  test("the Text family refuses NUL and over-long strings at the Schema level too", () => {
    const decode = Schema.decodeUnknownEither(Text.Short)
    expect(decode("fine")._tag).toBe("Right")
    expect(decode("a\u0000b")._tag).toBe("Left")
    expect(decode("a".repeat(201))._tag).toBe("Left")
    expect(Schema.decodeUnknownEither(Text.Long)("a".repeat(10_000))._tag).toBe("Right")
    expect(Schema.decodeUnknownEither(Text.Timestamp)("1969-12-31T23:59:59Z")._tag).toBe("Left")
    expect(Schema.decodeUnknownEither(Text.Timestamp)("9999-12-31T23:59:59.999Z")._tag).toBe("Right")
  })
})
