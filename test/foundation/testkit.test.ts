/**
 * The test kit's own promises: a two-hour move of the simulated clock runs
 * every due job tick in a few seconds of wall time; tokens from `login`
 * survive such moves (and a test that sets a short TTL sees them expire);
 * `runJob` runs a job now; `eventually` fails at its deadline with the
 * check's own assertion message instead of hanging.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import hello from "@streamspace/plugin-hello"
import { Eventually, TestPlatform } from "@streamspace/testing"
import { Clock } from "effect"

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [hello], clock: "test", config: { plugins: { enabled: ["hello"] } } })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const ticks = async () =>
  (await p.http<{ ticks: number }>("GET", "/api/plugins/hello/greetings", { token: admin })).body.ticks
const runs = () =>
  p.query<{ tick: Date; outcome: string }>(
    "SELECT tick, outcome FROM plugin_job_runs WHERE plugin_id = 'hello' ORDER BY tick"
  )

describe(`simulated clock (${TestPlatform.engine()})`, () => {
  test("adjustClock('2 hours') runs each of the 120 due ticks of a one-minute job, in seconds", async () => {
    const start = await p.run(Clock.currentTimeMillis)
    const before = await ticks()
    const wall = performance.now()
    await p.adjustClock("2 hours")
    const took = performance.now() - wall
    expect(await p.run(Clock.currentTimeMillis)).toBe(start + 2 * 3600_000)
    const done = await runs()
    // Every minute boundary in (start, start + 2 h], each once, labelled with the instant it was due.
    const expected = Array.from({ length: 120 }, (_, i) => (Math.floor(start / 60_000) + 1 + i) * 60_000)
    expect(done.map((r) => r.tick.getTime())).toEqual(expected)
    expect(done.every((r) => r.outcome === "success")).toBe(true)
    expect(await ticks()).toBe(before + 120)
    // Under a second per simulated minute was the old cost; this is a whole two hours, on a busy machine.
    expect(took).toBeLessThan(20_000)
  })

  test("a token from login still works after the clock moved two hours (access tokens outlive clock jumps)", async () => {
    const token = await p.login("admin", p.adminPassword)
    await p.adjustClock("2 hours")
    expect((await p.http("GET", "/api/auth/me", { token })).status).toBe(200)
    expect((await p.http("GET", "/api/auth/me", { token: admin })).status).toBe(200)
  })

  test("with a TTL the test sets, tokens expire on the simulated clock", async () => {
    const short = await TestPlatform.make({ clock: "test", config: { auth: { accessTokenTtlSeconds: 900 } } })
    try {
      const token = await short.login("admin", short.adminPassword)
      await short.adjustClock("14 minutes")
      expect((await short.http("GET", "/api/auth/me", { token })).status).toBe(200)
      await short.adjustClock("2 minutes")
      expect((await short.http("GET", "/api/auth/me", { token })).status).toBe(401)
    } finally {
      await short.close()
    }
  })
})

describe("runJob", () => {
  test("runs an enabled plugin's job now and returns its run", async () => {
    const before = await ticks()
    const now = await p.run(Clock.currentTimeMillis)
    const run = await p.runJob("hello", "tick")
    expect(run).toMatchObject({ job: "tick", outcome: "success", error: null })
    expect(run.tick.getTime()).toBe(now)
    expect(run.finishedAt).toBeInstanceOf(Date)
    expect(await ticks()).toBe(before + 1)
  })

  test("names the job or the plugin when it cannot", async () => {
    await expect(p.runJob("hello", "nope")).rejects.toThrow(
      "plugin hello has no scheduled job named nope (its jobs: tick)"
    )
    await expect(p.runJob("ghost", "tick")).rejects.toThrow("plugin ghost not found")
    expect((await p.http("POST", "/api/admin/plugins/hello/disable", { token: admin })).status).toBe(200)
    try {
      await expect(p.runJob("hello", "tick")).rejects.toThrow("plugin hello is disabled, not enabled")
    } finally {
      expect((await p.http("POST", "/api/admin/plugins/hello/enable", { token: admin })).status).toBe(200)
    }
  })
})

describe("eventually", () => {
  test("rethrows the check's last assertion error at the deadline", async () => {
    let n = 0
    const started = Date.now()
    const failure = await Eventually.eventually(() => {
      n++
      expect(n).toBe(-1)
    }, 300).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(failure).toBeInstanceOf(Error)
    expect((failure as Error).message).toContain("toBe")
    expect((failure as Error).message).toContain(String(n))
    expect(n).toBeGreaterThan(1)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  test("returns the first value that is not undefined/false, and says what it waited for when none came", async () => {
    let n = 0
    expect(await Eventually.eventually(() => (++n >= 3 ? `after ${n}` : undefined))).toBe("after 3")
    await expect(Eventually.eventually(() => false, { timeoutMs: 100, what: "the moon" })).rejects.toThrow(
      /^the moon not met within 100 ms \(\d+ checks; the last returned false\)$/
    )
  })

  test("cuts off a check that hangs at the deadline", async () => {
    const started = Date.now()
    await expect(
      Eventually.eventually(() => new Promise<boolean>(() => undefined), { timeoutMs: 200 })
    ).rejects.toThrow("condition not met within 200 ms: check 1 was still running at the deadline")
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
