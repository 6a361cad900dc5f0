/** Shared set-up of the billing suites: users, a template, sessions driven through their states under the test clock. */
import { expect } from "bun:test"
import type { TestPlatform } from "@streamspace/testing"
import { Clock } from "effect"

/** A template whose sessions get 2 cores (2000 millicores) and 4 GiB (4096 MiB). */
export const makeTemplate = async (p: TestPlatform.TestPlatform, admin: string, name: string) => {
  const res = await p.http<{ id: string }>("POST", "/api/templates", {
    token: admin,
    body: {
      name,
      displayName: name,
      image: `example/${name}:1`,
      defaultCpu: 2000,
      maxCpu: 2000,
      defaultMemory: 4096,
      maxMemory: 4096
    }
  })
  expect(res.status).toBe(201)
  return res.body.id
}

const stateOf = async (p: TestPlatform.TestPlatform, token: string, id: string) =>
  (await p.http<{ state: string }>("GET", `/api/sessions/${id}`, { token })).body.state

/** Moves the test clock a second at a time until the session is in `state`, then waits for billing to meter it. */
export const reach = async (p: TestPlatform.TestPlatform, token: string, id: string, state: string) => {
  await p.eventually(async () => {
    if ((await stateOf(p, token, id)) === state) return true
    await p.adjustClock("1 second")
    return false
  })
  await p.awaitDelivered()
}

export const act = async (
  p: TestPlatform.TestPlatform,
  token: string,
  id: string,
  action: "hibernate" | "wake" | "delete"
) => {
  const res =
    action === "delete"
      ? await p.http("DELETE", `/api/sessions/${id}`, { token })
      : await p.http("POST", `/api/sessions/${id}/${action}`, { token })
  expect(res.status).toBe(202)
  await reach(p, token, id, action === "hibernate" ? "hibernated" : action === "wake" ? "running" : "terminated")
}

export const launch = async (p: TestPlatform.TestPlatform, token: string, templateId: string) => {
  const res = await p.http<{ id: string }>("POST", "/api/sessions", { token, body: { templateId } })
  expect(res.status).toBe(201)
  await reach(p, token, res.body.id, "running")
  return res.body.id
}

/** Moves the clock to the next whole hour (UTC); returns it. */
/**
 * Moves the test clock to the next whole hour (UTC) — or, when the `roomHours` after it would cross into the
 * next month (a billing period ends there), to the first hour of the next month — and returns that instant.
 * Tests that run through hours of usage thereby never straddle two periods, whatever the date they run on.
 */
export const toNextHour = async (p: TestPlatform.TestPlatform, roomHours = 24) => {
  const now = await p.run(Clock.currentTimeMillis)
  let next = Math.floor(now / 3_600_000) * 3_600_000 + 3_600_000
  const at = new Date(next)
  const monthEnd = Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)
  if (next + roomHours * 3_600_000 > monthEnd) next = monthEnd
  await p.adjustClock(`${next - now} millis`)
  return next
}
