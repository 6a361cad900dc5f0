/**
 * Placement through the `session.placement` hook, end to end: sessions spread
 * by least-sessions; a NotReady node gets no sessions while NotReady and gets
 * them again only after passThreshold Ready checks (hysteresis), with
 * node-manager.node.unhealthy / recovered; disabled, placement is the
 * scheduler's default (no nodeSelector).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"
import { launch, NS, nodeOf, type Setup, session, setup, until } from "./helpers.ts"

let s: Setup
beforeAll(async () => {
  // A long interval: only runJob drives the checks here.
  s = await setup({ healthCheck: { interval: 3600, failThreshold: 2, passThreshold: 3 } })
  for (const n of ["node-a", "node-b", "node-c"]) s.api.addNode(n, { cpu: "16", memory: "64Gi" })
})
afterAll(() => s.close())

const running = (id: string) => until(s, async () => ((await session(s, id)).state === "running" ? true : undefined))
const placedOn = async () => {
  const id = await launch(s, s.admin)
  await running(id)
  return nodeOf(s, id)!
}
const selectorOf = (id: string) =>
  (
    s.api.list("deployments", NS).find((d) => d.metadata.labels?.["streamspace.io/session"] === id)?.spec?.[
      "template"
    ] as {
      spec: { nodeSelector?: Record<string, string> }
    }
  ).spec.nodeSelector

describe(`placement (${TestPlatform.engine()})`, () => {
  test("least-sessions spreads sessions; the choice is the pod's nodeSelector", async () => {
    const nodes = [await placedOn(), await placedOn(), await placedOn()]
    expect(nodes.sort()).toEqual(["node-a", "node-b", "node-c"])
    const id = await launch(s, s.admin)
    await running(id)
    expect(selectorOf(id)).toEqual({ "kubernetes.io/hostname": nodeOf(s, id)! })
  })

  test("a NotReady node gets no sessions until it passes passThreshold checks again", async () => {
    await s.p.runJob("node-manager", "health-check")
    s.api.setNodeReady("node-c", false)
    await s.p.runJob("node-manager", "health-check")
    const first = await s.p.http<{ nodes: Array<{ node: string; status: string }> }>(
      "GET",
      "/api/plugins/node-manager/health",
      {
        token: s.admin
      }
    )
    // One failed check is below failThreshold (2): still "healthy" for alerts…
    expect(first.body.nodes.find((n) => n.node === "node-c")?.status).toBe("healthy")
    // …but NotReady now, so no session goes there.
    for (let i = 0; i < 4; i++) expect(await placedOn()).not.toBe("node-c")
    await s.p.runJob("node-manager", "health-check")
    const health = await s.p.http<{ nodes: Array<{ node: string; status: string }> }>(
      "GET",
      "/api/plugins/node-manager/health",
      {
        token: s.admin
      }
    )
    expect(health.body.nodes.find((n) => n.node === "node-c")?.status).toBe("unhealthy")
    expect(
      (
        await s.p.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM events WHERE type = 'node-manager.node.unhealthy'"
        )
      )[0]!.n
    ).toBe(1)

    // Ready again, but held back until three Ready checks in a row.
    s.api.setNodeReady("node-c", true)
    await s.p.runJob("node-manager", "health-check")
    await s.p.runJob("node-manager", "health-check")
    for (let i = 0; i < 3; i++) expect(await placedOn()).not.toBe("node-c")
    await s.p.runJob("node-manager", "health-check")
    expect(
      (
        await s.p.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM events WHERE type = 'node-manager.node.recovered'"
        )
      )[0]!.n
    ).toBe(1)
    // node-c has the fewest sessions now: it takes the next one.
    expect(await placedOn()).toBe("node-c")
    const history = await s.p.http<{ history: Array<{ node: string; ready: boolean; status: string }> }>(
      "GET",
      "/api/plugins/node-manager/health?node=node-c",
      { token: s.admin }
    )
    expect(
      history.body.history
        .map((h) => `${h.ready}/${h.status}`)
        .reverse()
        .slice(-6)
    ).toEqual(["true/healthy", "false/healthy", "false/unhealthy", "true/unhealthy", "true/unhealthy", "true/healthy"])
  })

  test("when no node fits the session fails saying why", async () => {
    for (const n of ["node-a", "node-b", "node-c"])
      await s.p.http("POST", `/api/plugins/node-manager/nodes/${n}/cordon`, { token: s.admin })
    const id = await launch(s, s.admin)
    const failed = await until(s, async () => {
      const x = await session(s, id)
      return x.state === "failed" ? x : undefined
    })
    expect(failed.reason).toContain("placement refused")
    expect(failed.reason).toContain("node-a cordoned")
    for (const n of ["node-a", "node-b", "node-c"])
      await s.p.http("POST", `/api/plugins/node-manager/nodes/${n}/uncordon`, { token: s.admin })
  })

  test("disabled, placement falls back to the scheduler's default; enabled again, it places", async () => {
    expect((await s.p.http("POST", "/api/admin/plugins/node-manager/disable", { token: s.admin })).status).toBe(200)
    const id = await launch(s, s.admin)
    await running(id)
    expect(selectorOf(id)).toBeUndefined()
    expect((await s.p.http("GET", "/api/plugins/node-manager/nodes", { token: s.admin })).status).toBe(404)
    expect((await s.p.http("POST", "/api/admin/plugins/node-manager/enable", { token: s.admin })).status).toBe(200)
    const again = await launch(s, s.admin)
    await running(again)
    expect(selectorOf(again)?.["kubernetes.io/hostname"]).toBeDefined()
  })

  test("uninstall and install again", async () => {
    expect((await s.p.http("DELETE", "/api/admin/plugins/node-manager?force=true", { token: s.admin })).status).toBe(
      204
    )
    expect((await s.p.http("POST", "/api/admin/plugins/node-manager/install", { token: s.admin })).status).toBe(200)
    expect((await s.p.http("POST", "/api/admin/plugins/node-manager/enable", { token: s.admin })).status).toBe(200)
    expect((await s.p.http("GET", "/api/plugins/node-manager/health", { token: s.admin })).status).toBe(200)
  })
})
