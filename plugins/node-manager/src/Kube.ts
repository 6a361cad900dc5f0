/**
 * The Kubernetes objects node-manager reads (Node, Pod, NodeMetrics), as
 * the API reference shapes them, and what it derives from them: quantities,
 * readiness, requests per node, StreamSpace sessions per node.
 */
export interface Taint {
  readonly key: string
  readonly value?: string
  readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute"
  readonly timeAdded?: string
}

export interface Condition {
  readonly type: string
  readonly status: string
  readonly reason?: string
  readonly message?: string
  readonly lastTransitionTime?: string
}

export interface KNode {
  readonly metadata: {
    readonly name: string
    readonly labels?: Record<string, string>
    readonly resourceVersion?: string
    readonly creationTimestamp?: string
  }
  readonly spec?: { readonly unschedulable?: boolean; readonly taints?: ReadonlyArray<Taint> }
  readonly status?: {
    readonly capacity?: Record<string, string>
    readonly allocatable?: Record<string, string>
    readonly conditions?: ReadonlyArray<Condition>
    readonly nodeInfo?: Record<string, string>
  }
}

export interface KPod {
  readonly metadata: {
    readonly name: string
    readonly namespace?: string
    readonly labels?: Record<string, string>
    readonly annotations?: Record<string, string>
    readonly ownerReferences?: ReadonlyArray<{ readonly kind: string; readonly name: string }>
  }
  readonly spec?: {
    readonly nodeName?: string
    readonly containers?: ReadonlyArray<{ readonly resources?: { readonly requests?: Record<string, string> } }>
  }
  readonly status?: { readonly phase?: string }
}

export interface KList<A> {
  readonly items: ReadonlyArray<A>
}

export interface NodeMetrics {
  readonly metadata: { readonly name: string }
  readonly usage: { readonly cpu: string; readonly memory: string }
}

export const SESSION_LABEL = "streamspace.io/session"
export const USER_LABEL = "streamspace.io/user"
export const MANAGED = "app.kubernetes.io/managed-by=streamspace"
export const HOSTNAME = "kubernetes.io/hostname"

const SUFFIX: Record<string, number> = {
  "": 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5
}

/** A resource quantity (`250m`, `4`, `16Gi`, `1e3`, `128974848`) in base units (cores, bytes); unknown: 0. */
export const quantity = (q: string | undefined): number => {
  if (!q) return 0
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(q.trim())
  if (!m) return 0
  const factor = SUFFIX[m[2] ?? ""]
  return factor === undefined ? 0 : Number(m[1]) * factor
}

export const readyCondition = (n: KNode) => n.status?.conditions?.find((c) => c.type === "Ready")
export const isReady = (n: KNode) => readyCondition(n)?.status === "True"
/** Taints that keep new pods away (PreferNoSchedule only discourages). */
export const repels = (n: KNode) => (n.spec?.taints ?? []).some((t) => t.effect !== "PreferNoSchedule")

export const isFinished = (p: KPod) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed"

export const podRequests = (p: KPod) =>
  (p.spec?.containers ?? []).reduce(
    (acc, c) => ({
      cpuMillis: acc.cpuMillis + quantity(c.resources?.requests?.["cpu"]) * 1000,
      memoryBytes: acc.memoryBytes + quantity(c.resources?.requests?.["memory"])
    }),
    { cpuMillis: 0, memoryBytes: 0 }
  )

export const sessionOf = (p: KPod) => p.metadata.labels?.[SESSION_LABEL]

/** What the nodes API shows of each StreamSpace session. */
export interface NodeSession {
  readonly sessionId: string
  readonly userId: string | null
  readonly pod: string
  readonly namespace: string
}
