/**
 * Autoscaling policies: the decision rules (streaks, bounds, cooldown) as
 * properties of the pure function; the policies API (validation naming the
 * field, unique names, permissions); and end to end against the test
 * Kubernetes API: a policy on a Cluster API MachineDeployment scales it up
 * after `checks` evaluations over the threshold, holds during the cooldown,
 * and scales down when the load is gone, each decision in the history with
 * its reason and as a node-manager.scaling.recommended event; a
 * recommend-only policy records and announces without touching the cluster.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Autoscaling } from "@streamspace/plugin-node-manager"
import { TestPlatform } from "@streamspace/testing"
import fc from "fast-check"
import { type Setup, setup } from "./helpers.ts"

const rules = {
  minNodes: 1,
  maxNodes: 5,
  scaleUpPercent: 80,
  scaleUpPending: 1,
  scaleDownPercent: 20,
  checks: 3,
  cooldownSeconds: 300,
  step: 1
}

describe("decide", () => {
  test("never leaves the bounds, decides nothing during the cooldown, needs `checks` evaluations in a row", () => {
    fc.assert(
      fc.property(
        fc.record({
          minNodes: fc.integer({ min: 0, max: 5 }),
          span: fc.nat(5),
          checks: fc.integer({ min: 1, max: 4 })
        }),
        fc.array(
          fc.record({ nodes: fc.nat(12), utilization: fc.option(fc.nat(100)), pending: fc.nat(3), dt: fc.nat(400) }),
          { minLength: 1, maxLength: 40 }
        ),
        (p, steps) => {
          const policy = { ...rules, minNodes: p.minNodes, maxNodes: p.minNodes + p.span || 1, checks: p.checks }
          let streaks: Autoscaling.Streaks = { up: 0, down: 0, lastDecisionAt: null }
          let t = 0
          for (const o of steps) {
            t += o.dt * 1000
            const now = new Date(t)
            const r = Autoscaling.decide(policy, o, streaks, now)
            if (r.decision) {
              expect(r.decision.desired).toBeGreaterThanOrEqual(policy.minNodes)
              expect(r.decision.desired).toBeLessThanOrEqual(policy.maxNodes)
              expect(r.decision.direction === "up" ? r.decision.desired > o.nodes : r.decision.desired < o.nodes).toBe(
                true
              )
              if (streaks.lastDecisionAt)
                expect(t - streaks.lastDecisionAt.getTime()).toBeGreaterThanOrEqual(policy.cooldownSeconds * 1000)
              const withinBounds = o.nodes >= policy.minNodes && o.nodes <= policy.maxNodes
              if (withinBounds) expect(Math.max(streaks.up, streaks.down) + 1).toBeGreaterThanOrEqual(policy.checks)
            }
            streaks = r.streaks
          }
        }
      )
    )
  })

  test("reasons name what held", () => {
    const s = { up: 2, down: 0, lastDecisionAt: null }
    const at = new Date(0)
    expect(Autoscaling.decide(rules, { nodes: 2, utilization: 85, pending: 0 }, s, at).decision).toEqual({
      direction: "up",
      desired: 3,
      reason: "requests at 85 % (≥ 80 %) for 3 checks"
    })
    expect(Autoscaling.decide(rules, { nodes: 2, utilization: 40, pending: 2 }, s, at).decision?.reason).toBe(
      "2 session pods pending (≥ 1) for 3 checks"
    )
    expect(
      Autoscaling.decide(rules, { nodes: 3, utilization: 10, pending: 0 }, { ...s, up: 0, down: 2 }, at).decision
    ).toEqual({
      direction: "down",
      desired: 2,
      reason: "requests at 10 % (≤ 20 %), nothing pending, for 3 checks"
    })
    // A pending session holds a scale-down back however idle the nodes are.
    const held = Autoscaling.decide(rules, { nodes: 3, utilization: 10, pending: 1 }, { ...s, up: 0, down: 5 }, at)
    expect(held.decision).toBeUndefined()
    expect(held.streaks).toMatchObject({ up: 1, down: 0 })
    expect(Autoscaling.decide(rules, { nodes: 0, utilization: null, pending: 0 }, s, at).decision?.reason).toBe(
      "0 nodes, below minNodes 1"
    )
  })
})

let s: Setup
beforeAll(async () => {
  s = await setup({
    healthCheck: { enabled: false },
    autoscaling: { interval: 3600 },
    drain: { checkInterval: 600 }
  })
})
afterAll(() => s.close())

const POLICIES = "/api/plugins/node-manager/autoscaling/policies"
const run = () => s.p.runJob("node-manager", "autoscaling")
interface HistoryItem {
  policy: string
  direction: string
  currentNodes: number
  desiredNodes: number
  reason: string
  action: string
  outcome: string
  detail: string | null
}
const history = async (policy: string) =>
  (
    await s.p.http<{ items: Array<HistoryItem> }>("GET", `/api/plugins/node-manager/history?policy=${policy}`, {
      token: s.admin
    })
  ).body.items
const poolNodes = () =>
  s.api
    .list("nodes", "")
    .filter((n) => n.metadata.labels?.["cluster.x-k8s.io/deployment-name"] === "pool-a")
    .map((n) => n.metadata.name)
    .sort()
const deletePod = (ns: string, name: string) =>
  fetch(`${s.api.url}/api/v1/namespaces/${ns}/pods/${name}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${s.api.token}` }
  }).then((r) => r.status)

describe(`autoscaling (${TestPlatform.engine()})`, () => {
  test("the policies API validates, names the field, keeps names unique and needs node-manager:write", async () => {
    const bad = await s.p.http<{ errors?: Array<{ path: string }> }>("POST", POLICIES, {
      token: s.admin,
      body: { name: "p", minNodes: 4, maxNodes: 2 }
    })
    expect(bad.status).toBe(400)
    expect(bad.text).toContain("maxNodes")
    const thresholds = await s.p.http("POST", POLICIES, {
      token: s.admin,
      body: { name: "p", minNodes: 1, maxNodes: 2, scaleUpPercent: 50, scaleDownPercent: 60 }
    })
    expect(thresholds.status).toBe(400)
    expect(thresholds.text).toContain("scaleDownPercent")
    const action = await s.p.http("POST", POLICIES, {
      token: s.admin,
      body: { name: "p", minNodes: 1, maxNodes: 2, action: { kind: "cluster-api", namespace: "Bad_NS", name: "x" } }
    })
    expect(action.status).toBe(400)
    expect(action.text).toContain("namespace")

    const created = await s.p.http<{ id: string; action: { kind: string }; checks: number }>("POST", POLICIES, {
      token: s.admin,
      body: { name: "spare", minNodes: 1, maxNodes: 2, enabled: false }
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ action: { kind: "recommend" }, checks: 3 })
    expect(
      (await s.p.http("POST", POLICIES, { token: s.admin, body: { name: "spare", minNodes: 1, maxNodes: 2 } })).status
    ).toBe(409)
    const updated = await s.p.http<{ maxNodes: number }>("PUT", `${POLICIES}/${created.body.id}`, {
      token: s.admin,
      body: { name: "spare", minNodes: 1, maxNodes: 3, enabled: false }
    })
    expect(updated.body.maxNodes).toBe(3)

    await s.p.http("POST", "/api/users", { token: s.admin, body: { username: "viewer", password: "long-enough-pw" } })
    const viewer = await s.p.login("viewer", "long-enough-pw")
    expect((await s.p.http("GET", POLICIES, { token: viewer })).status).toBe(403)
    expect(
      (await s.p.http("POST", POLICIES, { token: viewer, body: { name: "x", minNodes: 1, maxNodes: 2 } })).status
    ).toBe(403)

    expect((await s.p.http("DELETE", `${POLICIES}/${created.body.id}`, { token: s.admin })).status).toBe(204)
    expect((await s.p.http("GET", `${POLICIES}/${created.body.id}`, { token: s.admin })).status).toBe(404)
  })

  test("a Cluster API policy scales its MachineDeployment up after `checks`, holds in the cooldown, scales down when idle", async () => {
    s.api.addMachineDeployment("capi", "pool-a", 2, { cpu: "2", memory: "8Gi", labels: { pool: "a" } })
    expect(poolNodes()).toHaveLength(2)
    const policy = await s.p.http<{ id: string }>("POST", POLICIES, {
      token: s.admin,
      body: {
        name: "pool-a",
        nodeSelector: { pool: "a" },
        minNodes: 1,
        maxNodes: 4,
        scaleUpPercent: 70,
        scaleDownPercent: 20,
        checks: 2,
        cooldownSeconds: 120,
        action: { kind: "cluster-api", namespace: "capi", name: "pool-a" }
      }
    })
    expect(policy.status).toBe(201)
    // 1.6 of 2 cores requested on each node: 80 %.
    const [n1, n2] = poolNodes()
    s.api.addPod("load", { name: "load-1", nodeName: n1!, cpu: "1600m" })
    s.api.addPod("load", { name: "load-2", nodeName: n2!, cpu: "1600m" })

    await run()
    expect(await history("pool-a")).toEqual([])
    await run()
    const [up] = await history("pool-a")
    expect(up).toMatchObject({
      direction: "up",
      currentNodes: 2,
      desiredNodes: 3,
      action: "cluster-api",
      outcome: "applied",
      reason: "requests at 80 % (≥ 70 %) for 2 checks"
    })
    expect(up!.detail).toContain("spec.replicas 2 → 3")
    expect(s.api.get("machinedeployments", "capi", "pool-a")?.spec?.replicas).toBe(3)
    expect(s.api.requests.some((r) => r.method === "PATCH" && r.path.endsWith("/machinedeployments/pool-a"))).toBe(true)
    expect(poolNodes()).toHaveLength(3)

    // Load on the new node too (4.8 of 6 cores): over again, but in the cooldown nothing is decided.
    s.api.addPod("load", { name: "load-3", nodeName: poolNodes()[2]!, cpu: "1600m" })
    await run()
    await run()
    expect(await history("pool-a")).toHaveLength(1)
    const held = await s.p.http<{ state: { upStreak: number } }>("GET", `${POLICIES}/${policy.body.id}`, {
      token: s.admin
    })
    expect(held.body.state.upStreak).toBe(2)
    await s.p.adjustClock("121 seconds")
    await run()
    expect((await history("pool-a"))[0]).toMatchObject({ direction: "up", currentNodes: 3, desiredNodes: 4 })
    expect(poolNodes()).toHaveLength(4)

    // maxNodes reached: over the threshold, nothing more.
    await s.p.adjustClock("121 seconds")
    for (const n of poolNodes().slice(3)) s.api.addPod("load", { name: "load-4", nodeName: n, cpu: "1600m" })
    await run()
    await run()
    expect(await history("pool-a")).toHaveLength(2)

    // The load goes: after two idle checks, one node fewer.
    for (const p of ["load-1", "load-2", "load-3", "load-4"]) expect(await deletePod("load", p)).toBe(200)
    await run()
    await run()
    const [down] = await history("pool-a")
    expect(down).toMatchObject({ direction: "down", currentNodes: 4, desiredNodes: 3, outcome: "applied" })
    expect(down!.reason).toContain("nothing pending")
    expect(poolNodes()).toHaveLength(3)

    const events = await s.p.query<{ payload: unknown }>(
      "SELECT payload FROM events WHERE type = 'node-manager.scaling.recommended' ORDER BY tx_id, position"
    )
    expect(
      events
        .map((e) => (typeof e.payload === "string" ? JSON.parse(e.payload) : e.payload) as Record<string, unknown>)
        .map((p) => [p["policy"], p["direction"], p["desiredNodes"], p["outcome"]])
    ).toEqual([
      ["pool-a", "up", 3, "applied"],
      ["pool-a", "up", 4, "applied"],
      ["pool-a", "down", 3, "applied"]
    ])
  })

  test("a recommend-only policy records and announces, and changes nothing in the cluster", async () => {
    const before = s.api.requests.filter((r) => r.method !== "GET").length
    const res = await s.p.http("POST", POLICIES, {
      token: s.admin,
      body: { name: "everything", minNodes: 10, maxNodes: 20, cooldownSeconds: 0 }
    })
    expect(res.status).toBe(201)
    await run()
    const [rec] = await history("everything")
    expect(rec).toMatchObject({
      direction: "up",
      currentNodes: 3,
      desiredNodes: 10,
      reason: "3 nodes, below minNodes 10",
      action: "recommend",
      outcome: "recommended",
      detail: null
    })
    expect(s.api.requests.filter((r) => r.method !== "GET").length).toBe(before)
  })
})
