/**
 * The edges of VNC tickets in time and volume: a ticket expires after
 * `auth.vncTicketTtlSeconds` (simulated clock), and both the ticket route
 * and the WebSocket upgrade have a strict per-caller budget.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { RateLimiter } from "@streamspace/server"
import { TestPlatform, VncClient } from "@streamspace/testing"
import { launch, makeTemplate, makeUser, outcomeOf } from "./vnc-kit.ts"

let clocked: TestPlatform.TestPlatform
let limited: TestPlatform.TestPlatform

beforeAll(async () => {
  ;[clocked, limited] = await Promise.all([
    TestPlatform.make({ listen: true, clock: "test", config: { auth: { vncTicketTtlSeconds: 30 } } }),
    TestPlatform.make({ listen: true, config: { rateLimit: true, sessions: { simulatedDelayMs: 20 } } })
  ])
})
afterAll(() => Promise.all([clocked.close(), limited.close()]))

describe(`VNC ticket expiry and rate limits (${TestPlatform.engine()})`, () => {
  test("a ticket expires after auth.vncTicketTtlSeconds", async () => {
    const admin = await clocked.login("admin", clocked.adminPassword)
    const owner = await makeUser(clocked, admin, "expiry-owner")
    const template = await makeTemplate(clocked, admin, "expiry-desktop")
    const id = (
      await clocked.http<{ id: string }>("POST", "/api/sessions", {
        token: owner.token,
        body: { templateId: template }
      })
    ).body.id
    const res = await clocked.http<{ ticket: string; expiresAt: string }>("POST", `/api/sessions/${id}/vnc-ticket`, {
      token: owner.token
    })
    expect(res.status).toBe(200)
    const [row] = await clocked.query<{ created_at: Date; expires_at: Date }>(
      "SELECT created_at, expires_at FROM vnc_tickets WHERE session_id = $1",
      [id]
    )
    expect(row!.expires_at.getTime() - row!.created_at.getTime()).toBe(30_000)
    expect(new Date(res.body.expiresAt).getTime()).toBe(row!.expires_at.getTime())
    await clocked.adjustClock("31 seconds")
    expect(await outcomeOf(clocked, VncClient.open(clocked, id, { ticket: res.body.ticket }))).toEqual({
      code: 4401,
      reason: "ticket expired"
    })
  })

  test("tickets and upgrades have a strict budget per caller", async () => {
    const admin = await limited.login("admin", limited.adminPassword)
    const owner = await makeUser(limited, admin, "limited-owner")
    const id = await launch(limited, owner.token, await makeTemplate(limited, admin, "limited-desktop"))
    const statuses: Array<number> = []
    for (let i = 0; i <= RateLimiter.budgets.strict; i++)
      statuses.push((await limited.http("POST", `/api/sessions/${id}/vnc-ticket`, { token: owner.token })).status)
    expect(statuses.slice(0, RateLimiter.budgets.strict).every((s) => s === 200)).toBe(true)
    expect(statuses[RateLimiter.budgets.strict]).toBe(429)

    // Each upgrade either reaches the desktop (its greeting arrives) or is closed with a code.
    const outcomes: Array<unknown> = []
    for (let i = 0; i <= RateLimiter.budgets.strict; i++)
      outcomes.push(await outcomeOf(limited, VncClient.open(limited, id, { bearer: owner.token })))
    expect(outcomes.slice(0, RateLimiter.budgets.strict).every((o) => o === "greeted")).toBe(true)
    expect(outcomes[RateLimiter.budgets.strict]).toMatchObject({ code: 4429 })
  })
})
