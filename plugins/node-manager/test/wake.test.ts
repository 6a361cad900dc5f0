/**
 * Placement when a hibernated session wakes: the core runs `session.placement`
 * again and node-manager answers with today's cluster, so a session whose
 * node was cordoned while it slept wakes on another node (its Deployment's
 * nodeSelector replaced, read back from the API stand-in); with no node to
 * take it the session fails saying why instead of waking pinned to the old
 * one; and a leftover pod of the waking session does not count against its
 * own node.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"
import { launch, NS, nodeOf, type Setup, session, setup, until } from "./helpers.ts"

let s: Setup
beforeAll(async () => {
  // At most one session per node: what counts on a node decides where a session may go.
  s = await setup({ thresholds: { maxSessions: 1 } })
  for (const n of ["node-a", "node-b"]) s.api.addNode(n, { cpu: "16", memory: "64Gi" })
})
afterAll(() => s.close())

/** The session once it is in one of `states`. */
const inState = (id: string, ...states: ReadonlyArray<string>) =>
  until(s, async () => {
    const x = await session(s, id)
    return states.includes(x.state) ? x : undefined
  })
const workload = (id: string) => {
  const d = s.api.list("deployments", NS).find((x) => x.metadata.labels?.["streamspace.io/session"] === id)
  const spec = d?.spec as { replicas: number; template: { spec: { nodeSelector?: Record<string, string> } } }
  return { replicas: spec.replicas, nodeSelector: spec.template.spec.nodeSelector }
}
const post = async (path: string) => {
  const res = await s.p.http("POST", path, { token: s.admin })
  expect(res.status).toBeLessThan(300)
}
const hibernate = async (id: string) => {
  await post(`/api/sessions/${id}/hibernate`)
  await inState(id, "hibernated")
}
const cordon = (node: string) => post(`/api/plugins/node-manager/nodes/${node}/cordon`)
const uncordon = (node: string) => post(`/api/plugins/node-manager/nodes/${node}/uncordon`)

let first: string

describe(`placement on wake (${TestPlatform.engine()})`, () => {
  test("a session whose node was cordoned while it slept wakes on another node", async () => {
    first = await launch(s, s.admin)
    await inState(first, "running")
    expect(nodeOf(s, first)).toBe("node-a")
    expect(workload(first)).toEqual({ replicas: 1, nodeSelector: { "kubernetes.io/hostname": "node-a" } })
    await hibernate(first)
    expect(nodeOf(s, first)).toBeUndefined()

    await cordon("node-a")
    await post(`/api/sessions/${first}/wake`)
    await inState(first, "running")
    expect(workload(first)).toEqual({ replicas: 1, nodeSelector: { "kubernetes.io/hostname": "node-b" } })
    expect(nodeOf(s, first)).toBe("node-b")
    const placed = await s.p.query<{ node: string }>(
      "SELECT node FROM plugin_node_manager.placements WHERE session_id = $1",
      [first]
    )
    expect(placed).toEqual([{ node: "node-b" }])
    await uncordon("node-a")
  })

  test("with no node to take it, the wake fails the session saying why; it is not woken where it was", async () => {
    await hibernate(first)
    await cordon("node-a")
    await cordon("node-b")
    await post(`/api/sessions/${first}/wake`)
    const failed = await inState(first, "failed")
    expect(failed.reason).toContain("placement refused")
    expect(failed.reason).toContain("node-a cordoned")
    expect(failed.reason).toContain("node-b cordoned")
    expect(workload(first)).toEqual({ replicas: 0, nodeSelector: { "kubernetes.io/hostname": "node-b" } })
    expect(nodeOf(s, first)).toBeUndefined()
    await uncordon("node-a")
    await uncordon("node-b")
  })

  test("a pod the waking session left behind does not count against its node", async () => {
    const id = await launch(s, s.admin)
    await inState(id, "running")
    const node = nodeOf(s, id)!
    await hibernate(id)
    // Its old pod still terminating on the node (the stand-in removes pods at once; a cluster takes a while).
    s.api.addPod(NS, {
      name: "leftover",
      nodeName: node,
      owner: "ReplicaSet",
      cpu: "500m",
      memory: "1Gi",
      labels: { "app.kubernetes.io/managed-by": "streamspace", "streamspace.io/session": id }
    })
    for (const other of ["node-a", "node-b"].filter((n) => n !== node)) await cordon(other)
    await post(`/api/sessions/${id}/wake`)
    const woken = await inState(id, "running", "failed")
    expect(woken.reason).toBeNull()
    expect(woken.state).toBe("running")
    expect(workload(id).nodeSelector).toEqual({ "kubernetes.io/hostname": node })
  })
})
