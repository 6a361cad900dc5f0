/**
 * `POST /api/admin/plugins/:id/jobs/:name/run`: an admin runs one of an
 * enabled plugin's scheduled jobs now. The run is recorded and answered
 * (a failing job is a 200 with outcome "failure" and its error), audited,
 * and refused naming what is wrong: an unknown job (404), a plugin that is
 * not enabled (409) or unknown (404), a caller without plugins:admin (403).
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { definePlugin, Scheduler } from "@streamspace/kernel"
import hello from "@streamspace/plugin-hello"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Layer } from "effect"

const failing = definePlugin({
  id: "failing",
  name: "Failing (test fixture)",
  version: "1.0.0",
  type: "extension",
  category: "example",
  layer: Layer.scopedDiscard(
    Effect.flatMap(Scheduler, (s) => s.schedule("boom", { cron: "0 3 * * *" }, Effect.fail("the mail server is down")))
  )
})

interface Run {
  readonly job: string
  readonly tick: string
  readonly startedAt: string
  readonly finishedAt: string | null
  readonly outcome: string | null
  readonly error: string | null
}
interface Problem {
  readonly code?: string
  readonly detail?: string
}

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [hello, failing], config: { plugins: { enabled: ["hello", "failing"] } } })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const runJob = (plugin: string, job: string, token = admin) =>
  p.http<Run & Problem>("POST", `/api/admin/plugins/${plugin}/jobs/${job}/run`, { token })
const ticks = async () =>
  (await p.http<{ ticks: number }>("GET", "/api/plugins/hello/greetings", { token: admin })).body.ticks

test("runs the job now, answers with its run, lists it with the other runs, and audits it", async () => {
  const before = await ticks()
  const res = await runJob("hello", "tick")
  expect(res.status).toBe(200)
  expect(res.body).toMatchObject({ job: "tick", outcome: "success", error: null })
  expect(res.body.finishedAt).not.toBeNull()
  expect(await ticks()).toBe(before + 1)
  const runs = await p.http<{ items: ReadonlyArray<Run> }>("GET", "/api/admin/plugins/hello/jobs", { token: admin })
  expect(runs.body.items).toContainEqual(
    expect.objectContaining({ job: "tick", tick: res.body.tick, outcome: "success" })
  )
  const audit = await p.http<{ items: ReadonlyArray<{ action: string; target: string; result: string }> }>(
    "GET",
    "/api/audit?action=plugin.job.run",
    { token: admin }
  )
  expect(audit.body.items[0]).toMatchObject({ action: "plugin.job.run", target: "hello/tick" })
})

test("a job that fails is recorded and answered with its error", async () => {
  const res = await runJob("failing", "boom")
  expect(res.status).toBe(200)
  expect(res.body.outcome).toBe("failure")
  expect(res.body.error).toContain("the mail server is down")
})

test("an unknown job is a 404 naming it and the plugin's jobs", async () => {
  const res = await runJob("hello", "nope")
  expect(res.status).toBe(404)
  expect(res.body.detail).toBe("plugin hello has no scheduled job named nope (its jobs: tick)")
})

test("an unknown plugin is a 404; a plugin that is not enabled is a 409 and its job does not run", async () => {
  expect((await runJob("ghost", "tick")).status).toBe(404)
  expect((await p.http("POST", "/api/admin/plugins/hello/disable", { token: admin })).status).toBe(200)
  const before = await p.query<{ n: string }>("SELECT count(*) AS n FROM plugin_job_runs WHERE plugin_id = 'hello'")
  const res = await runJob("hello", "tick")
  expect(res.status).toBe(409)
  expect(res.body.code).toBe("plugin_not_enabled")
  expect(res.body.detail).toContain("plugin hello is disabled")
  expect(await p.query<{ n: string }>("SELECT count(*) AS n FROM plugin_job_runs WHERE plugin_id = 'hello'")).toEqual(
    before
  )
  expect((await p.http("POST", "/api/admin/plugins/hello/enable", { token: admin })).status).toBe(200)
  expect((await runJob("hello", "tick")).status).toBe(200)
})

test("needs plugins:admin", async () => {
  expect(
    (
      await p.http("POST", "/api/users", {
        token: admin,
        body: { username: "not-an-admin", password: "long-enough-pw" }
      })
    ).status
  ).toBe(201)
  const user = await p.login("not-an-admin", "long-enough-pw")
  expect((await runJob("hello", "tick", user)).status).toBe(403)
})
