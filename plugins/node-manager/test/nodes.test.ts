/**
 * node-manager against the test Kubernetes API server, through the whole
 * platform (kubernetes runtime, orchestrator, hook, routes): the nodes API
 * with and without metrics, label/taint/cordon changes and their audit,
 * the drain that respects sessions and PodDisruptionBudgets.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"
import { launch, nodeOf, type Setup, session, setup, until } from "./helpers.ts"

let s: Setup
beforeAll(async () => {
  s = await setup({ healthCheck: { interval: 10 }, placement: { strategy: "least-sessions" } })
  s.api.addNode("node-a", { cpu: "8", memory: "32Gi", labels: { "topology.kubernetes.io/zone": "a" } })
  s.api.addNode("node-b", { cpu: "8", memory: "32Gi", labels: { "topology.kubernetes.io/zone": "b" } })
})
afterAll(() => s.close())

interface NodeView {
  name: string
  ready: boolean
  schedulable: boolean
  labels: Record<string, string>
  taints: Array<{ key: string; value: string | null; effect: string }>
  allocatable: { cpuMillis: number; memoryBytes: number }
  sessions: Array<{ sessionId: string }>
  usage: { state: string; cpuMillis?: number; reason?: string }
  conditions: Array<{ type: string; status: string }>
}

const nodes = async () =>
  (
    await s.p.http<{ items: NodeView[]; summary: Record<string, unknown> }>("GET", "/api/plugins/node-manager/nodes", {
      token: s.admin
    })
  ).body

describe(`node-manager (${TestPlatform.engine()})`, () => {
  test("lists nodes with capacity, conditions, labels and usage; 'no metrics' when metrics.k8s.io is absent", async () => {
    s.api.setNodeUsage("node-a", { cpu: "2", memory: "8Gi" })
    const body = await nodes()
    expect(body.items.map((n) => n.name)).toEqual(["node-a", "node-b"])
    const a = body.items[0]!
    expect(a.allocatable).toMatchObject({ cpuMillis: 8000, memoryBytes: 32 * 1024 ** 3 })
    expect(a.labels["topology.kubernetes.io/zone"]).toBe("a")
    expect(a.conditions.find((c) => c.type === "Ready")?.status).toBe("True")
    expect(a.usage).toMatchObject({ state: "available", cpuMillis: 2000 })
    expect(body.summary).toMatchObject({ totalNodes: 2, readyNodes: 2, notReadyNodes: 0 })

    s.api.setMetrics("off")
    const without = await nodes()
    expect(without.items[0]!.usage.state).toBe("no-metrics")
    expect(without.items[0]!.usage.reason).toContain("metrics-server")
    expect(without.summary["usage"]).toMatchObject({ state: "no-metrics" })
    s.api.setMetrics("on")
  })

  test("labels, taints, cordon and uncordon change the node, are audited, and bad input names the field", async () => {
    const put = await s.p.http("PUT", "/api/plugins/node-manager/nodes/node-b/labels", {
      token: s.admin,
      body: { key: "streamspace.io/pool", value: "gpu" }
    })
    expect(put.status).toBe(200)
    expect(s.api.get("nodes", "", "node-b")?.metadata.labels?.["streamspace.io/pool"]).toBe("gpu")
    const bad = await s.p.http<{ errors: Array<{ path: string }> }>(
      "PUT",
      "/api/plugins/node-manager/nodes/node-b/labels",
      {
        token: s.admin,
        body: { key: "bad key!", value: "x" }
      }
    )
    expect(bad.status).toBe(400)
    expect(bad.body.errors[0]!.path).toBe("body.key")
    const hostname = await s.p.http(
      "DELETE",
      "/api/plugins/node-manager/nodes/node-b/labels/kubernetes.io%2Fhostname",
      {
        token: s.admin
      }
    )
    expect(hostname.status).toBe(400)
    expect(
      (
        await s.p.http("DELETE", "/api/plugins/node-manager/nodes/node-b/labels/streamspace.io%2Fpool", {
          token: s.admin
        })
      ).status
    ).toBe(200)
    expect(s.api.get("nodes", "", "node-b")?.metadata.labels?.["streamspace.io/pool"]).toBeUndefined()

    const taint = await s.p.http("POST", "/api/plugins/node-manager/nodes/node-b/taints", {
      token: s.admin,
      body: { key: "dedicated", value: "infra", effect: "NoSchedule" }
    })
    expect(taint.status).toBe(200)
    expect(s.api.get("nodes", "", "node-b")?.spec?.["taints"]).toEqual([
      { key: "dedicated", value: "infra", effect: "NoSchedule" }
    ])
    const badEffect = await s.p.http<{ errors: Array<{ path: string }> }>(
      "POST",
      "/api/plugins/node-manager/nodes/node-b/taints",
      {
        token: s.admin,
        body: { key: "dedicated", effect: "Sometimes" }
      }
    )
    expect(badEffect.body.errors[0]!.path).toBe("body.effect")
    expect(
      (await s.p.http("DELETE", "/api/plugins/node-manager/nodes/node-b/taints/dedicated", { token: s.admin })).status
    ).toBe(200)
    expect(s.api.get("nodes", "", "node-b")?.spec?.["taints"]).toEqual([])

    expect((await s.p.http("POST", "/api/plugins/node-manager/nodes/node-b/cordon", { token: s.admin })).status).toBe(
      200
    )
    expect(s.api.get("nodes", "", "node-b")?.spec?.["unschedulable"]).toBe(true)
    expect((await s.p.http("POST", "/api/plugins/node-manager/nodes/node-b/uncordon", { token: s.admin })).status).toBe(
      200
    )
    expect(s.api.get("nodes", "", "node-b")?.spec?.["unschedulable"]).toBeUndefined()
    expect((await s.p.http("POST", "/api/plugins/node-manager/nodes/nope/cordon", { token: s.admin })).status).toBe(404)

    const audit = await s.p.query<{ action: string; target: string; plugin: string; result: string }>(
      "SELECT action, target, plugin, result FROM audit_log WHERE plugin = 'node-manager' AND result = 'success' ORDER BY at, id"
    )
    expect(audit.map((a) => a.action)).toEqual([
      "node-manager.label.set",
      "node-manager.label.remove",
      "node-manager.taint.add",
      "node-manager.taint.remove",
      "node-manager.cordon",
      "node-manager.uncordon"
    ])
    expect(new Set(audit.map((a) => a.target))).toEqual(new Set(["node-b"]))
  })

  test("a user without node-manager:write cannot change nodes", async () => {
    await s.p.http("POST", "/api/users", { token: s.admin, body: { username: "plain", password: "long-enough-pw" } })
    const user = await s.p.login("plain", "long-enough-pw")
    expect((await s.p.http("POST", "/api/plugins/node-manager/nodes/node-a/cordon", { token: user })).status).toBe(403)
    expect((await s.p.http("GET", "/api/plugins/node-manager/nodes", { token: user })).status).toBe(403)
  })

  test("drain: the dry run lists both sessions; the drain hibernates them, evicts the rest, refuses to break a PDB, cordons", async () => {
    // Both sessions on node-a: node-b is cordoned while they are placed.
    await s.p.http("POST", "/api/plugins/node-manager/nodes/node-b/cordon", { token: s.admin })
    const one = await launch(s, s.admin)
    const two = await launch(s, s.admin)
    await until(
      s,
      async () =>
        ((await session(s, one)).state === "running" && (await session(s, two)).state === "running") || undefined
    )
    expect(nodeOf(s, one)).toBe("node-a")
    expect(nodeOf(s, two)).toBe("node-a")
    await s.p.http("POST", "/api/plugins/node-manager/nodes/node-b/uncordon", { token: s.admin })
    s.api.addPod("web", { name: "web-1", nodeName: "node-a", labels: { app: "web" }, owner: "ReplicaSet" })
    s.api.addPod("db", { name: "db-0", nodeName: "node-a", labels: { app: "db" }, owner: "StatefulSet" })
    s.api.addPod("kube-system", { name: "fluentd-x", nodeName: "node-a", owner: "DaemonSet" })
    s.api.addPdb("db", "db-pdb", { matchLabels: { app: "db" }, minAvailable: 1 })

    interface Item {
      kind: string
      pod: string
      sessionId: string | null
      action: string
      outcome: string
      detail: string | null
    }
    const dry = await s.p.http<{ items: Item[]; cordoned: boolean; complete: boolean }>(
      "POST",
      "/api/plugins/node-manager/nodes/node-a/drain",
      { token: s.admin, body: { dryRun: true } }
    )
    expect(dry.status).toBe(200)
    expect(
      dry.body.items
        .filter((i) => i.action === "hibernate")
        .map((i) => i.sessionId)
        .sort()
    ).toEqual([one, two].sort())
    expect(
      dry.body.items
        .filter((i) => i.action === "evict")
        .map((i) => i.pod)
        .sort()
    ).toEqual(["db-0", "web-1"])
    expect(dry.body.items.find((i) => i.pod === "fluentd-x")).toMatchObject({ action: "skip", detail: "DaemonSet pod" })
    expect(dry.body.cordoned).toBe(false)
    expect(s.api.get("nodes", "", "node-a")?.spec?.["unschedulable"]).toBeUndefined()
    expect(s.api.evictions).toEqual([])

    const drain = await s.p.http<{ items: Item[]; cordoned: boolean; complete: boolean }>(
      "POST",
      "/api/plugins/node-manager/nodes/node-a/drain",
      { token: s.admin, body: { gracePeriodSeconds: 45, retrySeconds: 0 } }
    )
    expect(drain.status).toBe(200)
    expect(drain.body.cordoned).toBe(true)
    expect(s.api.get("nodes", "", "node-a")?.spec?.["unschedulable"]).toBe(true)
    expect(drain.body.items.filter((i) => i.kind === "session").map((i) => i.outcome)).toEqual([
      "hibernating",
      "hibernating"
    ])
    expect(drain.body.items.find((i) => i.pod === "web-1")?.outcome).toBe("evicted")
    const db = drain.body.items.find((i) => i.pod === "db-0")!
    expect(db.outcome).toBe("blocked")
    expect(db.detail).toContain("db-pdb")
    expect(drain.body.complete).toBe(false)
    expect(s.api.evictions).toEqual([
      { namespace: "db", name: "db-0", gracePeriodSeconds: 45, outcome: "refused" },
      { namespace: "web", name: "web-1", gracePeriodSeconds: 45, outcome: "evicted" }
    ])
    expect(s.api.get("pods", "db", "db-0")).toBeDefined()
    expect(s.api.get("pods", "kube-system", "fluentd-x")).toBeDefined()

    // The platform hibernates both: their state shows it, and their pods are gone from the node.
    await until(
      s,
      async () =>
        ((await session(s, one)).state === "hibernated" && (await session(s, two)).state === "hibernated") || undefined
    )
    expect(nodeOf(s, one)).toBeUndefined()
    expect(
      s.api
        .pods("node-a")
        .map((p) => p.metadata.name)
        .sort()
    ).toEqual(["db-0", "fluentd-x"])

    const audit = await s.p.query<{ action: string; target: string }>(
      "SELECT action, target FROM audit_log WHERE action = 'node-manager.drain' ORDER BY at"
    )
    expect(audit).toEqual([
      { action: "node-manager.drain", target: "node-a" },
      { action: "node-manager.drain", target: "node-a" }
    ])
    const hibernations = await s.p.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM events WHERE type = 'session.hibernated'"
    )
    expect(hibernations[0]!.n).toBe(2)
    const drained = await s.p.query<{ payload: Record<string, unknown> }>(
      "SELECT payload FROM events WHERE type = 'node-manager.node.drained'"
    )
    expect(drained.map((d) => d.payload)).toEqual([
      { node: "node-a", complete: false, sessions: 2, evicted: 1, blocked: 1 }
    ])
    // A woken session goes elsewhere: node-a is cordoned.
    await s.p.http("POST", `/api/sessions/${one}/wake`, { token: s.admin })
    await until(s, async () => ((await session(s, one)).state === "running" ? true : undefined))
    expect(nodeOf(s, one)).toBe("node-b")
  })
})
