/**
 * Time under the test kit's simulated clock: cron triggers in their time
 * zone (one execution per matching minute), and durable waits that finish
 * when the clock reaches them, not before.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"
import { Clock } from "effect"
import workflows from "@streamspace/plugin-workflows"
import { create, execution, run, settle } from "./helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string

beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [workflows],
    clock: "test",
    config: { plugins: { enabled: ["workflows"] }, sessions: { idleTimeoutSeconds: 100 * 3600 } }
  })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p?.close())

test("a cron trigger fires once per matching minute in its time zone", async () => {
  // 30 past the hour in Kolkata (UTC+05:30) is the top of the hour in UTC.
  const wf = await create(p, admin, {
    name: "half past in Kolkata",
    trigger: { type: "cron", cron: "30 * * * *", timeZone: "Asia/Kolkata" },
    steps: [{ id: "note", type: "set", variables: { tick: "trigger.tick" } }]
  })
  await p.adjustClock("2 hours")
  const list = await p.eventually(async () => {
    const res = await p.http<{ items: Array<{ id: string; status: string; triggerType: string }> }>(
      "GET",
      `/api/plugins/workflows/executions?workflowId=${wf.id}`,
      { token: admin }
    )
    if (res.body.items.some((i) => i.status !== "completed")) {
      await p.adjustClock("1 second")
      return undefined
    }
    return res.body.items
  })
  expect(list).toHaveLength(2)
  for (const item of list) {
    const e = await execution(p, admin, item.id)
    const tick = new Date((e.triggerData as { tick: string }).tick)
    expect(tick.getUTCMinutes()).toBe(0)
    expect(e.vars.tick).toBe(tick.toISOString())
  }
  // The job's runs are recorded once per tick (the platform claims each tick once across replicas).
  const runs = await p.http<{ items: Array<{ job: string }> }>("GET", "/api/admin/plugins/workflows/jobs", {
    token: admin
  })
  expect(runs.body.items.filter((r) => r.job === "cron").length).toBeGreaterThanOrEqual(100)
})

test("a wait step is a durable timer: the next step runs when the clock gets there", async () => {
  const wf = await create(p, admin, {
    name: "wait an hour",
    trigger: { type: "manual" },
    steps: [
      { id: "hold", type: "wait", seconds: 3600 },
      { id: "after", type: "set", variables: { at: "steps.hold.output.waitedUntil" } }
    ]
  })
  const started = await p.run(Clock.currentTimeMillis)
  const r = await run(p, admin, wf.id)
  await settle(p, admin, r.executionId, ["running"])
  await p.eventually(async () => {
    expect((await execution(p, admin, r.executionId)).steps.map((s) => s.status)).toEqual(["waiting"])
    return true
  })
  await p.adjustClock("59 minutes")
  expect((await execution(p, admin, r.executionId)).status).toBe("running")
  await p.adjustClock("2 minutes")
  const e = await settle(p, admin, r.executionId, undefined, true)
  expect(e.status).toBe("completed")
  const until = Date.parse(String(e.vars.at))
  expect(until - started).toBeGreaterThanOrEqual(3600_000)
  expect(until - started).toBeLessThan(3600_000 + 60_000)
})

/** "HH:MM" of an instant in a time zone. */
const localTime = (at: Date, timeZone: string) => {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23"
  }).formatToParts(at)
  const get = (t: string) => Number(parts.find((x) => x.type === t)!.value)
  return { hour: get("hour"), minute: get("minute") }
}

test("recipe: a GPU session started during the day is hibernated at night (Europe/Paris)", async () => {
  const tpl = await p.http<{ id: string }>("POST", "/api/templates", {
    token: admin,
    body: {
      name: "gpu-desktop",
      displayName: "GPU desktop",
      image: "example/gpu:1",
      defaultCpu: 1000,
      maxCpu: 1000,
      defaultMemory: 1024,
      maxMemory: 1024
    }
  })
  expect(tpl.status).toBe(201)
  // "Night" is half an hour from now on the test clock, written as a Paris wall-clock time.
  const night = new Date(Math.floor(((await p.run(Clock.currentTimeMillis)) + 30 * 60_000) / 60_000) * 60_000)
  const { hour, minute } = localTime(night, "Europe/Paris")
  const wf = await create(p, admin, {
    name: "hibernate GPU sessions at night",
    trigger: { type: "event", events: ["session.started"], filter: `event.payload.templateId == "${tpl.body.id}"` },
    steps: [
      { id: "night", type: "wait", until: { cron: `${minute} ${hour} * * *`, timeZone: "Europe/Paris" } },
      { id: "hibernate", type: "session", action: "hibernate", sessionId: "{{ trigger.payload.sessionId }}" }
    ]
  })
  const launched = await p.http<{ id: string }>("POST", "/api/sessions", {
    token: admin,
    body: { templateId: tpl.body.id }
  })
  expect(launched.status).toBe(201)
  const state = async () =>
    (await p.http<{ state: string }>("GET", `/api/sessions/${launched.body.id}`, { token: admin })).body.state
  await p.eventually(async () => {
    if ((await state()) === "running") return true
    await p.adjustClock("1 second")
    return false
  })
  const waiting = await p.eventually(async () => {
    const list = await p.http<{ items: Array<{ id: string }> }>(
      "GET",
      `/api/plugins/workflows/executions?workflowId=${wf.id}`,
      { token: admin }
    )
    return list.body.items[0]
  })
  await p.adjustClock("20 minutes")
  expect(await state()).toBe("running")
  await p.adjustClock("11 minutes")
  const e = await settle(p, admin, waiting.id, undefined, true)
  expect(e.status, e.error ?? "").toBe("completed")
  expect(
    Date.parse(String((e.steps.find((s) => s.stepId === "night")!.output as { waitedUntil: string }).waitedUntil))
  ).toBe(night.getTime())
  await p.eventually(async () => {
    if ((await state()) === "hibernated") return true
    await p.adjustClock("1 second")
    return false
  })
})
