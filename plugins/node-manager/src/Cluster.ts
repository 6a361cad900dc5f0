/**
 * What node-manager reads and changes through the platform's Kubernetes
 * API client (granted in the manifest): a snapshot of nodes, pods and
 * metrics, the node views and summary the API answers, and node patches.
 * API failures become problems: 404 NotFound, 409 Conflict (a stale
 * write), anything else 503 naming the Kubernetes API's answer.
 */
import { Conflict, NotFound, ServiceUnavailable } from "@streamspace/core"
import type { Kubernetes, KubernetesError, PlatformAccessDenied } from "@streamspace/kernel"
import { Effect } from "effect"
import {
  HOSTNAME,
  isFinished,
  isReady,
  type KList,
  type KNode,
  type KPod,
  MANAGED,
  type NodeMetrics,
  type NodeSession,
  podRequests,
  quantity,
  readyCondition,
  repels,
  SESSION_LABEL,
  sessionOf,
  USER_LABEL
} from "./Kube.ts"

export type Kube = Kubernetes["Type"]

export const problem = (
  e: KubernetesError | PlatformAccessDenied,
  resource = "node",
  id = ""
): Effect.Effect<never, NotFound | Conflict | ServiceUnavailable> =>
  e._tag === "PlatformAccessDenied"
    ? Effect.die(e)
    : e.status === 404
      ? Effect.fail(new NotFound({ resource, id }))
      : e.status === 409
        ? Effect.fail(new Conflict({ message: `${resource} ${id} changed meanwhile; try again`, code: "conflict" }))
        : Effect.fail(new ServiceUnavailable({ message: `Kubernetes API: ${e.message}` }))

export interface Snapshot {
  readonly nodes: ReadonlyArray<KNode>
  readonly pods: ReadonlyArray<KPod>
  /** Session pods in the session namespace. */
  readonly sessionPods: ReadonlyArray<KPod>
  readonly metrics:
    | { readonly available: true; readonly items: ReadonlyArray<NodeMetrics> }
    | {
        readonly available: false
        readonly reason: string
      }
}

export const snapshot = (kube: Kube, withMetrics: boolean) =>
  Effect.gen(function* () {
    const [nodes, pods, sessionPods] = yield* Effect.all(
      [
        kube.request<KList<KNode>>("GET", "/api/v1/nodes"),
        kube.request<KList<KPod>>("GET", "/api/v1/pods"),
        kube.request<KList<KPod>>(
          "GET",
          `/api/v1/namespaces/${kube.sessionNamespace}/pods?labelSelector=${encodeURIComponent(MANAGED)}`
        )
      ],
      { concurrency: 3 }
    )
    const metrics: Snapshot["metrics"] = withMetrics
      ? yield* kube.request<KList<NodeMetrics>>("GET", "/apis/metrics.k8s.io/v1beta1/nodes").pipe(
          Effect.map((m) => ({ available: true as const, items: m.items })),
          Effect.catchAll((e) =>
            Effect.succeed({
              available: false as const,
              reason:
                e._tag === "KubernetesError" && e.status === 404
                  ? "metrics.k8s.io is not served (no metrics-server)"
                  : `metrics.k8s.io: ${e.message}`
            })
          )
        )
      : { available: false, reason: "not asked" }
    return {
      nodes: nodes.items,
      pods: pods.items,
      sessionPods: sessionPods.items.filter((p) => !isFinished(p)),
      metrics
    }
  })

export const sessionsOn = (s: Snapshot, node: string): ReadonlyArray<NodeSession> =>
  s.sessionPods
    .filter((p) => p.spec?.nodeName === node && sessionOf(p))
    .map((p) => ({
      sessionId: sessionOf(p)!,
      userId: p.metadata.labels?.[USER_LABEL] ?? null,
      pod: p.metadata.name,
      namespace: p.metadata.namespace ?? ""
    }))

export const requestedOn = (s: Snapshot, node: string) =>
  s.pods
    .filter((p) => p.spec?.nodeName === node && !isFinished(p))
    .map(podRequests)
    .reduce((a, b) => ({ cpuMillis: a.cpuMillis + b.cpuMillis, memoryBytes: a.memoryBytes + b.memoryBytes }), {
      cpuMillis: 0,
      memoryBytes: 0
    })

const resources = (r: Record<string, string> | undefined) => ({
  cpuMillis: Math.round(quantity(r?.["cpu"]) * 1000),
  memoryBytes: Math.round(quantity(r?.["memory"])),
  pods: Math.round(quantity(r?.["pods"]))
})

export interface HealthRow {
  readonly node: string
  readonly status: "healthy" | "unhealthy"
  readonly consecutive_failures: number
  readonly consecutive_passes: number
  readonly changed_at: Date
  readonly checked_at: Date
}

export const view = (s: Snapshot, n: KNode, health: HealthRow | undefined) => {
  const name = n.metadata.name
  const allocatable = resources(n.status?.allocatable)
  const requested = requestedOn(s, name)
  const m = s.metrics.available ? s.metrics.items.find((i) => i.metadata.name === name) : undefined
  const ready = readyCondition(n)
  return {
    name,
    ready: isReady(n),
    readyReason: ready?.reason ?? null,
    schedulable: n.spec?.unschedulable !== true,
    labels: n.metadata.labels ?? {},
    taints: (n.spec?.taints ?? []).map((t) => ({ key: t.key, value: t.value ?? null, effect: t.effect })),
    conditions: (n.status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason ?? null,
      message: c.message ?? null,
      lastTransitionTime: c.lastTransitionTime ?? null
    })),
    capacity: resources(n.status?.capacity),
    allocatable,
    requested,
    pods: s.pods.filter((p) => p.spec?.nodeName === name && !isFinished(p)).length,
    sessions: sessionsOn(s, name),
    usage: s.metrics.available
      ? m
        ? {
            state: "available" as const,
            cpuMillis: Math.round(quantity(m.usage.cpu) * 1000),
            memoryBytes: Math.round(quantity(m.usage.memory)),
            cpuPercent: allocatable.cpuMillis ? (quantity(m.usage.cpu) * 100_000) / allocatable.cpuMillis : null,
            memoryPercent: allocatable.memoryBytes ? (quantity(m.usage.memory) * 100) / allocatable.memoryBytes : null
          }
        : { state: "no-metrics" as const, reason: "metrics-server has no sample for this node yet" }
      : { state: "no-metrics" as const, reason: s.metrics.reason },
    health: health
      ? {
          status: health.status,
          consecutiveFailures: health.consecutive_failures,
          consecutivePasses: health.consecutive_passes,
          since: health.changed_at.toISOString(),
          checkedAt: health.checked_at.toISOString()
        }
      : { status: "unknown" as const, consecutiveFailures: 0, consecutivePasses: 0, since: null, checkedAt: null },
    info: n.status?.nodeInfo ?? {},
    hostname: n.metadata.labels?.[HOSTNAME] ?? name,
    repelled: repels(n),
    createdAt: n.metadata.creationTimestamp ?? null
  }
}
export type NodeView = ReturnType<typeof view>

export const summary = (views: ReadonlyArray<NodeView>, s: Snapshot) => {
  const sum = (f: (v: NodeView) => number) => views.reduce((a, v) => a + f(v), 0)
  return {
    totalNodes: views.length,
    readyNodes: views.filter((v) => v.ready).length,
    notReadyNodes: views.filter((v) => !v.ready).length,
    cordonedNodes: views.filter((v) => !v.schedulable).length,
    unhealthyNodes: views.filter((v) => v.health.status === "unhealthy").length,
    totalPods: sum((v) => v.pods),
    sessions: sum((v) => v.sessions.length),
    capacity: { cpuMillis: sum((v) => v.capacity.cpuMillis), memoryBytes: sum((v) => v.capacity.memoryBytes) },
    allocatable: { cpuMillis: sum((v) => v.allocatable.cpuMillis), memoryBytes: sum((v) => v.allocatable.memoryBytes) },
    requested: { cpuMillis: sum((v) => v.requested.cpuMillis), memoryBytes: sum((v) => v.requested.memoryBytes) },
    usage: s.metrics.available
      ? {
          state: "available" as const,
          cpuMillis: sum((v) => (v.usage.state === "available" ? v.usage.cpuMillis : 0)),
          memoryBytes: sum((v) => (v.usage.state === "available" ? v.usage.memoryBytes : 0))
        }
      : { state: "no-metrics" as const, reason: s.metrics.reason }
  }
}

export const getNode = (kube: Kube, name: string) =>
  kube
    .request<KNode>("GET", `/api/v1/nodes/${encodeURIComponent(name)}`)
    .pipe(Effect.catchAll((e) => problem(e, "node", name)))

/** A JSON merge patch of a node (RFC 7386), guarded by `resourceVersion` when given. */
export const patchNode = (kube: Kube, name: string, patch: Record<string, unknown>) =>
  kube
    .request<KNode>("PATCH", `/api/v1/nodes/${encodeURIComponent(name)}`, {
      body: patch,
      contentType: "application/merge-patch+json"
    })
    .pipe(Effect.catchAll((e) => problem(e, "node", name)))

export { SESSION_LABEL }
