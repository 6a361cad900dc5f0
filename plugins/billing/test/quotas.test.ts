/**
 * Spend limits: the roll-up job announces the alert threshold and the limit
 * once each, and with autoSuspendOnOverage (no grace) the
 * session.beforeCreate hook refuses the user's next session with 403 naming
 * billing; raising the limit lifts it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import billing from "@streamspace/plugin-billing"
import { TestPlatform } from "@streamspace/testing"
import { act, launch, makeTemplate, toNextHour } from "./helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string

beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [billing],
    clock: "test",
    config: { plugins: { enabled: ["billing"] }, sessions: { idleTimeoutSeconds: 100 * 3600 } }
  })
  admin = await p.login("admin", p.adminPassword)
  const res = await p.http("PUT", "/api/admin/plugins/billing/config", {
    token: admin,
    body: {
      invoiceGeneration: { autoGenerate: false },
      quotas: { alertThreshold: 50, autoSuspendOnOverage: true, gracePeriodDays: 0 }
    }
  })
  expect(res.status).toBe(200)
})
afterAll(() => p.close())

describe(`billing spend limits (${TestPlatform.engine()})`, () => {
  test("warn at the threshold, refuse new sessions over the limit", async () => {
    const user = await p.makeUser("erin")
    const template = await makeTemplate(p, admin, "quota")
    const limit = await p.http("PUT", "/api/plugins/billing/quotas", {
      token: admin,
      body: { scope: "user", scopeId: user.id, limit: "0.10" }
    })
    expect(limit.status).toBe(200)
    expect(
      (
        await p.http("PUT", "/api/plugins/billing/quotas", {
          token: user.token,
          body: { scope: "user", scopeId: user.id, limit: "9.00" }
        })
      ).status
    ).toBe(403)
    await toNextHour(p)
    const session = await launch(p, user.token, template)
    // 2 cores + 4 GiB cost 0.02 + 0.02 an hour: 0.08 after two hours (≥ 50 % of 0.10), 0.12 after three.
    await p.adjustClock("2 hours")
    await p.runJob("billing", "rollup")
    const status = async () =>
      (
        await p.http<{ spent: { amount: string }; warnedAt: string | null; exceededAt: string | null }>(
          "GET",
          "/api/plugins/billing/quotas/status",
          { token: user.token }
        )
      ).body
    expect(await status()).toMatchObject({ spent: { amount: "0.08" }, exceededAt: null })
    expect((await status()).warnedAt).not.toBeNull()
    await p.adjustClock("1 hour")
    await p.runJob("billing", "rollup")
    await p.runJob("billing", "rollup")
    expect((await status()).exceededAt).not.toBeNull()
    const types = await p.query<{ type: string }>(
      "SELECT type FROM events WHERE type LIKE 'billing.quota.%' ORDER BY position"
    )
    expect(types.map((t) => t.type)).toEqual(["billing.quota.warning", "billing.quota.exceeded"])
    await act(p, user.token, session, "delete")

    const refused = await p.http<{ code: string; plugin: string; detail: string }>("POST", "/api/sessions", {
      token: user.token,
      body: { templateId: template }
    })
    expect(refused.status).toBe(403)
    expect(refused.body.plugin).toBe("billing")
    expect(refused.body.detail).toContain("spend limit reached")

    await p.http("PUT", "/api/plugins/billing/quotas", {
      token: admin,
      body: { scope: "user", scopeId: user.id, limit: "5.00" }
    })
    await p.runJob("billing", "rollup")
    const again = await p.http("POST", "/api/sessions", { token: user.token, body: { templateId: template } })
    expect(again.status).toBe(201)
  })
})
