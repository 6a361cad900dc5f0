import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"
import * as LargeDirectory from "../web/fixtures/LargeDirectory.ts"

let p: TestPlatform.TestPlatform
let admin: string

beforeAll(async () => {
  p = await TestPlatform.make()
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p?.close())

type Stats = {
  sessions: Record<"pending" | "running" | "hibernated" | "terminated" | "failed" | "total", number>
  users: { total: number; disabled: number } | null
}

describe(`GET /api/admin/stats (${TestPlatform.engine()})`, () => {
  test("counts sessions by state and users in SQL, matching what was inserted", async () => {
    const before = await p.http<Stats>("GET", "/api/admin/stats", { token: admin })
    expect(before.status).toBe(200)
    expect(before.body.sessions.total).toBe(0)
    const usersBefore = before.body.users!.total
    const fixture = await LargeDirectory.insert(p, { users: 1000, sessions: 1000, prefix: "stats" })
    console.log(`LargeDirectory: 1000 users + 1000 sessions inserted in ${fixture.ms.toFixed(0)} ms`)
    const after = await p.http<Stats>("GET", "/api/admin/stats", { token: admin })
    expect(after.body.sessions).toEqual({ ...fixture.byState, total: 1000 })
    expect(fixture.byState.running).toBe(400)
    expect(after.body.users).toEqual({ total: usersBefore + 1000, disabled: 20 })
  })

  test("needs sessions:admin; users are counted only for callers who may read users", async () => {
    const { token: plain } = await p.makeUser("plain-stats", { password: "amber-kettle-Wq7rTz4-meadow" })
    const refused = await p.http<{ permission: string }>("GET", "/api/admin/stats", { token: plain })
    expect(refused.status).toBe(403)
    expect(refused.body.permission).toBe("sessions:admin")
    const key = await p.http<{ key: string }>("POST", "/api/api-keys", {
      token: admin,
      body: { name: "stats-only", scopes: ["sessions:admin"] }
    })
    const scoped = await p.http<Stats>("GET", "/api/admin/stats", { token: key.body.key })
    expect(scoped.status).toBe(200)
    expect(scoped.body.users).toBeNull()
    expect(scoped.body.sessions.total).toBe(1000)
  })
})

describe(`GET /api/roles (${TestPlatform.engine()})`, () => {
  test("lists roles with their permissions and every permission with its owner", async () => {
    const res = await p.http<{
      items: ReadonlyArray<{ name: string; permissions: ReadonlyArray<string> }>
      permissions: ReadonlyArray<{ name: string; owner: string }>
    }>("GET", "/api/roles", { token: admin })
    expect(res.status).toBe(200)
    expect(res.body.items.map((r) => r.name)).toEqual(["admin", "operator", "user", "viewer"])
    expect(res.body.items.find((r) => r.name === "admin")?.permissions).toEqual(["*"])
    expect(res.body.items.find((r) => r.name === "operator")?.permissions).toContain("sessions:admin")
    expect(res.body.permissions).toContainEqual(expect.objectContaining({ name: "plugins:admin", owner: "core" }))
    const plain = await p.login("plain-stats", "amber-kettle-Wq7rTz4-meadow")
    expect((await p.http("GET", "/api/roles", { token: plain })).status).toBe(403)
  })
})
