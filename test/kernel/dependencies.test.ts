import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { definePlugin } from "@streamspace/kernel"
import { TestPlatform } from "@streamspace/testing"
import { Layer } from "effect"

const plugin = (id: string, version: string, dependsOn: ReadonlyArray<{ id: string; version: string }> = []) =>
  definePlugin({ id, name: id, version, type: "extension", category: "example", dependsOn, layer: Layer.empty })

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [
      plugin("alpha", "1.4.0"),
      plugin("beta", "1.0.0", [{ id: "alpha", version: "^1.2.0" }]),
      plugin("gamma", "1.0.0", [{ id: "alpha", version: ">=2.0.0" }])
    ]
  })
  admin = await p.login("admin", p.adminPassword)
  for (const id of ["alpha", "beta", "gamma"])
    await p.http("POST", `/api/admin/plugins/${id}/install`, { token: admin })
})
afterAll(() => p.close())

interface Problem {
  readonly code: string
  readonly detail: string
}

describe(`dependencies (${TestPlatform.engine()})`, () => {
  test("B needs A: enabling B first is refused naming A; then A, then B", async () => {
    const refused = await p.http<Problem>("POST", "/api/admin/plugins/beta/enable", { token: admin })
    expect(refused.status).toBe(409)
    expect(refused.body.code).toBe("dependency_disabled")
    expect(refused.body.detail).toContain("alpha")
    expect((await p.http("POST", "/api/admin/plugins/alpha/enable", { token: admin })).status).toBe(200)
    expect((await p.http("POST", "/api/admin/plugins/beta/enable", { token: admin })).status).toBe(200)
  })

  test("a dependency of the wrong version is refused, naming the range", async () => {
    const res = await p.http<Problem>("POST", "/api/admin/plugins/gamma/enable", { token: admin })
    expect(res.status).toBe(409)
    expect(res.body.code).toBe("dependency_version")
    expect(res.body.detail).toContain(">=2.0.0")
  })

  test("disabling A is refused while B is enabled, unless forced (B goes first)", async () => {
    const refused = await p.http<Problem>("POST", "/api/admin/plugins/alpha/disable", { token: admin })
    expect(refused.status).toBe(409)
    expect(refused.body.detail).toContain("beta")
    expect((await p.http("POST", "/api/admin/plugins/alpha/disable?force=true", { token: admin })).status).toBe(200)
    const list = await p.http<{ items: ReadonlyArray<{ id: string; status: string }> }>("GET", "/api/admin/plugins", {
      token: admin
    })
    expect(list.body.items.filter((i) => i.id !== "gamma").map((i) => i.status)).toEqual(["disabled", "disabled"])
  })

  test("uninstalling A is refused while B is installed", async () => {
    const res = await p.http<Problem>("DELETE", "/api/admin/plugins/alpha", { token: admin })
    expect(res.status).toBe(409)
    expect(res.body.detail).toContain("beta")
  })
})
