/**
 * The generate-invoices job under the test clock: nothing before
 * invoiceGeneration.dayOfMonth of the new month, then each user's invoice
 * for the last month, once, finalized with its number; later ticks add none.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import billing from "@streamspace/plugin-billing"
import { TestPlatform } from "@streamspace/testing"
import { Clock } from "effect"
import { act, launch, makeTemplate } from "./helpers.ts"

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
    body: { currency: "EUR", invoiceGeneration: { autoGenerate: true, dayOfMonth: 2 } }
  })
  expect(res.status).toBe(200)
})
afterAll(() => p.close())

/** Moves the clock to `target` a day at a time (every hourly tick runs on the way). */
const moveTo = async (target: number) => {
  for (;;) {
    const now = await p.run(Clock.currentTimeMillis)
    if (now >= target) return
    await p.adjustClock(`${Math.min(target - now, 86_400_000)} millis`)
  }
}

const invoices = () =>
  p.query<{ user_id: string; number: string; status: string; currency: string; period_start: Date }>(
    "SELECT user_id, number, status, currency, period_start FROM plugin_billing.invoices ORDER BY number"
  )

describe(`billing invoice job (${TestPlatform.engine()})`, () => {
  test(
    "invoices last month's usage on dayOfMonth, once",
    async () => {
      // The session and its 90 minutes stay inside one month, clear of the invoicing day: near either, from the 10th.
      const start = new Date(await p.run(Clock.currentTimeMillis))
      if (start.getUTCDate() < 3 || start.getUTCDate() > 25)
        await moveTo(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + (start.getUTCDate() > 25 ? 1 : 0), 10))
      const user = await p.makeUser("frank")
      const template = await makeTemplate(p, admin, "monthly")
      const session = await launch(p, user.token, template)
      await p.adjustClock("90 minutes")
      await act(p, user.token, session, "delete")
      const now = new Date(await p.run(Clock.currentTimeMillis))
      const nextMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)
      await moveTo(nextMonth + 23 * 3_600_000) // the 1st, 23:00: not yet
      expect(await invoices()).toEqual([])
      await moveTo(nextMonth + 26 * 3_600_000) // the 2nd, 02:00
      const [invoice, ...more] = await invoices()
      expect(more).toEqual([])
      expect(invoice).toMatchObject({ user_id: user.id, status: "open", currency: "EUR" })
      expect(new Date(invoice!.period_start).getTime()).toBe(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))
      expect(invoice!.number).toMatch(/^INV-\d{4}-000001$/)
      await p.adjustClock("3 hours")
      expect(await invoices()).toHaveLength(1)
    },
    { timeout: 180_000 }
  )
})
