/**
 * A known path asked with a method it does not serve answers 405 with an
 * `Allow` header and a problem document, for core routes (mounted on Elysia)
 * and plugin routes (dispatched through the plugin route table); unknown
 * paths stay 404.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import hello from "@streamspace/plugin-hello"
import { TestPlatform } from "@streamspace/testing"

interface Problem {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly allowed?: ReadonlyArray<string>
}

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [hello], config: { plugins: { enabled: ["hello"] } } })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const expect405 = async (method: string, path: string, allowed: ReadonlyArray<string>) => {
  const res = await p.http<Problem>(method, path, { token: admin, headers: { "x-request-id": "req-405" } })
  expect(res.status).toBe(405)
  expect(res.headers.get("allow")).toBe(allowed.join(", "))
  expect(res.headers.get("content-type")).toContain("application/problem+json")
  expect(res.headers.get("x-request-id")).toBe("req-405")
  expect(res.body).toMatchObject({
    type: "/problems/method_not_allowed",
    title: "Method Not Allowed",
    status: 405,
    code: "method_not_allowed",
    allowed
  })
  expect(res.body.detail).toContain(`${method} is not allowed on ${path}`)
}

describe(`405 Method Not Allowed (${TestPlatform.engine()})`, () => {
  test("core routes: Allow lists every method the path serves", async () => {
    await expect405("DELETE", "/api/auth/login", ["POST"])
    await expect405("PUT", "/api/users", ["GET", "POST"])
    await expect405("POST", "/api/admin/plugins/hello/config", ["GET", "PUT"])
  })

  test("raw routes mounted beside the API (health, OpenAPI, the VNC WebSocket) too", async () => {
    await expect405("POST", "/healthz", ["GET"])
    await expect405("DELETE", "/api/openapi.json", ["GET"])
    await expect405("POST", "/api/sessions/some-id/vnc", ["GET"])
  })

  test("plugin routes: Allow comes from the plugin's route table", async () => {
    await expect405("DELETE", "/api/plugins/hello/greetings", ["GET"])
    await expect405("GET", "/api/plugins/hello/echo", ["POST"])
    // HEAD never reaches the plugin dispatcher; it is still answered from the table.
    const head = await p.http("HEAD", "/api/plugins/hello/greetings", { token: admin })
    expect(head.status).toBe(405)
    expect(head.headers.get("allow")).toBe("GET")
  })

  test("the right method still works", async () => {
    expect((await p.http("GET", "/api/plugins/hello/greetings", { token: admin })).status).toBe(200)
    expect((await p.http("GET", "/api/users", { token: admin })).status).toBe(200)
  })

  test("unknown paths stay 404, core and plugin alike", async () => {
    for (const [method, path] of [
      ["GET", "/api/nope"],
      ["POST", "/api/users/a/b/c"],
      ["GET", "/api/plugins/hello/nope"],
      ["DELETE", "/api/plugins/nobody/x"],
      // A malformed %-escape where a path parameter would go matches no route, core or plugin: 404, not a crash.
      ["POST", "/api/templates/%E0%A4%A"],
      ["PUT", "/api/plugins/hello/%E0%A4%A"]
    ] as const) {
      const res = await p.http<Problem>(method, path, { token: admin })
      expect(res.status).toBe(404)
      expect(res.body.code).toBe("route_not_found")
      expect(res.headers.get("allow")).toBeNull()
    }
  })

  test("a disabled plugin's routes stay 404 plugin_disabled, whatever the method", async () => {
    expect((await p.http("POST", "/api/admin/plugins/hello/disable", { token: admin })).status).toBe(200)
    try {
      for (const method of ["GET", "DELETE"]) {
        const res = await p.http<Problem>(method, "/api/plugins/hello/greetings", { token: admin })
        expect(res.status).toBe(404)
        expect(res.body.code).toBe("plugin_disabled")
      }
    } finally {
      expect((await p.http("POST", "/api/admin/plugins/hello/enable", { token: admin })).status).toBe(200)
    }
  })
})
