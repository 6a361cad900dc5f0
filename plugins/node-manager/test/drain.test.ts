/**
 * Drains that go on after their request, driven by the drains job and the
 * test clock: "notify and wait" tells each owner (one event per owner), lets
 * owners end or hibernate their sessions and hibernates the rest at the
 * deadline; evictions a PodDisruptionBudget refuses (429) are retried with
 * backoff and succeed once the budget allows, or are reported as what stayed
 * when the retry time is over.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"
import { launch, nodeOf, type Setup, session, setup, until } from "./helpers.ts"

let s: Setup
beforeAll(async () => {
  // Long job intervals: runJob drives the drains here, the clock only decides deadlines and backoff.
  s = await setup({
    healthCheck: { enabled: false },
    autoscaling: { enabled: false },
    drain: { checkInterval: 600 },
    placement: { strategy: "least-sessions" }
  })
  for (const n of ["node-a", "node-b", "node-c"]) s.api.addNode(n, { cpu: "8", memory: "32Gi" })
})
afterAll(() => s.close())

interface Item {
  kind: string
  pod: string
  sessionId: string | null
  userId: string | null
  outcome: string
  detail: string | null
}
interface Result {
  id: string
  status: string
  complete: boolean
  attempts: number
  waitUntil: string | null
  items: Array<Item>
}
const drain = (node: string, body: Record<string, unknown>) =>
  s.p.http<Result>("POST", `/api/plugins/node-manager/nodes/${node}/drain`, { token: s.admin, body })
const stored = async (id: string) =>
  (
    await s.p.http<{ items: Array<{ result: Result }> }>("GET", "/api/plugins/node-manager/drains", {
      token: s.admin
    })
  ).body.items.find((i) => i.result.id === id)!.result
const drainedEvents = async (node: string) =>
  (
    await s.p.query<{ payload: Record<string, unknown> }>(
      "SELECT payload FROM events WHERE type = 'node-manager.node.drained' ORDER BY tx_id, position"
    )
  )
    .map((e) => (typeof e.payload === "string" ? JSON.parse(e.payload) : e.payload) as Record<string, unknown>)
    .filter((p) => p["node"] === node)

describe(`drain, notify and retry (${TestPlatform.engine()})`, () => {
  test("notify and wait: one notice per owner; a session its owner hibernates ends; the rest hibernate at the deadline", async () => {
    await s.p.http("POST", "/api/users", { token: s.admin, body: { username: "ann", password: "long-enough-pw" } })
    const ann = await s.p.login("ann", "long-enough-pw")
    for (const n of ["node-b", "node-c"])
      await s.p.http("POST", `/api/plugins/node-manager/nodes/${n}/cordon`, { token: s.admin })
    const mine = await launch(s, s.admin)
    const hers = await launch(s, ann)
    const hers2 = await launch(s, ann)
    const all = [mine, hers, hers2]
    await until(s, async () => {
      for (const id of all) if ((await session(s, id)).state !== "running") return undefined
      return true
    })
    expect(all.map((id) => nodeOf(s, id))).toEqual(["node-a", "node-a", "node-a"])
    for (const n of ["node-b", "node-c"])
      await s.p.http("POST", `/api/plugins/node-manager/nodes/${n}/uncordon`, { token: s.admin })

    const res = await drain("node-a", { mode: "notify", waitSeconds: 120 })
    expect(res.status).toBe(200)
    expect(res.body.status).toBe("waiting")
    expect(res.body.complete).toBe(false)
    expect(res.body.items.filter((i) => i.kind === "session").map((i) => i.outcome)).toEqual([
      "notified",
      "notified",
      "notified"
    ])
    // Nothing hibernated yet; the node is cordoned.
    expect(s.api.get("nodes", "", "node-a")?.spec?.["unschedulable"]).toBe(true)
    expect((await session(s, mine)).state).toBe("running")
    const notices = (
      await s.p.query<{ payload: unknown }>("SELECT payload FROM events WHERE type = 'node-manager.drain.notice'")
    ).map((e) => (typeof e.payload === "string" ? JSON.parse(e.payload) : e.payload) as Record<string, unknown>)
    expect(notices).toHaveLength(2)
    const annId = res.body.items.find((i) => i.sessionId === hers)!.userId
    const annNotice = notices.find((n) => n["userId"] === annId)!
    expect((annNotice["sessionIds"] as Array<string>).sort()).toEqual([hers, hers2].sort())
    expect(annNotice["deadline"]).toBe(res.body.waitUntil)

    // Ann hibernates one of hers herself; the job sees it gone from the node.
    expect((await s.p.http("POST", `/api/sessions/${hers}/hibernate`, { token: ann })).status).toBeLessThan(300)
    await until(s, async () => (nodeOf(s, hers) === undefined ? true : undefined))
    await s.p.runJob("node-manager", "drains")
    const midway = await stored(res.body.id)
    expect(midway.status).toBe("waiting")
    expect(midway.items.find((i) => i.sessionId === hers)?.outcome).toBe("ended")
    expect(midway.items.find((i) => i.sessionId === mine)?.outcome).toBe("notified")
    expect(await drainedEvents("node-a")).toEqual([])

    // The deadline passes: the rest are hibernated, the drain is done.
    await s.p.adjustClock("121 seconds")
    await s.p.runJob("node-manager", "drains")
    const done = await stored(res.body.id)
    expect(done.status).toBe("done")
    expect(done.complete).toBe(true)
    expect(done.items.filter((i) => i.kind === "session").map((i) => [i.sessionId, i.outcome])).toEqual(
      expect.arrayContaining([
        [mine, "hibernating"],
        [hers, "ended"],
        [hers2, "hibernating"]
      ])
    )
    await until(s, async () =>
      (await session(s, mine)).state === "hibernated" && (await session(s, hers2)).state === "hibernated"
        ? true
        : undefined
    )
    expect(await drainedEvents("node-a")).toEqual([
      { node: "node-a", complete: true, sessions: 3, evicted: 0, blocked: 0 }
    ])
  })

  test("blocked evictions are retried with backoff and go once the budget allows", async () => {
    s.api.addPod("db", { name: "db-0", nodeName: "node-b", labels: { app: "db" }, owner: "StatefulSet" })
    s.api.addPdb("db", "db-pdb", { matchLabels: { app: "db" }, minAvailable: 1 })
    const res = await drain("node-b", { retrySeconds: 120 })
    expect(res.body.status).toBe("retrying")
    expect(res.body.items.find((i) => i.pod === "db-0")).toMatchObject({ outcome: "blocked" })

    // Before the backoff (5 s) nothing is retried.
    await s.p.runJob("node-manager", "drains")
    expect(s.api.evictions.filter((e) => e.name === "db-0")).toHaveLength(1)
    await s.p.adjustClock("6 seconds")
    await s.p.runJob("node-manager", "drains")
    expect(s.api.evictions.filter((e) => e.name === "db-0").map((e) => e.outcome)).toEqual(["refused", "refused"])
    expect((await stored(res.body.id)).attempts).toBe(2)

    // A second replica is up elsewhere: the budget allows one disruption; the next try (after 10 s) evicts.
    s.api.addPod("db", { name: "db-1", nodeName: "node-c", labels: { app: "db" }, owner: "StatefulSet" })
    await s.p.adjustClock("5 seconds")
    await s.p.runJob("node-manager", "drains")
    expect(s.api.evictions.filter((e) => e.name === "db-0")).toHaveLength(2)
    await s.p.adjustClock("6 seconds")
    await s.p.runJob("node-manager", "drains")
    const done = await stored(res.body.id)
    expect(done).toMatchObject({ status: "done", complete: true, attempts: 3 })
    expect(done.items.find((i) => i.pod === "db-0")?.outcome).toBe("evicted")
    expect(s.api.get("pods", "db", "db-0")).toBeUndefined()
    expect(await drainedEvents("node-b")).toEqual([
      { node: "node-b", complete: true, sessions: 0, evicted: 1, blocked: 0 }
    ])
  })

  test("when the retry time is over the drain ends incomplete, naming what stayed", async () => {
    s.api.addNode("node-d", { cpu: "8", memory: "32Gi" })
    s.api.addPod("cache", { name: "cache-0", nodeName: "node-d", labels: { app: "cache" }, owner: "StatefulSet" })
    s.api.addPdb("cache", "cache-pdb", { matchLabels: { app: "cache" }, minAvailable: 1 })
    const res = await drain("node-d", { retrySeconds: 30 })
    expect(res.body.status).toBe("retrying")
    for (let i = 0; i < 4; i++) {
      await s.p.adjustClock("10 seconds")
      await s.p.runJob("node-manager", "drains")
    }
    const done = await stored(res.body.id)
    expect(done.status).toBe("done")
    expect(done.complete).toBe(false)
    const stayed = done.items.find((i) => i.pod === "cache-0")!
    expect(stayed.outcome).toBe("blocked")
    expect(stayed.detail).toContain("cache-pdb")
    expect(stayed.detail).toContain(`still refused after ${done.attempts} attempts`)
    expect(s.api.get("pods", "cache", "cache-0")).toBeDefined()
    expect(await drainedEvents("node-d")).toEqual([
      { node: "node-d", complete: false, sessions: 0, evicted: 0, blocked: 1 }
    ])
  })
})
