/**
 * The kubernetes session runtime against a Kubernetes API server started by
 * the test (packages/testing FakeKubeApiServer; no kube-apiserver can be
 * installed on this machine). Runs through the whole platform: HTTP,
 * orchestrator, driver, watch.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { KubernetesRuntime } from "@streamspace/core"
import { FakeKubeApiServer, TestPlatform } from "@streamspace/testing"
import type { Duration } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const NS = "desktops"
let api: FakeKubeApiServer.FakeKubeApiServer
let p: TestPlatform.TestPlatform
let admin: string
let template: string
let user: string
const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-kube-"))

interface SessionBody {
  readonly id: string
  readonly state: string
  readonly runtime: string
  readonly reason: string | null
}

beforeAll(async () => {
  api = FakeKubeApiServer.start()
  const kubeconfig = Path.join(dir, "kubeconfig")
  Fs.writeFileSync(kubeconfig, api.kubeconfig())
  p = await TestPlatform.make({
    clock: "test",
    config: {
      sessions: {
        runtime: "kubernetes",
        startTimeoutSeconds: 120,
        kubernetes: {
          namespace: NS,
          kubeconfig,
          storageClass: "fast-ssd",
          homeSize: "10Gi",
          imagePullSecrets: ["registry-cred"],
          labels: { team: "desktops" }
        }
      }
    }
  })
  admin = await p.login("admin", p.adminPassword)
  template = (
    await p.http<{ id: string }>("POST", "/api/templates", {
      token: admin,
      body: {
        name: "xfce",
        displayName: "XFCE",
        image: "example/xfce:4.18",
        defaultCpu: 750,
        defaultMemory: 1536,
        ports: [3000],
        vncPort: 5901
      }
    })
  ).body.id
  await p.http("POST", "/api/users", { token: admin, body: { username: "kube-user", password: "long-enough-pw" } })
  user = await p.login("kube-user", "long-enough-pw")
})
afterAll(async () => {
  await p.close()
  await api.stop()
  Fs.rmSync(dir, { recursive: true, force: true })
})

const get = async (id: string) => (await p.http<SessionBody>("GET", `/api/sessions/${id}`, { token: user })).body
const until = (id: string, ok: (s: SessionBody) => boolean, step: Duration.DurationInput = "1 second") =>
  p.eventually(async () => {
    const s = await get(id)
    if (ok(s)) return s
    await p.adjustClock(step)
    return undefined
  }, 20_000)
const launch = async () => {
  const res = await p.http<SessionBody>("POST", "/api/sessions", { token: user, body: { templateId: template } })
  expect(res.status).toBe(201)
  expect(res.body.runtime).toBe("kubernetes")
  return res.body.id
}

describe(`kubernetes runtime (${TestPlatform.engine()})`, () => {
  test("creates a Deployment, a Service and the home PVC; scales to 0 and back; deletes all but the home", async () => {
    const id = await launch()
    const name = KubernetesRuntime.workloadName(id)
    await p.eventually(async () => api.get("deployments", NS, name) !== undefined)
    const deployment = api.get("deployments", NS, name)!
    const spec = deployment.spec as { replicas: number; template: { spec: Record<string, unknown> } }
    expect(spec.replicas).toBe(1)
    expect(deployment.metadata.labels).toMatchObject({
      "app.kubernetes.io/managed-by": "streamspace",
      "streamspace.io/session": id,
      team: "desktops"
    })
    const pod = spec.template.spec as {
      containers: Array<Record<string, unknown>>
      imagePullSecrets: unknown
      volumes: Array<Record<string, unknown>>
    }
    expect(pod.containers[0]).toMatchObject({
      image: "example/xfce:4.18",
      resources: { requests: { cpu: "750m", memory: "1536Mi" }, limits: { cpu: "750m", memory: "1536Mi" } },
      ports: [{ containerPort: 5901 }, { containerPort: 3000 }]
    })
    expect(pod.imagePullSecrets).toEqual([{ name: "registry-cred" }])
    const me = await p.http<{ id: string }>("GET", "/api/auth/me", { token: user })
    const claim = KubernetesRuntime.homeClaimName(me.body.id)
    expect(pod.volumes).toEqual([{ name: "home", persistentVolumeClaim: { claimName: claim } }])
    expect(api.get("services", NS, name)?.spec).toMatchObject({
      selector: { "streamspace.io/session": id },
      ports: [{ name: "vnc", port: 5901 }, { port: 3000 }]
    })
    expect(api.get("persistentvolumeclaims", NS, claim)?.spec).toMatchObject({
      storageClassName: "fast-ssd",
      resources: { requests: { storage: "10Gi" } }
    })

    expect((await get(id)).state).toBe("pending")
    api.setReady(NS, name, 1)
    await until(id, (s) => s.state === "running")

    // No placement hook: no nodeSelector at creation…
    expect(spec.template.spec["nodeSelector"]).toBeUndefined()
    const templateBefore = structuredClone(spec.template)

    await p.http("POST", `/api/sessions/${id}/hibernate`, { token: user })
    await until(id, (s) => s.state === "hibernated")
    expect((api.get("deployments", NS, name)?.spec as { replicas: number }).replicas).toBe(0)
    expect(api.requests.some((r) => r.method === "PATCH" && r.contentType === "application/merge-patch+json")).toBe(
      true
    )

    await p.http("POST", `/api/sessions/${id}/wake`, { token: user })
    await p.eventually(async () => (api.get("deployments", NS, name)?.spec as { replicas: number }).replicas === 1)
    api.setReady(NS, name, 1)
    await until(id, (s) => s.state === "running")
    // …nor after waking (placement ran again and chose nothing): the pod template is as it was created.
    expect((api.get("deployments", NS, name)?.spec as { template: unknown }).template).toEqual(templateBefore)

    await p.http("DELETE", `/api/sessions/${id}`, { token: user })
    await until(id, (s) => s.state === "terminated")
    expect(api.get("deployments", NS, name)).toBeUndefined()
    expect(api.get("services", NS, name)).toBeUndefined()
    expect(api.get("persistentvolumeclaims", NS, claim)).toBeDefined()
  })

  test("a workload that never becomes ready fails after the start timeout instead of staying pending", async () => {
    const id = await launch()
    await p.eventually(async () => api.get("deployments", NS, KubernetesRuntime.workloadName(id)) !== undefined)
    const failed = await until(id, (s) => s.state === "failed", "30 seconds")
    expect(failed.reason).toContain("did not start the session within 120 s")
  })

  test("with the API server down, creation is retried, then the session fails with the reason", async () => {
    await api.stop()
    try {
      const id = await launch()
      const failed = await until(id, (s) => s.state === "failed", "2 seconds")
      expect(failed.reason).toContain("create failed after 5 attempt(s)")
    } finally {
      api.restart()
    }
  })

  test("the reconciler recovers when the API comes back and sees what changed meanwhile", async () => {
    const id = await launch()
    const name = KubernetesRuntime.workloadName(id)
    await p.eventually(async () => api.get("deployments", NS, name) !== undefined)
    api.setReady(NS, name, 1)
    await until(id, (s) => s.state === "running")
    await api.stop()
    api.failDeployment(NS, name, "Back-off pulling image example/xfce:4.18")
    await p.adjustClock("5 seconds")
    api.restart()
    const failed = await until(id, (s) => s.state === "failed", "2 seconds")
    expect(failed.reason).toContain("ProgressDeadlineExceeded")
    expect(failed.reason).toContain("Back-off pulling image")
  })

  test("a watch that ends with 410 Gone is re-listed without losing changes", async () => {
    const id = await launch()
    const name = KubernetesRuntime.workloadName(id)
    await p.eventually(async () => api.get("deployments", NS, name) !== undefined)
    api.compact()
    api.dropWatches()
    api.setReady(NS, name, 1)
    await until(id, (s) => s.state === "running")
  })
})

describe("the wake patch", () => {
  test("the selector placement chose now replaces the old one: missing keys go with null; unchanged, only replicas", () => {
    const pinned = { "kubernetes.io/hostname": "node-a", zone: "a", pool: "gpu" }
    expect(KubernetesRuntime.wakePatch(pinned, { "kubernetes.io/hostname": "node-b", pool: "gpu" }, "42")).toEqual({
      metadata: { resourceVersion: "42" },
      spec: { replicas: 1, template: { spec: { nodeSelector: { "kubernetes.io/hostname": "node-b", zone: null } } } }
    })
    expect(KubernetesRuntime.wakePatch(pinned, {}, "42")).toEqual({
      metadata: { resourceVersion: "42" },
      spec: {
        replicas: 1,
        template: { spec: { nodeSelector: { "kubernetes.io/hostname": null, zone: null, pool: null } } }
      }
    })
    expect(KubernetesRuntime.wakePatch({}, { zone: "b" }, undefined)).toEqual({
      spec: { replicas: 1, template: { spec: { nodeSelector: { zone: "b" } } } }
    })
    expect(KubernetesRuntime.wakePatch(pinned, { ...pinned }, "42")).toEqual({ spec: { replicas: 1 } })
    expect(KubernetesRuntime.wakePatch({}, {}, "42")).toEqual({ spec: { replicas: 1 } })
  })
})

describe("deployment status mapping", () => {
  const d = (spec: number, ready: number, extra: Record<string, unknown> = {}) => ({
    metadata: {
      name: "ss-x",
      labels: { "streamspace.io/session": "x" },
      annotations: { "streamspace.io/vnc-port": "5901" }
    },
    spec: { replicas: spec },
    status: { replicas: spec, readyReplicas: ready, ...extra }
  })
  test("ready → running with the service endpoint; 0 replicas → hibernated; not ready → pending", () => {
    expect(KubernetesRuntime.observe(d(1, 1), "ns")).toEqual({
      sessionId: "x",
      state: "running",
      endpoint: { host: "ss-x.ns.svc", port: 5901 }
    })
    expect(KubernetesRuntime.observe(d(0, 0), "ns")?.state).toBe("hibernated")
    expect(KubernetesRuntime.observe(d(1, 0), "ns")?.state).toBe("pending")
    expect(
      KubernetesRuntime.observe(
        d(1, 0, { conditions: [{ type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: "quota" }] }),
        "ns"
      )
    ).toMatchObject({ state: "failed", reason: "FailedCreate: quota" })
    expect(KubernetesRuntime.observe(d(1, 1), "ns", true)?.state).toBe("terminated")
  })
})
