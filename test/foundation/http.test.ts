import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"

let p: TestPlatform.TestPlatform
beforeAll(async () => {
  p = await TestPlatform.make()
})
afterAll(() => p.close())

describe(`HTTP edge (${TestPlatform.engine()})`, () => {
  test("unknown routes are 404 problem documents with a request id", async () => {
    const res = await p.http<{ type: string; status: number; code: string; detail: string }>("GET", "/api/nope")
    expect(res.status).toBe(404)
    expect(res.headers.get("content-type")).toContain("application/problem+json")
    expect(res.body.status).toBe(404)
    expect(res.body.code).toBe("route_not_found")
    expect(res.body.detail).toContain("/api/nope")
    expect(res.headers.get("x-request-id")).toBeTruthy()
  })

  test("each operation lists its declared and implicit problem statuses", async () => {
    type Op = { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }
    const res = await p.http<{ paths: Record<string, Record<string, Op>> }>("GET", "/api/openapi.json")
    const statuses = (path: string, method: string) => {
      const op = res.body.paths[path]?.[method]
      if (op === undefined) throw new Error(`no operation ${method} ${path}`)
      return Object.keys(op.responses).sort()
    }
    // errors: [NotFound, Conflict]; 400 from the params, 401/403/503 from the permission (503: a token that
    // cannot be resolved), 429 from rate limiting
    expect(statuses("/api/templates/{id}", "delete")).toEqual([
      "204",
      "400",
      "401",
      "403",
      "404",
      "409",
      "429",
      "503",
      "default"
    ])
    // errors: [NotFound, QuotaExceeded] (403, like Forbidden); 413/415 from reading a JSON body
    expect(statuses("/api/sessions", "post")).toEqual([
      "201",
      "400",
      "401",
      "403",
      "404",
      "413",
      "415",
      "429",
      "503",
      "default"
    ])
    // public: Unauthorized and Forbidden only because they are declared; no token, so no 503
    expect(statuses("/api/auth/login", "post")).toEqual(["200", "400", "401", "403", "413", "415", "429", "default"])
    expect(statuses("/api/auth/refresh", "post")).toEqual(["200", "400", "401", "413", "415", "429", "default"])
    const conflict = res.body.paths["/api/templates/{id}"]?.["delete"]?.responses["409"]
    expect(conflict?.content?.["application/problem+json"]?.schema).toEqual({ $ref: "#/components/schemas/Problem" })
  })

  test("readiness reports database and migrations", async () => {
    const res = await p.app.handle(new Request("http://127.0.0.1/readyz"))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: "ready", database: "ok", migrations: "ok" })
  })

  test("the OpenAPI document lists routes with their permission", async () => {
    const res = await p.http<{ openapi: string; paths: Record<string, Record<string, { "x-permission": string }>> }>(
      "GET",
      "/api/openapi.json"
    )
    expect(res.status).toBe(200)
    expect(res.body.openapi).toBe("3.1.0")
    for (const ops of Object.values(res.body.paths)) {
      for (const op of Object.values(ops)) expect(typeof op["x-permission"]).toBe("string")
    }
    const docs = await p.http("GET", "/api/docs")
    expect(docs.status).toBe(200)
    expect(docs.text).toContain("StreamSpace API")
  })
})
