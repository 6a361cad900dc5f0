/**
 * `SessionControl`, granted by `grants: ["sessions"]`: a plugin launches,
 * hibernates, wakes and deletes sessions through the core's own sessions
 * service — its checks apply (who may act, quotas), each action leaves an
 * audit row naming the plugin — from a job (as the platform) and from a
 * request (as the request's user). Without the grant every action is refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { HttpRoute } from "@streamspace/core"
import { definePlugin, PlatformAccessDenied, Routes, Scheduler, SessionControl } from "@streamspace/kernel"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Layer, Schema } from "effect"
import { makeTemplate, makeUser } from "../core/sessions/helpers.ts"

/** What the plugin's job does next: set by the test before `runJob`. */
let next: { readonly action: "create" | "hibernate" | "wake" | "delete"; readonly target: string } | undefined
let template = ""
const outcomes: Array<string> = []

const probe = (id: string, grants: ReadonlyArray<"sessions">) =>
  definePlugin({
    id,
    name: id,
    version: "1.0.0",
    type: "extension",
    category: "test",
    grants,
    layer: Layer.scopedDiscard(
      Effect.gen(function* () {
        const sessions = yield* SessionControl
        const run = (action: "create" | "hibernate" | "wake" | "delete", target: string) =>
          (action === "create" ? sessions.create(target, { templateId: template }) : sessions[action](target)).pipe(
            Effect.map((s) => `${s.id} ${s.state}/${s.desired}`),
            Effect.catchTags({
              SessionControlError: (e) => Effect.succeed(`refused ${e.status}: ${e.message}`),
              PlatformAccessDenied: (e) => Effect.succeed(`denied ${e.status}`)
            })
          )
        yield* (yield* Scheduler).schedule(
          "act",
          { every: "1 hour" },
          Effect.suspend(() =>
            next === undefined ? Effect.void : Effect.map(run(next.action, next.target), (o) => void outcomes.push(o))
          )
        )
        yield* (yield* Routes).add(
          HttpRoute.make({
            method: "POST",
            path: "/launch",
            summary: "Launches a session for a user, as the caller",
            permission: "authenticated",
            body: Schema.Struct({ userId: Schema.String }),
            response: Schema.Struct({ outcome: Schema.String }),
            transactional: false,
            errors: [PlatformAccessDenied],
            handler: ({ body }) => Effect.map(run("create", body.userId), (outcome) => ({ outcome }))
          })
        )
      })
    )
  })

let p: TestPlatform.TestPlatform
let admin: string
let bob: { id: string; token: string }
let alice: { id: string; token: string }
beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [probe("granted", ["sessions"]), probe("ungranted", [])],
    config: { plugins: { enabled: ["granted", "ungranted"] } }
  })
  admin = await p.login("admin", p.adminPassword)
  template = await makeTemplate(p, admin, "controlled")
  bob = await makeUser(p, admin, "bob-controlled")
  alice = await makeUser(p, admin, "alice-controlled")
})
afterAll(() => p.close())

const act = async (plugin: string, action: "create" | "hibernate" | "wake" | "delete", target: string) => {
  next = { action, target }
  outcomes.length = 0
  await p.runJob(plugin, "act")
  next = undefined
  expect(outcomes).toHaveLength(1)
  return outcomes[0]!
}
const stateOf = async (id: string) =>
  (await p.query<{ state: string }>("SELECT state FROM sessions WHERE id = $1", [id]))[0]?.state
const auditOf = (id: string) =>
  p.query<{ action: string; actor: string; plugin: string | null; detail: string | null }>(
    "SELECT action, actor, plugin, detail FROM audit_log WHERE target = $1 ORDER BY id",
    [id]
  )

describe(`SessionControl (${TestPlatform.engine()})`, () => {
  test("from a job: launch for a user (theirs, as them), hibernate, wake, delete — each audited with the plugin", async () => {
    const launched = await act("granted", "create", bob.id)
    const id = launched.split(" ")[0]!
    expect(launched).toBe(`${id} pending/running`)
    const [row] = await p.query<{ user_id: string }>("SELECT user_id FROM sessions WHERE id = $1", [id])
    expect(row!.user_id).toBe(bob.id)
    await p.eventually(async () => (await stateOf(id)) === "running")
    expect(await act("granted", "hibernate", id)).toBe(`${id} running/hibernated`)
    await p.eventually(async () => (await stateOf(id)) === "hibernated")
    expect(await act("granted", "wake", id)).toBe(`${id} hibernated/running`)
    await p.eventually(async () => (await stateOf(id)) === "running")
    expect(await act("granted", "delete", id)).toBe(`${id} running/terminated`)
    await p.eventually(async () => (await stateOf(id)) === "terminated")
    expect(await auditOf(id)).toEqual([
      { action: "session.create", actor: "system:plugin:granted", plugin: "granted", detail: `for user ${bob.id}` },
      { action: "session.hibernate", actor: "system:plugin:granted", plugin: "granted", detail: null },
      { action: "session.wake", actor: "system:plugin:granted", plugin: "granted", detail: null },
      { action: "session.delete", actor: "system:plugin:granted", plugin: "granted", detail: null }
    ])
  })

  test("from a request: a user launches for themselves, not for another user; an admin may", async () => {
    const launch = (token: string, userId: string) =>
      p.http<{ outcome: string }>("POST", "/api/plugins/granted/launch", { token, body: { userId } })
    const own = await launch(alice.token, alice.id)
    expect(own.body.outcome).toMatch(/ pending\/running$/)
    const other = await launch(alice.token, bob.id)
    expect(other.body.outcome).toStartWith("refused 403")
    const byAdmin = await launch(admin, bob.id)
    expect(byAdmin.body.outcome).toMatch(/ pending\/running$/)
    const [owner] = await p.query<{ user_id: string }>("SELECT user_id FROM sessions WHERE id = $1", [
      byAdmin.body.outcome.split(" ")[0]
    ])
    expect(owner!.user_id).toBe(bob.id)
  })

  test("the core's checks apply: an unknown template is 404 and launches nothing", async () => {
    const before = await p.query<{ n: number }>("SELECT count(*)::int AS n FROM sessions")
    const saved = template
    template = crypto.randomUUID()
    try {
      expect(await act("granted", "create", bob.id)).toStartWith("refused 404")
    } finally {
      template = saved
    }
    expect(await p.query<{ n: number }>("SELECT count(*)::int AS n FROM sessions")).toEqual(before)
  })

  test("without the grant every action is refused, and nothing changes", async () => {
    const before = await p.query<{ n: number }>("SELECT count(*)::int AS n FROM sessions")
    expect(await act("ungranted", "create", bob.id)).toBe("denied 403")
    const running = () => p.query<{ id: string }>("SELECT id FROM sessions WHERE state = 'running' LIMIT 1")
    await p.eventually(async () => (await running()).length > 0)
    const [any] = await running()
    for (const action of ["hibernate", "wake", "delete"] as const)
      expect(await act("ungranted", action, any!.id)).toBe("denied 403")
    expect(await p.query<{ n: number }>("SELECT count(*)::int AS n FROM sessions")).toEqual(before)
    expect(await stateOf(any!.id)).toBe("running")
  })
})
