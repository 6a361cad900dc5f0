/**
 * Waking a hibernated session runs `session.placement` again and hands the
 * answer to the kubernetes runtime, which replaces the workload's nodeSelector
 * in the request that scales it back up; a refused placement fails the session
 * instead of waking it where it was. A test plugin answers the hook with what
 * the test says; the workload is read back from the Kubernetes API stand-in.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { KubernetesRuntime } from "@streamspace/core"
import { definePlugin, Hooks, Veto } from "@streamspace/kernel"
import { FakeKubeApiServer, TestPlatform } from "@streamspace/testing"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const NS = "desktops"

type PlacementInput = Hooks.Input<"session.placement">

/** What the placement plugin answers next: a selector, or a refusal. */
let answer: { readonly selector: Record<string, string> } | { readonly refuse: string } = { selector: {} }
const asked: Array<PlacementInput> = []

const placer = definePlugin({
  id: "placer",
  name: "Placer",
  version: "1.0.0",
  type: "extension",
  category: "example",
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      yield* (yield* Hooks).intercept("session.placement", (input) =>
        Effect.suspend(() => {
          asked.push(input)
          return "refuse" in answer
            ? Effect.fail(new Veto({ reason: answer.refuse }))
            : Effect.succeed({ ...input, nodeSelector: { ...input.nodeSelector, ...answer.selector } })
        })
      )
    })
  )
})

let api: FakeKubeApiServer.FakeKubeApiServer
let p: TestPlatform.TestPlatform
let admin: string
let template: string
const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-kube-wake-"))

interface SessionBody {
  readonly id: string
  readonly state: string
  readonly reason: string | null
}

beforeAll(async () => {
  api = FakeKubeApiServer.start({ autoReady: true })
  const kubeconfig = Path.join(dir, "kubeconfig")
  Fs.writeFileSync(kubeconfig, api.kubeconfig())
  p = await TestPlatform.make({
    plugins: [placer],
    clock: "test",
    config: {
      sessions: { runtime: "kubernetes", kubernetes: { namespace: NS, kubeconfig } },
      plugins: { enabled: ["placer"] }
    }
  })
  admin = await p.login("admin", p.adminPassword)
  template = (
    await p.http<{ id: string }>("POST", "/api/templates", {
      token: admin,
      body: { name: "xfce", displayName: "XFCE", image: "example/xfce:4.18", defaultCpu: 750, defaultMemory: 1536 }
    })
  ).body.id
})
afterAll(async () => {
  await p.close()
  await api.stop()
  Fs.rmSync(dir, { recursive: true, force: true })
})

const get = async (id: string) => (await p.http<SessionBody>("GET", `/api/sessions/${id}`, { token: admin })).body
const until = (id: string, state: string) =>
  p.eventually(async () => {
    const s = await get(id)
    if (s.state === state) return s
    await p.adjustClock("1 second")
    return undefined
  }, 20_000)
const deployment = (id: string) => {
  const spec = api.get("deployments", NS, KubernetesRuntime.workloadName(id))?.spec as {
    replicas: number
    template: { spec: { nodeSelector?: Record<string, string> } }
  }
  return { replicas: spec.replicas, nodeSelector: spec.template.spec.nodeSelector }
}
/** A running session placed with `selector`, then hibernated. */
const hibernatedWith = async (selector: Record<string, string>) => {
  answer = { selector }
  const res = await p.http<SessionBody>("POST", "/api/sessions", { token: admin, body: { templateId: template } })
  expect(res.status).toBe(201)
  const id = res.body.id
  await until(id, "running")
  expect(deployment(id)).toEqual({ replicas: 1, nodeSelector: selector })
  expect((await p.http("POST", `/api/sessions/${id}/hibernate`, { token: admin })).status).toBe(202)
  await until(id, "hibernated")
  return id
}

describe(`placement on wake (${TestPlatform.engine()})`, () => {
  test("waking replaces the selector chosen at creation, in the request that scales the workload up", async () => {
    const id = await hibernatedWith({ "kubernetes.io/hostname": "node-a", zone: "a" })
    answer = { selector: { zone: "b" } }
    const before = api.requests.length
    expect((await p.http("POST", `/api/sessions/${id}/wake`, { token: admin })).status).toBe(202)
    await until(id, "running")
    // The hostname key the new answer lacks is gone, not merged with the new selector.
    expect(deployment(id)).toEqual({ replicas: 1, nodeSelector: { zone: "b" } })
    const path = `/apis/apps/v1/namespaces/${NS}/deployments/${KubernetesRuntime.workloadName(id)}`
    expect(
      api.requests
        .slice(before)
        .filter((r) => r.path === path)
        .map((r) => `${r.method} ${r.contentType ?? ""}`.trim())
    ).toEqual(["GET", "PATCH application/merge-patch+json"])
    // The hook saw the same input at the wake as at creation: no selector to start from.
    const seen = asked.filter((a) => a.sessionId === id)
    expect(seen).toHaveLength(2)
    expect(seen[1]).toEqual(seen[0]!)
    expect(seen[1]).toMatchObject({ cpu: 750, memory: 1536, nodeSelector: {} })
  })

  test("a placement that answers nothing on wake clears the old selector", async () => {
    const id = await hibernatedWith({ zone: "a" })
    answer = { selector: {} }
    await p.http("POST", `/api/sessions/${id}/wake`, { token: admin })
    await until(id, "running")
    expect(deployment(id)).toEqual({ replicas: 1, nodeSelector: {} })
  })

  test("a refused placement on wake fails the session; the workload is not woken on its old node", async () => {
    const id = await hibernatedWith({ "kubernetes.io/hostname": "node-a" })
    answer = { refuse: "node-a is being retired" }
    await p.http("POST", `/api/sessions/${id}/wake`, { token: admin })
    const failed = await until(id, "failed")
    expect(failed.reason).toContain("placement refused")
    expect(failed.reason).toContain("placer: node-a is being retired")
    expect(deployment(id)).toEqual({ replicas: 0, nodeSelector: { "kubernetes.io/hostname": "node-a" } })
    const events = await p.query<{ type: string }>(
      "SELECT type FROM events WHERE payload->>'sessionId' = $1 AND type = 'session.failed'",
      [id]
    )
    expect(events).toHaveLength(1)
  })
})
