import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { TestPlatform } from "@streamspace/testing"
import { Effect } from "effect"
import { makeTemplate, makeUser, type Problem, reach, type SessionBody, stateOf } from "./helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string
let template: string
beforeAll(async () => {
  p = await TestPlatform.make({
    clock: "test",
    config: { sessions: { simulatedDelayMs: 1000, idleTimeoutSeconds: 120 } }
  })
  admin = await p.login("admin", p.adminPassword)
  template = await makeTemplate(p, admin, "firefox")
})
afterAll(() => p.close())

const eventsOf = (sessionId: string) =>
  p.run(
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) =>
        sql<{
          type: string
          payload: { state: string }
        }>`SELECT type, payload FROM events WHERE payload->>'sessionId' = ${sessionId} ORDER BY position`
    )
  )

describe(`session lifecycle on the simulated runtime (${TestPlatform.engine()})`, () => {
  test("pending → running → hibernated → running → terminated, each with its event", async () => {
    const user = await makeUser(p, admin, "lifecycle")
    const created = await p.http<SessionBody>("POST", "/api/sessions", {
      token: user.token,
      body: { templateId: template }
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      state: "pending",
      desired: "running",
      runtime: "simulated",
      access: "owner",
      cpu: 500,
      memory: 1024
    })
    const id = created.body.id
    await reach(p, user.token, id, "running")
    expect((await p.http<SessionBody>("POST", `/api/sessions/${id}/hibernate`, { token: user.token })).status).toBe(202)
    await reach(p, user.token, id, "hibernated")
    expect((await p.http<Problem>("POST", `/api/sessions/${id}/hibernate`, { token: user.token })).body.code).toBe(
      "invalid_state"
    )
    expect((await p.http("POST", `/api/sessions/${id}/wake`, { token: user.token })).status).toBe(202)
    await reach(p, user.token, id, "running")
    expect((await p.http("DELETE", `/api/sessions/${id}`, { token: user.token })).status).toBe(202)
    await reach(p, user.token, id, "terminated")
    expect((await p.http<Problem>("POST", `/api/sessions/${id}/wake`, { token: user.token })).status).toBe(409)
    const events = await eventsOf(id)
    expect(events.map((e) => e.type)).toEqual([
      "session.created",
      "session.started",
      "session.hibernated",
      "session.woken",
      "session.deleted"
    ])
  })

  test("resources above the template's maximum are a 400 naming the field; unknown templates 404", async () => {
    const user = await makeUser(p, admin, "greedy")
    const cpu = await p.http<Problem>("POST", "/api/sessions", {
      token: user.token,
      body: { templateId: template, cpu: 9000 }
    })
    expect(cpu.status).toBe(400)
    expect(cpu.body.errors?.[0]?.path).toBe("body.cpu")
    const memory = await p.http<Problem>("POST", "/api/sessions", {
      token: user.token,
      body: { templateId: template, memory: 99999 }
    })
    expect(memory.body.errors?.[0]?.path).toBe("body.memory")
    expect((await p.http("POST", "/api/sessions", { token: user.token, body: { templateId: "nope" } })).status).toBe(
      404
    )
    expect(
      (await p.http<Problem>("POST", "/api/sessions", { token: user.token, body: {} })).body.errors?.[0]?.path
    ).toBe("body.templateId")
    expect((await p.http("POST", "/api/sessions", { body: { templateId: template } })).status).toBe(401)
    const viewer = await makeUser(p, admin, "onlylooks", ["viewer"])
    expect(
      (await p.http("POST", "/api/sessions", { token: viewer.token, body: { templateId: template } })).status
    ).toBe(403)
  })

  test("owners see their own; others get 404; shares grant view or control; admins see all", async () => {
    const owner = await makeUser(p, admin, "owner1")
    const other = await makeUser(p, admin, "other1")
    const id = (
      await p.http<SessionBody>("POST", "/api/sessions", { token: owner.token, body: { templateId: template } })
    ).body.id
    await reach(p, owner.token, id, "running")
    expect((await p.http("GET", `/api/sessions/${id}`, { token: other.token })).status).toBe(404)
    expect((await p.http("POST", `/api/sessions/${id}/hibernate`, { token: other.token })).status).toBe(404)
    const list = await p.http<{ items: ReadonlyArray<SessionBody> }>("GET", "/api/sessions", { token: other.token })
    expect(list.body.items.map((s) => s.id)).not.toContain(id)
    expect(
      (
        await p.http("POST", `/api/sessions/${id}/shares`, {
          token: owner.token,
          body: { userId: other.id, access: "view" }
        })
      ).status
    ).toBe(204)
    const viewed = await p.http<SessionBody>("GET", `/api/sessions/${id}`, { token: other.token })
    expect(viewed.body.access).toBe("view")
    expect((await p.http("POST", `/api/sessions/${id}/hibernate`, { token: other.token })).status).toBe(403)
    expect(
      (
        await p.http("POST", `/api/sessions/${id}/shares`, {
          token: other.token,
          body: { userId: other.id, access: "control" }
        })
      ).status
    ).toBe(403)
    await p.http("POST", `/api/sessions/${id}/shares`, {
      token: owner.token,
      body: { userId: other.id, access: "control" }
    })
    expect((await p.http("POST", `/api/sessions/${id}/heartbeat`, { token: other.token })).status).toBe(204)
    expect((await p.http("POST", `/api/sessions/${id}/hibernate`, { token: other.token })).status).toBe(202)
    expect((await p.http("DELETE", `/api/sessions/${id}`, { token: other.token })).status).toBe(403)
    const shares = await p.http<{ items: ReadonlyArray<{ userId: string; access: string }> }>(
      "GET",
      `/api/sessions/${id}/shares`,
      { token: owner.token }
    )
    expect(shares.body.items).toEqual([expect.objectContaining({ userId: other.id, access: "control" })])
    expect((await p.http("DELETE", `/api/sessions/${id}/shares/${other.id}`, { token: owner.token })).status).toBe(204)
    expect((await p.http("GET", `/api/sessions/${id}`, { token: other.token })).status).toBe(404)
    expect(
      (
        await p.http("POST", `/api/sessions/${id}/shares`, {
          token: owner.token,
          body: { userId: owner.id, access: "view" }
        })
      ).status
    ).toBe(409)
    const all = await p.http<{ items: ReadonlyArray<SessionBody> }>("GET", "/api/sessions?limit=500", { token: admin })
    expect(all.body.items.find((s) => s.id === id)?.access).toBe("admin")
  })

  test("idle sessions hibernate after the timeout; heartbeats postpone it", async () => {
    const user = await makeUser(p, admin, "idler")
    const id = (
      await p.http<SessionBody>("POST", "/api/sessions", { token: user.token, body: { templateId: template } })
    ).body.id
    await reach(p, user.token, id, "running")
    await p.adjustClock("90 seconds")
    expect((await p.http("POST", `/api/sessions/${id}/heartbeat`, { token: user.token })).status).toBe(204)
    await p.adjustClock("90 seconds")
    await Bun.sleep(100)
    expect(await stateOf(p, user.token, id)).toBe("running")
    await p.adjustClock("60 seconds")
    await reach(p, user.token, id, "hibernated", "10 seconds")
    const types = (await eventsOf(id)).map((e) => e.type)
    expect(types).toContain("session.hibernated")
  })
})

describe("quotas", () => {
  test("over the user's session limit: 403 naming the limit, and a quota.exceeded event that survives", async () => {
    const user = await makeUser(p, admin, "limited")
    const set = await p.http("PUT", `/api/quotas/users/${user.id}`, { token: admin, body: { maxSessions: 1 } })
    expect(set.status).toBe(200)
    expect((await p.http("POST", "/api/sessions", { token: user.token, body: { templateId: template } })).status).toBe(
      201
    )
    const denied = await p.http<Problem>("POST", "/api/sessions", { token: user.token, body: { templateId: template } })
    expect(denied.status).toBe(403)
    expect(denied.body).toMatchObject({ code: "quota_exceeded", limit: "sessions", scope: "user" })
    const events = await p.run(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) =>
          sql<{
            payload: { userId: string; limit: string; max: number }
          }>`SELECT payload FROM events WHERE type = 'quota.exceeded'`
      )
    )
    expect(events.map((e) => e.payload)).toContainEqual(
      expect.objectContaining({ userId: user.id, limit: "sessions", max: 1 })
    )
    const own = await p.http<{ quota: { maxSessions: number }; usage: { sessions: number } }>(
      "GET",
      `/api/quotas/users/${user.id}`,
      { token: user.token }
    )
    expect(own.body).toMatchObject({ quota: { maxSessions: 1 }, usage: { sessions: 1 } })
  })

  test("a group's cpu limit binds each member", async () => {
    const member = await makeUser(p, admin, "designer")
    const group = (await p.http<{ id: string }>("POST", "/api/groups", { token: admin, body: { name: "cpu-capped" } }))
      .body.id
    await p.http("POST", `/api/groups/${group}/members`, { token: admin, body: { userId: member.id } })
    expect((await p.http("PUT", `/api/quotas/groups/${group}`, { token: admin, body: { maxCpu: 800 } })).status).toBe(
      200
    )
    expect(
      (await p.http("POST", "/api/sessions", { token: member.token, body: { templateId: template, cpu: 500 } })).status
    ).toBe(201)
    const denied = await p.http<Problem>("POST", "/api/sessions", {
      token: member.token,
      body: { templateId: template, cpu: 500 }
    })
    expect(denied.status).toBe(403)
    expect(denied.body).toMatchObject({ limit: "cpu", scope: "group" })
  })

  test("quota routes: 403 for others' quotas and for setting; 400 naming the field; 404 unknown", async () => {
    const a = await makeUser(p, admin, "quota-a")
    const b = await makeUser(p, admin, "quota-b")
    expect((await p.http("GET", `/api/quotas/users/${b.id}`, { token: a.token })).status).toBe(403)
    expect(
      (await p.http("PUT", `/api/quotas/users/${a.id}`, { token: a.token, body: { maxSessions: 100 } })).status
    ).toBe(403)
    const bad = await p.http<Problem>("PUT", `/api/quotas/users/${a.id}`, { token: admin, body: { maxCpu: -1 } })
    expect(bad.status).toBe(400)
    expect(bad.body.errors?.[0]?.path).toBe("body.maxCpu")
    expect((await p.http("PUT", "/api/quotas/users/nobody", { token: admin, body: {} })).status).toBe(404)
    expect((await p.http("GET", "/api/quotas/groups/nothing", { token: admin })).status).toBe(404)
  })
})

describe("audit", () => {
  test("every step of a session is audited and queryable by target and action", async () => {
    const user = await makeUser(p, admin, "audited")
    const id = (
      await p.http<SessionBody>("POST", "/api/sessions", { token: user.token, body: { templateId: template } })
    ).body.id
    await reach(p, user.token, id, "running")
    await p.http("POST", `/api/sessions/${id}/hibernate`, { token: user.token })
    await p.http("DELETE", `/api/sessions/${id}`, { token: user.token })
    const entries = await p.http<{
      items: ReadonlyArray<{ action: string; actor: string; result: string; requestId: string | null }>
    }>("GET", `/api/audit?target=${id}`, { token: admin })
    // One row per request (the row the request's own write carried, not a second one from the edge).
    expect(entries.body.items.map((e) => e.action).reverse()).toEqual([
      "session.create",
      "session.hibernate",
      "session.delete"
    ])
    expect(entries.body.items.every((e) => e.actor === "audited" && e.result === "success")).toBe(true)
    expect(new Set(entries.body.items.map((e) => e.requestId)).size).toBe(3)
    expect(entries.body.items.every((e) => typeof e.requestId === "string" && e.requestId.length > 0)).toBe(true)
    // A refused change (409: the session is already ending) writes the failure row only, no success row.
    expect((await p.http("POST", `/api/sessions/${id}/hibernate`, { token: user.token })).status).toBe(409)
    const afterRefusal = await p.http<{ items: ReadonlyArray<{ action: string; result: string }> }>(
      "GET",
      `/api/audit?target=${id}&action=session.hibernate`,
      { token: admin }
    )
    expect(afterRefusal.body.items.map((e) => e.result).sort()).toEqual(["failure", "success"])
    const denied = await p.http<{ items: ReadonlyArray<{ result: string }> }>(
      "GET",
      `/api/audit?action=session.create&limit=1`,
      { token: admin }
    )
    expect(denied.body.items).toHaveLength(1)
    expect((await p.http("GET", "/api/audit", { token: user.token })).status).toBe(403)
    const badTime = await p.http<Problem>("GET", "/api/audit?from=yesterday", { token: admin })
    expect(badTime.body.errors?.[0]?.path).toBe("query.from")
  })
})
