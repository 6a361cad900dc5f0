/**
 * The compiled response encoders (packages/core/src/JsonEncoder.ts)
 * give what `Schema.encode` gives, on every response Schema of the platform's
 * routes that they cover, for generated values; shapes they do not cover are
 * left to Schema; fields a value carries beyond its Schema never reach the
 * response.
 */
import { describe, expect, test } from "bun:test"
import { JsonEncoder, SessionModel } from "@streamspace/core"
import { Platform } from "@streamspace/server"
import { Arbitrary, FastCheck, Schema } from "effect"

const routesWithResponses = Platform.routes.filter((r) => r.responseSchema !== undefined)

describe("compiled response encoders", () => {
  test("agree with Schema.encode on every covered response Schema of the platform's routes", () => {
    let covered = 0
    for (const route of routesWithResponses) {
      const schema = route.responseSchema!
      const fast = JsonEncoder.compile(schema)
      if (fast === undefined) continue
      covered++
      const encode = Schema.encodeSync(schema)
      FastCheck.assert(
        FastCheck.property(Arbitrary.make(schema), (value) => {
          expect({ route: `${route.method} ${route.path}`, encoded: fast(value) }).toEqual({
            route: `${route.method} ${route.path}`,
            encoded: encode(value)
          })
        }),
        { numRuns: 25 }
      )
    }
    // Most responses are classes and structs of plain fields: the fast path is the common one.
    expect(covered).toBeGreaterThan(routesWithResponses.length / 2)
  })

  test("the session routes take the fast path", () => {
    for (const path of ["/api/sessions", "/api/sessions/:id"]) {
      const routes = routesWithResponses.filter((r) => r.path === path)
      expect(routes.length).toBeGreaterThan(0)
      for (const route of routes) expect(JsonEncoder.compile(route.responseSchema!)).toBeDefined()
    }
  })

  test("only declared fields are written: an extra property of the value does not leak", () => {
    const fast = JsonEncoder.compile(SessionModel.Session)!
    const session = FastCheck.sample(Arbitrary.make(SessionModel.Session), 1)[0]!
    const encoded = fast(Object.assign(Object.create(session), session, { passwordHash: "secret" }))
    expect(Object.keys(encoded as object)).toEqual(Object.keys(SessionModel.Session.fields))
    expect(JSON.stringify(encoded)).not.toContain("secret")
  })

  test("shapes it does not cover are left to Schema", () => {
    const A = Schema.Struct({ kind: Schema.Literal("a"), at: Schema.Date })
    const B = Schema.Struct({ kind: Schema.Literal("b"), n: Schema.NumberFromString })
    expect(JsonEncoder.compile(Schema.Union(A, B))).toBeUndefined()
    expect(JsonEncoder.compile(Schema.Struct({ n: Schema.NumberFromString }))).toBeUndefined()
    expect(
      JsonEncoder.compile(Schema.Struct({ n: Schema.optionalWith(Schema.Number, { default: () => 1 }) }))
    ).toBeUndefined()
    expect(JsonEncoder.compile(Schema.Record({ key: Schema.String, value: Schema.Date }))).toBeUndefined()
  })
})
