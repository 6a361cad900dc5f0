/**
 * `TestPlatform.make({ replace })` puts stand-ins in place of core services
 * in the real platform graph: the HTTP routes use them, and so do the core
 * services built on them (Sessions on Quotas, Templates on TemplateRepo).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { QuotaExceeded, Quotas, TemplateRepo } from "@streamspace/core"
import { stubLayer, TestPlatform } from "@streamspace/testing"
import { Effect, Layer } from "effect"
import { template } from "../unit/helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string
const checked: Array<{ userId: string; cpu: number }> = []

beforeAll(async () => {
  p = await TestPlatform.make({
    replace: Layer.mergeAll(
      stubLayer(Quotas.Quotas, {
        get: () =>
          Effect.succeed(new Quotas.Quota({ maxSessions: 7, maxCpu: null, maxMemory: null, maxStorage: null })),
        usage: () => Effect.succeed({ sessions: 42, cpu: 0, memory: 0, storage: 0 }),
        enforce: (userId, _binding, _usage, request) =>
          Effect.zipRight(
            Effect.sync(() => checked.push({ userId, cpu: request.cpu })),
            Effect.fail(
              new QuotaExceeded({
                message: "refused by the stub",
                limit: "sessions",
                max: 0,
                requested: 1,
                scope: "user"
              })
            )
          )
      }),
      stubLayer(TemplateRepo.TemplateRepo, {
        findById: (id) => Effect.succeed(template({ id, name: "stubbed-app", defaultCpu: 750 }))
      })
    )
  })
  admin = await p.login("admin", p.adminPassword)
  // Sessions read the template launched from with the session's own facts (SessionRepo), not through TemplateRepo.
  await p.query(
    `INSERT INTO templates (id, name, display_name, image, default_cpu, default_memory, max_cpu, max_memory, created_at, updated_at)
     VALUES ('any-id', 'stored-app', 'Stored app', 'example/app:1', 750, 1024, 2000, 4096, now(), now())`
  )
})
afterAll(() => p.close())

describe(`replacing services (${TestPlatform.engine()})`, () => {
  test("a route reads the replaced service", async () => {
    const me = await p.http<{ id: string }>("GET", "/api/auth/me", { token: admin })
    const res = await p.http<{ quota: { maxSessions: number }; usage: { sessions: number } }>(
      "GET",
      `/api/quotas/users/${me.body.id}`,
      { token: admin }
    )
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ quota: { maxSessions: 7 }, usage: { sessions: 42 } })
  })

  test("services built on a replaced one use it: a replaced repository under Templates, a replaced Quotas under Sessions", async () => {
    const read = await p.http<{ name: string }>("GET", "/api/templates/any-id", { token: admin })
    expect(read.status).toBe(200)
    expect(read.body.name).toBe("stubbed-app")
    // A quota binding the caller: the launch then asks Quotas (with none, it is one statement and asks nothing).
    const me = await p.http<{ id: string }>("GET", "/api/auth/me", { token: admin })
    await p.query(`INSERT INTO quotas (scope, scope_id, max_sessions, updated_at) VALUES ('user', $1, 100, now())`, [
      me.body.id
    ])
    const launched = await p.http<{ code: string; detail: string }>("POST", "/api/sessions", {
      token: admin,
      body: { templateId: "any-id" }
    })
    expect(launched.status).toBe(403)
    expect(launched.body).toMatchObject({ code: "quota_exceeded", detail: "refused by the stub" })
    expect(checked).toEqual([expect.objectContaining({ cpu: 750 })])
  })

  test("a member the stand-in does not provide fails the request instead of reaching the real service", async () => {
    const res = await p.http("GET", "/api/templates", { token: admin })
    expect(res.status).toBe(500)
  })
})
