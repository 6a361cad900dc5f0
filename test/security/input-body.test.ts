/**
 * JSON bodies are read at the edge under limits: deeper than 32 levels is a
 * 400 (a 10 000-deep array used to overflow the stack while its parse error
 * was formatted: a 500), more than 1 MiB a 413 read no further, invalid JSON
 * a 400 that does not quote the body, another media type a 415. Uploads
 * (`body: "raw"`) are not JSON bodies and keep their own limit.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"

interface Problem {
  readonly status: number
  readonly code: string
  readonly title: string
  readonly detail: string
  readonly limit?: number
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>
}

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make()
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const post = (path: string, raw: string, contentType = "application/json", token = admin, method = "POST") =>
  p.http<Problem>(method, path, { token, raw, headers: { "content-type": contentType } })

const groupCount = async () => Number((await p.query<{ n: string }>("SELECT count(*) AS n FROM groups"))[0]!.n)

describe(`JSON request bodies (${TestPlatform.engine()})`, () => {
  test("10 000 and 100 000 levels of nesting: 400 invalid_body, not a stack overflow", async () => {
    for (const levels of [10_000, 100_000]) {
      const res = await post("/api/groups", `{"name":"deep","description":${"[".repeat(levels)}${"]".repeat(levels)}}`)
      expect(res.status).toBe(400)
      expect(res.headers.get("content-type")).toContain("application/problem+json")
      expect(res.body.code).toBe("invalid_body")
      expect(res.body.detail).toContain("deeper than 32")
    }
    const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`
    // The same on a route whose body is free-form (a plugin's config) and on a public one.
    expect((await post("/api/admin/plugins/hello/config", deep, "application/json", admin, "PUT")).status).toBe(400)
    expect((await post("/api/auth/login", `{"username":${deep}}`, "application/json", "")).status).toBe(400)
  })

  test("32 levels are fine; brackets inside strings do not count", async () => {
    const nested = `${"[".repeat(31)}${"]".repeat(31)}`
    const res = await post("/api/groups", JSON.stringify({ name: `[[[{{{${"[".repeat(50)}`, description: "x" }))
    expect(res.status).toBe(201)
    // 31 arrays inside the body object: 32 levels, decoded by the Schema (a 400 from validation, not the reader).
    const within = await post("/api/groups", `{"name":"n","description":${nested}}`)
    expect(within.status).toBe(400)
    expect(within.body.code).toBe("validation_failed")
  })

  test("a 2 MB JSON body: 413 with the limit, nothing created", async () => {
    const before = await groupCount()
    const res = await post("/api/groups", JSON.stringify({ name: "big", description: "x".repeat(2 * 1024 * 1024) }))
    expect(res.status).toBe(413)
    expect(res.body.code).toBe("payload_too_large")
    expect(res.body.title).toBe("Payload Too Large")
    expect(res.body.limit).toBe(1024 * 1024)
    expect(await groupCount()).toBe(before)
  })

  test("a large body sent without a length (streamed) is cut off at the limit too", async () => {
    const chunk = new TextEncoder().encode(`{"name":"s","description":"${"y".repeat(64 * 1024)}`)
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 40) controller.enqueue(chunk)
        else controller.close()
      }
    })
    const res = await p.http<Problem>("POST", "/api/groups", {
      token: admin,
      raw: stream,
      headers: { "content-type": "application/json" }
    })
    expect(res.status).toBe(413)
    // Read no further than the limit: 40 chunks were offered, far fewer pulled.
    expect(sent).toBeLessThan(40)
  })

  test("invalid JSON: 400 invalid_body whose message does not quote the body", async () => {
    const res = await post("/api/auth/login", '{"username":"admin","password":hunter2hunter2}', "application/json", "")
    expect(res.status).toBe(400)
    expect(res.body.code).toBe("invalid_body")
    expect(res.text).not.toContain("hunter2")
  })

  test("text/plain or a form on a JSON route: 415; JSON media types with parameters are fine", async () => {
    const body = JSON.stringify({ name: "typed" })
    const plain = await post("/api/groups", body, "text/plain")
    expect(plain.status).toBe(415)
    expect(plain.body.code).toBe("unsupported_media_type")
    expect(plain.body.title).toBe("Unsupported Media Type")
    expect((await post("/api/groups", "name=typed", "application/x-www-form-urlencoded")).status).toBe(415)
    expect((await post("/api/groups", body, "application/json; charset=utf-8")).status).toBe(201)
    expect((await post("/api/groups", JSON.stringify({ name: "typed2" }), "application/merge-patch+json")).status).toBe(
      201
    )
  })

  test("uploads are raw bodies: not limited to 1 MiB, any media type", async () => {
    const template = await p.http<{ id: string }>("POST", "/api/templates", {
      token: admin,
      body: { name: "upload-app", displayName: "Upload", image: "up:1" }
    })
    const session = await p.http<{ id: string }>("POST", "/api/sessions", {
      token: admin,
      body: { templateId: template.body.id }
    })
    const bytes = new Uint8Array(2 * 1024 * 1024).fill(7)
    const res = await p.http<{ size: number }>("POST", `/api/sessions/${session.body.id}/files?name=big.bin`, {
      token: admin,
      raw: bytes,
      headers: { "content-type": "application/octet-stream" }
    })
    expect(res.status).toBe(201)
    expect(res.body.size).toBe(bytes.length)
  })
})
