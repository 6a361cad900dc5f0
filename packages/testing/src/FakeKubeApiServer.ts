/**
 * A Kubernetes API server for tests, on 127.0.0.1: the endpoints the
 * `kubernetes` runtime uses, as the API reference documents them —
 * create (201, or 409 AlreadyExists as a Status), get/delete (404 NotFound),
 * PATCH with `application/merge-patch+json` (RFC 7386; other types 415),
 * lists with `labelSelector` and a `resourceVersion`, and `watch=1` streams
 * of newline-delimited watch events that replay from a resourceVersion, end
 * after `timeoutSeconds`, and answer an ERROR event with 410 Gone once that
 * version was compacted. Bearer-token auth (401 without it).
 *
 * Test controls: mark Deployments ready or failed, stop the server and start
 * it again on the same port (state survives, as etcd would), drop watches.
 * No controllers run: Deployment status changes only as the test says, or
 * automatically with `autoReady`.
 *
 * Nodes and pods (for the node-manager plugin): cluster-scoped Nodes
 * (`/api/v1/nodes`, PATCH of labels, taints and `spec.unschedulable`),
 * Pods (`/api/v1/pods` across namespaces with `fieldSelector=spec.nodeName=…`),
 * PodDisruptionBudgets (policy/v1) and the Eviction subresource
 * (`POST …/pods/<name>/eviction`: 201, 404, or 429 TooManyRequests with a
 * `DisruptionBudget` cause when the eviction would violate a budget —
 * https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/),
 * and `metrics.k8s.io/v1beta1` NodeMetrics that a test turns off (404, as
 * when no metrics-server APIService is registered) or makes unavailable
 * (503). A PATCH whose body carries `metadata.resourceVersion` is refused
 * with 409 Conflict when it is stale (optimistic concurrency, as the API
 * server does). Once the test has added nodes, a session Deployment's
 * replicas become pods placed by a small scheduler: `nodeSelector`, Ready,
 * not `unschedulable`, no NoSchedule/NoExecute taint, enough allocatable CPU
 * and memory; pods go when replicas drop to 0 or the Deployment is deleted.
 *
 * Cluster API MachineDeployments (`cluster.x-k8s.io/v1beta1`, namespaced;
 * https://cluster-api.sigs.k8s.io/user/concepts
 * for how replicas become Machines and then Nodes): a test adds one with
 * `addMachineDeployment`, and changing its `spec.replicas` (a merge PATCH, as
 * an autoscaler would) adds or removes Nodes labelled
 * `cluster.x-k8s.io/deployment-name=<name>` to match, as the MachineSet
 * controller and the infrastructure provider would, at once. Its
 * `status.replicas` follows.
 */

type Kind =
  | "deployments"
  | "services"
  | "persistentvolumeclaims"
  | "nodes"
  | "pods"
  | "poddisruptionbudgets"
  | "machinedeployments"

interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: {
    name: string
    namespace?: string
    labels?: Record<string, string>
    resourceVersion?: string
    uid?: string
    creationTimestamp?: string
    [k: string]: unknown
  }
  spec?: Record<string, unknown> & { replicas?: number }
  status?: Record<string, unknown> & {
    replicas?: number
    readyReplicas?: number
    conditions?: Array<Record<string, unknown>>
  }
  [k: string]: unknown
}

interface HistoryEntry {
  readonly rv: number
  readonly type: "ADDED" | "MODIFIED" | "DELETED"
  readonly kind: Kind
  readonly ns: string
  readonly object: KubeObject
}

interface Watcher {
  readonly kind: Kind
  readonly ns: string
  readonly selector: Record<string, string>
  readonly send: (line: string) => void
  readonly close: () => void
}

export interface RecordedKubeRequest {
  readonly method: string
  readonly path: string
  readonly contentType: string | null
}

const kinds: Record<Kind, { apiVersion: string; kind: string; prefix: string }> = {
  deployments: { apiVersion: "apps/v1", kind: "Deployment", prefix: "/apis/apps/v1" },
  services: { apiVersion: "v1", kind: "Service", prefix: "/api/v1" },
  persistentvolumeclaims: { apiVersion: "v1", kind: "PersistentVolumeClaim", prefix: "/api/v1" },
  nodes: { apiVersion: "v1", kind: "Node", prefix: "/api/v1" },
  pods: { apiVersion: "v1", kind: "Pod", prefix: "/api/v1" },
  poddisruptionbudgets: { apiVersion: "policy/v1", kind: "PodDisruptionBudget", prefix: "/apis/policy/v1" },
  machinedeployments: {
    apiVersion: "cluster.x-k8s.io/v1beta1",
    kind: "MachineDeployment",
    prefix: "/apis/cluster.x-k8s.io/v1beta1"
  }
}

const route =
  /^\/(?:apis\/apps\/v1|api\/v1|apis\/policy\/v1|apis\/cluster\.x-k8s\.io\/v1beta1)\/namespaces\/([^/]+)\/(deployments|services|persistentvolumeclaims|pods|poddisruptionbudgets|machinedeployments)(?:\/([^/]+))?$/
/** Cluster-scoped kinds, and Pods listed across namespaces. */
const clusterRoute = /^\/api\/v1\/(nodes|pods)(?:\/([^/]+))?$/
const evictionRoute = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/
const metricsRoute = /^\/apis\/metrics\.k8s\.io\/v1beta1\/nodes(?:\/([^/]+))?$/

/** A quantity (`250m`, `2`, `16Gi`, `1e3`, `500M`) as a number of base units (cores or bytes). */
export const quantity = (q: string | number | undefined): number => {
  if (q === undefined) return 0
  if (typeof q === "number") return q
  const m = /^([0-9.]+(?:e[0-9]+)?)([a-zA-Z]*)$/.exec(q.trim())
  if (!m) return 0
  const n = Number(m[1])
  const suffix: Record<string, number> = {
    "": 1,
    n: 1e-9,
    u: 1e-6,
    m: 1e-3,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4
  }
  return n * (suffix[m[2] ?? ""] ?? 1)
}

export interface FakeNode {
  readonly cpu?: string
  readonly memory?: string
  readonly pods?: number
  readonly labels?: Record<string, string>
  readonly ready?: boolean
  readonly taints?: ReadonlyArray<{ key: string; value?: string; effect: string }>
  readonly unschedulable?: boolean
}

export interface FakePod {
  readonly name: string
  readonly nodeName: string
  readonly labels?: Record<string, string>
  /** `DaemonSet`, `ReplicaSet`, … (ownerReferences[0].kind); none: a bare pod. */
  readonly owner?: string
  readonly cpu?: string
  readonly memory?: string
  readonly ready?: boolean
  readonly phase?: "Pending" | "Running" | "Succeeded" | "Failed"
  readonly annotations?: Record<string, string>
}

export interface RecordedEviction {
  readonly namespace: string
  readonly name: string
  readonly gracePeriodSeconds: number | null
  readonly outcome: "evicted" | "refused"
}

const statusOf = (code: number, reason: string, message: string) =>
  Response.json(
    { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code },
    { status: code }
  )

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** RFC 7386 JSON merge patch. */
export const mergePatch = (target: unknown, patch: unknown): unknown => {
  if (!isRecord(patch)) return patch
  const out: Record<string, unknown> = isRecord(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

const parseSelector = (s: string | null): Record<string, string> =>
  Object.fromEntries(
    (s ?? "")
      .split(",")
      .filter((p) => p.includes("="))
      .map((p) => p.split("=", 2) as [string, string])
  )

const matches = (o: KubeObject, selector: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => o.metadata.labels?.[k] === v)

/** `fieldSelector`: only `spec.nodeName=…` and `metadata.name=…` (what the pod list supports and we use). */
const matchesFields = (o: KubeObject, fields: Record<string, string>) =>
  Object.entries(fields).every(([k, v]) =>
    k === "spec.nodeName" ? o.spec?.["nodeName"] === v : k === "metadata.name" ? o.metadata.name === v : true
  )

const podReady = (p: KubeObject) =>
  (p.status?.["phase"] as string | undefined) === "Running" &&
  (p.status?.conditions ?? []).some((c) => c["type"] === "Ready" && c["status"] === "True")

const nodeReady = (n: KubeObject) =>
  (n.status?.conditions ?? []).some((c) => c["type"] === "Ready" && c["status"] === "True")

export interface FakeKubeApiServerOptions {
  readonly token?: string
  /** Deployments become ready (or scale down) as soon as their replicas change. */
  readonly autoReady?: boolean
  /** `metrics.k8s.io`: served (`on`, default), absent (`off`: 404) or failing (`unavailable`: 503). */
  readonly metrics?: "on" | "off" | "unavailable"
}

export const start = (options: FakeKubeApiServerOptions = {}) => {
  const token = options.token ?? `fake-${crypto.randomUUID()}`
  let autoReady = options.autoReady ?? false
  const store = new Map<string, KubeObject>()
  const history: Array<HistoryEntry> = []
  const watchers = new Set<Watcher>()
  const requests: Array<RecordedKubeRequest> = []
  let rv = 100
  let compactedBelow = 0
  let metrics = options.metrics ?? "on"
  const nodeUsage = new Map<string, { cpu: string; memory: string }>()
  const evictions: Array<RecordedEviction> = []
  /** Pod uid → the Deployment whose replicas it is (the ReplicaSet's ownership, flattened). */
  const podOwner = new Map<string, string>()
  const key = (kind: Kind, ns: string, name: string) => `${kind}/${ns}/${name}`

  const emit = (type: HistoryEntry["type"], kind: Kind, ns: string, object: KubeObject) => {
    const entry = { rv: Number(object.metadata.resourceVersion), type, kind, ns, object: structuredClone(object) }
    history.push(entry)
    for (const w of watchers) {
      if (w.kind === kind && w.ns === ns && matches(object, w.selector))
        w.send(JSON.stringify({ type, object: entry.object }))
    }
  }

  const settle = (o: KubeObject) => {
    const replicas = o.spec?.replicas ?? 1
    const status = o.status ?? {}
    o.status = autoReady
      ? { ...status, replicas, readyReplicas: replicas, availableReplicas: replicas }
      : { ...status, replicas, readyReplicas: Math.min(status.readyReplicas ?? 0, replicas) }
  }

  const save = (kind: Kind, ns: string, object: KubeObject, type: "ADDED" | "MODIFIED") => {
    object.metadata.resourceVersion = String(++rv)
    store.set(key(kind, ns, object.metadata.name), object)
    emit(type, kind, ns, object)
    if (kind === "deployments") syncPods(ns, object)
    if (kind === "machinedeployments") syncMachines(object)
    return object
  }

  const remove = (kind: Kind, ns: string, name: string) => {
    const o = store.get(key(kind, ns, name))
    if (!o) return undefined
    store.delete(key(kind, ns, name))
    o.metadata.resourceVersion = String(++rv)
    emit("DELETED", kind, ns, o)
    if (kind === "deployments") syncPods(ns, o, true)
    return o
  }

  const all = (kind: Kind) => [...store.entries()].filter(([k]) => k.startsWith(`${kind}/`)).map(([, o]) => o)

  const requested = (nodeName: string) =>
    all("pods")
      .filter((p) => p.spec?.["nodeName"] === nodeName)
      .reduce(
        (acc, p) => {
          for (const c of (p.spec?.["containers"] as Array<{ resources?: { requests?: Record<string, string> } }>) ??
            []) {
            acc.cpu += quantity(c.resources?.requests?.["cpu"])
            acc.memory += quantity(c.resources?.requests?.["memory"])
          }
          return acc
        },
        { cpu: 0, memory: 0 }
      )

  /** The scheduler's filters, in short: selector, Ready, schedulable, untainted, room. */
  const schedule = (pod: KubeObject): string | undefined => {
    const selector = (pod.spec?.["nodeSelector"] as Record<string, string> | undefined) ?? {}
    const need = { cpu: 0, memory: 0 }
    for (const c of (pod.spec?.["containers"] as Array<{ resources?: { requests?: Record<string, string> } }>) ?? []) {
      need.cpu += quantity(c.resources?.requests?.["cpu"])
      need.memory += quantity(c.resources?.requests?.["memory"])
    }
    const fits = all("nodes")
      .filter((n) => matches(n, selector) && nodeReady(n) && n.spec?.["unschedulable"] !== true)
      .filter(
        (n) =>
          !((n.spec?.["taints"] as Array<{ effect: string }> | undefined) ?? []).some(
            (t) => t.effect === "NoSchedule" || t.effect === "NoExecute"
          )
      )
      .filter((n) => {
        const alloc = (n.status?.["allocatable"] as Record<string, string> | undefined) ?? {}
        const used = requested(n.metadata.name)
        return used.cpu + need.cpu <= quantity(alloc["cpu"]) && used.memory + need.memory <= quantity(alloc["memory"])
      })
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    return fits[0]?.metadata.name
  }

  /** What the ReplicaSet controller and the scheduler would do, once the test has nodes. */
  const syncPods = (ns: string, d: KubeObject, deleted = false) => {
    if (all("nodes").length === 0) return
    const owned = all("pods").filter(
      (p) => p.metadata.namespace === ns && podOwner.get(p.metadata.uid ?? "") === d.metadata.name
    )
    const wanted = deleted || d.metadata["deletionTimestamp"] ? 0 : (d.spec?.replicas ?? 1)
    for (const p of owned.slice(wanted)) remove("pods", ns, p.metadata.name)
    const template = (d.spec?.["template"] as { metadata?: { labels?: Record<string, string> }; spec?: object }) ?? {}
    for (let i = owned.length; i < wanted; i++) {
      const pod: KubeObject = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: `${d.metadata.name}-${crypto.randomUUID().slice(0, 5)}`,
          namespace: ns,
          labels: { ...(template.metadata?.labels ?? {}) },
          uid: crypto.randomUUID(),
          creationTimestamp: new Date().toISOString(),
          ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: `${d.metadata.name}-rs` }]
        },
        spec: { ...(template.spec ?? {}) }
      }
      podOwner.set(pod.metadata.uid!, d.metadata.name)
      const nodeName = schedule(pod)
      pod.spec = { ...pod.spec, ...(nodeName ? { nodeName } : {}) }
      pod.status = nodeName
        ? { phase: "Running", conditions: [{ type: "Ready", status: "True" }] }
        : {
            phase: "Pending",
            conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }]
          }
      save("pods", ns, pod, "ADDED")
    }
  }

  /** Node shapes of MachineDeployments (`<ns>/<name>`), as their infrastructure template would say. */
  const machineShapes = new Map<string, FakeNode>()
  let machineSeq = 0
  /** What the MachineSet controller and the infrastructure provider would do: as many Nodes as `spec.replicas`. */
  const syncMachines = (md: KubeObject) => {
    const name = md.metadata.name
    const shape = machineShapes.get(`${md.metadata.namespace ?? ""}/${name}`) ?? {}
    const wanted = Math.max(0, md.spec?.replicas ?? 0)
    const nodes = all("nodes")
      .filter((n) => n.metadata.labels?.["cluster.x-k8s.io/deployment-name"] === name)
      .sort((x, y) => x.metadata.name.localeCompare(y.metadata.name))
    // The newest machines go first when scaling down (the MachineSet's "Newest" delete policy).
    for (const n of nodes.slice(wanted).reverse()) {
      remove("nodes", "", n.metadata.name)
      // The pod garbage collector deletes pods bound to a Node that no longer exists.
      for (const p of all("pods").filter((p) => p.spec?.["nodeName"] === n.metadata.name))
        remove("pods", p.metadata.namespace ?? "", p.metadata.name)
    }
    for (let i = nodes.length; i < wanted; i++)
      addNode(`${name}-${String(++machineSeq).padStart(3, "0")}`, {
        ...shape,
        labels: { ...(shape.labels ?? {}), "cluster.x-k8s.io/deployment-name": name }
      })
    if (md.status?.replicas !== wanted) {
      md.status = { ...md.status, replicas: wanted, readyReplicas: wanted }
      md.metadata.resourceVersion = String(++rv)
      emit("MODIFIED", "machinedeployments", md.metadata.namespace ?? "", md)
    }
  }

  /** A Node as the kubelet registers it: capacity = allocatable, Ready unless said otherwise. */
  const addNode = (name: string, n: FakeNode = {}) => {
    const resources = { cpu: n.cpu ?? "4", memory: n.memory ?? "16Gi", pods: String(n.pods ?? 110) }
    const ready = n.ready ?? true
    return save(
      "nodes",
      "",
      {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name,
          uid: crypto.randomUUID(),
          creationTimestamp: new Date().toISOString(),
          labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", ...(n.labels ?? {}) }
        },
        spec: {
          ...(n.unschedulable ? { unschedulable: true } : {}),
          ...(n.taints?.length ? { taints: [...n.taints] } : {})
        },
        status: {
          capacity: resources,
          allocatable: resources,
          conditions: [
            { type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory" },
            { type: "DiskPressure", status: "False", reason: "KubeletHasNoDiskPressure" },
            {
              type: "Ready",
              status: ready ? "True" : "False",
              reason: ready ? "KubeletReady" : "KubeletNotReady",
              lastTransitionTime: new Date().toISOString()
            }
          ],
          nodeInfo: {
            architecture: "amd64",
            osImage: "Debian GNU/Linux 12 (bookworm)",
            kernelVersion: "6.1.0-18-amd64",
            kubeletVersion: "v1.30.2",
            containerRuntimeVersion: "containerd://1.7.13"
          }
        }
      },
      "ADDED"
    )
  }

  /** What a PodDisruptionBudget allows now (the disruption controller's `status.disruptionsAllowed`). */
  const disruptionsAllowed = (pdb: KubeObject, ns: string) => {
    const selector = ((pdb.spec?.["selector"] as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ??
      {}) as Record<string, string>
    const pods = all("pods").filter((p) => p.metadata.namespace === ns && matches(p, selector))
    const healthy = pods.filter(podReady).length
    const expected = pods.length
    const value = (v: unknown, roundUp: boolean) =>
      typeof v === "string" && v.endsWith("%")
        ? (roundUp ? Math.ceil : Math.floor)((Number(v.slice(0, -1)) / 100) * expected)
        : Number(v)
    const min = pdb.spec?.["minAvailable"]
    const max = pdb.spec?.["maxUnavailable"]
    const desiredHealthy = min !== undefined ? value(min, true) : expected - value(max ?? 0, false)
    return { healthy, desiredHealthy, allowed: Math.max(0, healthy - desiredHealthy), expected }
  }

  const evict = async (req: Request, ns: string, name: string): Promise<Response> => {
    const pod = store.get(key("pods", ns, name))
    if (!pod) return statusOf(404, "NotFound", `pods "${name}" not found`)
    const body = (await req.json().catch(() => ({}))) as {
      kind?: string
      deleteOptions?: { gracePeriodSeconds?: number }
    }
    if (body.kind !== "Eviction") return statusOf(400, "BadRequest", "the body must be a policy/v1 Eviction")
    const grace = body.deleteOptions?.gracePeriodSeconds ?? null
    const budgets = all("poddisruptionbudgets").filter(
      (b) =>
        b.metadata.namespace === ns &&
        matches(pod, (b.spec?.["selector"] as { matchLabels?: Record<string, string> })?.matchLabels ?? {})
    )
    if (budgets.length > 1)
      return statusOf(
        500,
        "InternalError",
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
      )
    const budget = budgets[0]
    if (budget && podReady(pod)) {
      const s = disruptionsAllowed(budget, ns)
      if (s.allowed < 1) {
        evictions.push({ namespace: ns, name, gracePeriodSeconds: grace, outcome: "refused" })
        return Response.json(
          {
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Failure",
            message: "Cannot evict pod as it would violate the pod's disruption budget.",
            reason: "TooManyRequests",
            details: {
              causes: [
                {
                  reason: "DisruptionBudget",
                  message: `The disruption budget ${budget.metadata.name} needs ${s.desiredHealthy} healthy pods and has ${s.healthy} currently`
                }
              ]
            },
            code: 429
          },
          { status: 429 }
        )
      }
    }
    evictions.push({ namespace: ns, name, gracePeriodSeconds: grace, outcome: "evicted" })
    remove("pods", ns, name)
    return Response.json(
      { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 },
      { status: 201 }
    )
  }

  const nodeMetrics = (n: KubeObject) => {
    const used = nodeUsage.get(n.metadata.name) ?? requested(n.metadata.name)
    return {
      metadata: { name: n.metadata.name, creationTimestamp: new Date().toISOString() },
      timestamp: new Date().toISOString(),
      window: "20.05s",
      usage:
        typeof used.cpu === "string"
          ? used
          : { cpu: `${Math.round(Number(used.cpu) * 1e9)}n`, memory: `${Math.round(Number(used.memory) / 1024)}Ki` }
    }
  }

  const metricsApi = (name: string | undefined): Response => {
    if (metrics === "off") return statusOf(404, "NotFound", "the server could not find the requested resource")
    if (metrics === "unavailable")
      return statusOf(503, "ServiceUnavailable", "the server is currently unable to handle the request")
    if (name) {
      const n = store.get(key("nodes", "", name))
      return n
        ? Response.json({ kind: "NodeMetrics", apiVersion: "metrics.k8s.io/v1beta1", ...nodeMetrics(n) })
        : statusOf(404, "NotFound", `nodes.metrics.k8s.io "${name}" not found`)
    }
    return Response.json({
      kind: "NodeMetricsList",
      apiVersion: "metrics.k8s.io/v1beta1",
      metadata: {},
      items: all("nodes").map(nodeMetrics)
    })
  }

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url)
    requests.push({ method: req.method, path: url.pathname + url.search, contentType: req.headers.get("content-type") })
    if (req.headers.get("authorization") !== `Bearer ${token}`) return statusOf(401, "Unauthorized", "Unauthorized")
    const metricsMatch = metricsRoute.exec(url.pathname)
    if (metricsMatch)
      return req.method === "GET" ? metricsApi(metricsMatch[1]) : statusOf(405, "MethodNotAllowed", req.method)
    const eviction = evictionRoute.exec(url.pathname)
    if (eviction)
      return req.method === "POST"
        ? evict(req, eviction[1]!, eviction[2]!)
        : statusOf(405, "MethodNotAllowed", req.method)
    const cluster = clusterRoute.exec(url.pathname)
    const m = cluster ? null : route.exec(url.pathname)
    if (!cluster && !m)
      return statusOf(404, "NotFound", `the server could not find the requested resource (${url.pathname})`)
    // Cluster-scoped: Nodes (namespace ""), and Pods of every namespace (list only).
    const allNamespaces = cluster?.[1] === "pods"
    if (allNamespaces && (cluster?.[2] || req.method !== "GET"))
      return statusOf(405, "MethodNotAllowed", "pods are listed across namespaces; name one in its namespace")
    const [ns, kindName, name] = (cluster ? ["", cluster[1], cluster[2]] : [m![1], m![2], m![3]]) as unknown as [
      string,
      Kind,
      string | undefined
    ]
    const meta = kinds[kindName]
    const k = name ? key(kindName, ns, name) : ""
    switch (req.method) {
      case "POST": {
        if (name) return statusOf(405, "MethodNotAllowed", "POST to a named resource")
        const body = (await req.json()) as KubeObject
        if (!body?.metadata?.name) return statusOf(422, "Invalid", "metadata.name: Required value")
        if (store.has(key(kindName, ns, body.metadata.name))) {
          return statusOf(409, "AlreadyExists", `${kindName} "${body.metadata.name}" already exists`)
        }
        const object: KubeObject = {
          ...body,
          apiVersion: meta.apiVersion,
          kind: meta.kind,
          metadata: {
            ...body.metadata,
            ...(ns ? { namespace: ns } : {}),
            uid: crypto.randomUUID(),
            creationTimestamp: new Date().toISOString()
          }
        }
        if (kindName === "deployments") settle(object)
        return Response.json(save(kindName, ns, object, "ADDED"), { status: 201 })
      }
      case "GET": {
        if (name) {
          const o = store.get(k)
          return o ? Response.json(o) : statusOf(404, "NotFound", `${kindName} "${name}" not found`)
        }
        const selector = parseSelector(url.searchParams.get("labelSelector"))
        const watch = url.searchParams.get("watch")
        if (watch === "1" || watch === "true") {
          const from = Number(url.searchParams.get("resourceVersion") ?? rv)
          const timeout = Number(url.searchParams.get("timeoutSeconds") ?? 1800)
          let watcher: Watcher | undefined
          const body = new ReadableStream<Uint8Array>({
            start(controller) {
              const enc = new TextEncoder()
              let open = true
              const close = () => {
                if (!open) return
                open = false
                if (watcher) watchers.delete(watcher)
                try {
                  controller.close()
                } catch {
                  /* already closed by the client */
                }
              }
              const send = (line: string) => {
                if (open) controller.enqueue(enc.encode(`${line}\n`))
              }
              if (from < compactedBelow) {
                send(
                  JSON.stringify({
                    type: "ERROR",
                    object: {
                      kind: "Status",
                      apiVersion: "v1",
                      status: "Failure",
                      reason: "Expired",
                      code: 410,
                      message: `too old resource version: ${from} (${compactedBelow})`
                    }
                  })
                )
                close()
                return
              }
              for (const e of history) {
                if (e.rv > from && e.kind === kindName && e.ns === ns && matches(e.object, selector))
                  send(JSON.stringify({ type: e.type, object: e.object }))
              }
              watcher = { kind: kindName, ns, selector, send, close }
              watchers.add(watcher)
              setTimeout(close, timeout * 1000).unref?.()
            },
            cancel() {
              if (watcher) watchers.delete(watcher)
            }
          })
          return new Response(body, { headers: { "content-type": "application/json", "transfer-encoding": "chunked" } })
        }
        const fields = parseSelector(url.searchParams.get("fieldSelector"))
        const items = [...store.entries()]
          .filter(
            ([sk, o]) =>
              (allNamespaces ? sk.startsWith(`${kindName}/`) : sk.startsWith(`${kindName}/${ns}/`)) &&
              matches(o, selector) &&
              matchesFields(o, fields)
          )
          .map(([, o]) => o)
        return Response.json({
          kind: `${meta.kind}List`,
          apiVersion: meta.apiVersion,
          metadata: { resourceVersion: String(rv) },
          items
        })
      }
      case "PATCH": {
        const o = store.get(k)
        if (!o) return statusOf(404, "NotFound", `${kindName} "${name}" not found`)
        if (req.headers.get("content-type") !== "application/merge-patch+json") {
          return statusOf(
            415,
            "UnsupportedMediaType",
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`
          )
        }
        const patch = (await req.json()) as { metadata?: { resourceVersion?: string } }
        const precondition = patch?.metadata?.resourceVersion
        if (precondition !== undefined && precondition !== o.metadata.resourceVersion)
          return statusOf(
            409,
            "Conflict",
            `Operation cannot be fulfilled on ${kindName} "${name}": the object has been modified; please apply your changes to the latest version and try again`
          )
        const patched = mergePatch(o, patch) as KubeObject
        if (kindName === "deployments") settle(patched)
        return Response.json(save(kindName, ns, patched, "MODIFIED"))
      }
      case "DELETE": {
        const o = store.get(k)
        if (!o) return statusOf(404, "NotFound", `${kindName} "${name}" not found`)
        remove(kindName, ns, o.metadata.name)
        return Response.json({
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Success",
          details: { name, kind: kindName }
        })
      }
      default:
        return statusOf(405, "MethodNotAllowed", req.method)
    }
  }

  let server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handle, idleTimeout: 0 })
  const port = server.port!
  const url = `http://127.0.0.1:${port}`

  const deployment = (ns: string, name: string) => {
    const o = store.get(key("deployments", ns, name))
    if (!o) throw new Error(`no deployment ${ns}/${name}`)
    return o
  }

  return {
    url,
    port,
    token,
    requests,
    /** Namespace `""` for cluster-scoped kinds (nodes). */
    get: (kind: Kind, ns: string, name: string) => store.get(key(kind, ns, name)),
    pods: (nodeName?: string) => all("pods").filter((p) => nodeName === undefined || p.spec?.["nodeName"] === nodeName),
    list: (kind: Kind, ns: string) =>
      [...store.entries()].filter(([k]) => k.startsWith(`${kind}/${ns}/`)).map(([, o]) => o),
    setAutoReady: (value: boolean) => {
      autoReady = value
    },
    /** What the ReplicaSet controller would report once pods are ready. */
    setReady: (ns: string, name: string, readyReplicas: number) => {
      const o = deployment(ns, name)
      o.status = { ...o.status, readyReplicas, availableReplicas: readyReplicas }
      save("deployments", ns, o, "MODIFIED")
    },
    /** Simulates the deployment controller giving up (image pull errors, crash loops). */
    failDeployment: (ns: string, name: string, message: string) => {
      const o = deployment(ns, name)
      o.status = {
        ...o.status,
        readyReplicas: 0,
        conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message }]
      }
      save("deployments", ns, o, "MODIFIED")
    },
    /** A Node as the kubelet registers it: capacity = allocatable, Ready unless said otherwise. */
    addNode,
    /**
     * A Cluster API MachineDeployment whose replicas are Nodes of `shape` (labelled
     * `cluster.x-k8s.io/deployment-name=<name>`); its Nodes exist at once.
     */
    addMachineDeployment: (ns: string, name: string, replicas: number, shape: FakeNode = {}) => {
      machineShapes.set(`${ns}/${name}`, shape)
      return save(
        "machinedeployments",
        ns,
        {
          apiVersion: "cluster.x-k8s.io/v1beta1",
          kind: "MachineDeployment",
          metadata: { name, namespace: ns, uid: crypto.randomUUID(), creationTimestamp: new Date().toISOString() },
          spec: {
            clusterName: "test",
            replicas,
            selector: { matchLabels: { "cluster.x-k8s.io/deployment-name": name } }
          },
          status: {}
        },
        "ADDED"
      )
    },
    /**
     * The kubelet stops (or resumes) posting Ready; the node lifecycle controller taints a NotReady node
     * `node.kubernetes.io/not-ready:NoSchedule` and lifts the taint when it is Ready again.
     */
    setNodeReady: (name: string, ready: boolean) => {
      const n = store.get(key("nodes", "", name))
      if (!n) throw new Error(`no node ${name}`)
      const taints = ((n.spec?.["taints"] as Array<{ key: string; effect: string }> | undefined) ?? []).filter(
        (t) => t.key !== "node.kubernetes.io/not-ready"
      )
      n.spec = {
        ...n.spec,
        taints: ready ? taints : [...taints, { key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }]
      }
      n.status = {
        ...n.status,
        conditions: (n.status?.conditions ?? []).map((c) =>
          c["type"] === "Ready"
            ? {
                ...c,
                status: ready ? "True" : "False",
                reason: ready ? "KubeletReady" : "KubeletNotReady",
                lastTransitionTime: new Date().toISOString()
              }
            : c
        )
      }
      save("nodes", "", n, "MODIFIED")
    },
    /** A pod already bound to a node (a DaemonSet's, a ReplicaSet's, a bare one). */
    addPod: (ns: string, p: FakePod) =>
      save(
        "pods",
        ns,
        {
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            name: p.name,
            namespace: ns,
            uid: crypto.randomUUID(),
            creationTimestamp: new Date().toISOString(),
            labels: { ...(p.labels ?? {}) },
            ...(p.annotations ? { annotations: p.annotations } : {}),
            ...(p.owner ? { ownerReferences: [{ apiVersion: "apps/v1", kind: p.owner, name: `${p.name}-owner` }] } : {})
          },
          spec: {
            nodeName: p.nodeName,
            containers: [
              {
                name: "main",
                image: "example/app:1",
                resources: { requests: { cpu: p.cpu ?? "100m", memory: p.memory ?? "128Mi" } }
              }
            ]
          },
          status: {
            phase: p.phase ?? "Running",
            conditions: [{ type: "Ready", status: (p.ready ?? true) ? "True" : "False" }]
          }
        },
        "ADDED"
      ),
    /** A policy/v1 PodDisruptionBudget with `minAvailable` or `maxUnavailable` (a number or a percentage). */
    addPdb: (
      ns: string,
      name: string,
      spec: { matchLabels: Record<string, string>; minAvailable?: number | string; maxUnavailable?: number | string }
    ) =>
      save(
        "poddisruptionbudgets",
        ns,
        {
          apiVersion: "policy/v1",
          kind: "PodDisruptionBudget",
          metadata: { name, namespace: ns, uid: crypto.randomUUID() },
          spec: {
            selector: { matchLabels: spec.matchLabels },
            ...(spec.minAvailable !== undefined ? { minAvailable: spec.minAvailable } : {}),
            ...(spec.maxUnavailable !== undefined ? { maxUnavailable: spec.maxUnavailable } : {})
          }
        },
        "ADDED"
      ),
    /** Every eviction asked for, in order, with its grace period and what the server answered. */
    evictions,
    setMetrics: (mode: "on" | "off" | "unavailable") => {
      metrics = mode
    },
    /** What metrics-server reports for a node (default: the sum of its pods' requests). */
    setNodeUsage: (name: string, usage: { cpu: string; memory: string }) => {
      nodeUsage.set(name, usage)
    },
    /** Forgets history below the current version: older watches get 410 Gone. */
    compact: () => {
      compactedBelow = rv
    },
    dropWatches: () => {
      for (const w of [...watchers]) w.close()
    },
    /** The API server goes away (connections refused); state is kept. */
    stop: async () => {
      for (const w of [...watchers]) w.close()
      await server.stop(true)
    },
    /** Back on the same port. */
    restart: () => {
      server = Bun.serve({ hostname: "127.0.0.1", port, fetch: handle, idleTimeout: 0 })
    },
    kubeconfig: (namespace = "default") =>
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: test",
        "clusters:",
        `- name: fake\n  cluster:\n    server: ${url}`,
        "users:",
        `- name: tester\n  user:\n    token: ${token}`,
        "contexts:",
        `- name: test\n  context:\n    cluster: fake\n    user: tester\n    namespace: ${namespace}`
      ].join("\n")
  }
}

export type FakeKubeApiServer = ReturnType<typeof start>
