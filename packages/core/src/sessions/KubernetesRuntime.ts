/**
 * The `kubernetes` runtime: per session one Deployment (replicas 1;
 * hibernate = scale to 0, wake = scale to 1 with the node selector placement
 * chose again) and one Service for its ports,
 * plus the user's home PersistentVolumeClaim, kept across sessions.
 * Namespace, storage class, home size, image pull secrets and labels come
 * from `sessions.kubernetes`. Status comes from a LIST then WATCH of
 * StreamSpace's Deployments; a dropped watch, a 410 Gone or the periodic
 * resync re-lists, so changes made while the API was unreachable are seen.
 */
import { Duration, Effect, Layer, PubSub, Schedule, Stream } from "effect"
import { ServerConfig } from "../ServerConfig.ts"
import * as KubeClient from "./KubeClient.ts"
import {
  type ObservedStatus,
  RuntimeError,
  SessionRuntime,
  type SessionWorkload,
  type WakeOptions
} from "./SessionRuntime.ts"

const MANAGED = "app.kubernetes.io/managed-by"
const SESSION = "streamspace.io/session"
const USER = "streamspace.io/user"
const VNC_PORT = "streamspace.io/vnc-port"

export const workloadName = (sessionId: string) =>
  `ss-${sessionId.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`.slice(0, 63).replace(/-+$/, "")
export const homeClaimName = (userId: string) =>
  `home-${userId.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`.slice(0, 63).replace(/-+$/, "")

interface Deployment {
  readonly metadata: {
    readonly name: string
    readonly labels?: Record<string, string>
    readonly annotations?: Record<string, string>
    readonly deletionTimestamp?: string
    readonly resourceVersion?: string
  }
  readonly spec?: {
    readonly replicas?: number
    readonly template?: { readonly spec?: { readonly nodeSelector?: Readonly<Record<string, string>> } }
  }
  readonly status?: {
    readonly replicas?: number
    readonly readyReplicas?: number
    readonly conditions?: ReadonlyArray<{
      readonly type: string
      readonly status: string
      readonly reason?: string
      readonly message?: string
    }>
  }
}

interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR"
  readonly object: Deployment & KubeClient.KubeStatus & { readonly metadata?: { readonly resourceVersion?: string } }
}

/**
 * The JSON merge patch (RFC 7386) that scales a hibernated Deployment back to 1 with `next` as its pod's
 * node selector, in one request. A merge patch merges maps, so keys of `current` that `next` lacks are
 * removed with null. Only what changes is sent: with the selector unchanged the patch is the replicas
 * alone; a changed one is guarded by the `resourceVersion` `current` was read at.
 */
export const wakePatch = (
  current: Readonly<Record<string, string>>,
  next: Readonly<Record<string, string>>,
  resourceVersion: string | undefined
) => {
  const selector: Record<string, string | null> = {}
  for (const k of Object.keys(current)) if (!Object.hasOwn(next, k)) selector[k] = null
  for (const [k, v] of Object.entries(next)) if (current[k] !== v) selector[k] = v
  if (Object.keys(selector).length === 0) return { spec: { replicas: 1 } }
  return {
    ...(resourceVersion === undefined ? {} : { metadata: { resourceVersion } }),
    spec: { replicas: 1, template: { spec: { nodeSelector: selector } } }
  }
}

/** What a Deployment says about its session. */
export const observe = (d: Deployment, namespace: string, deleted = false): ObservedStatus | undefined => {
  const sessionId = d.metadata.labels?.[SESSION]
  if (!sessionId) return undefined
  if (deleted || d.metadata.deletionTimestamp)
    return { sessionId, state: "terminated", reason: "the workload was deleted" }
  const failed = d.status?.conditions?.find(
    (c) =>
      (c.type === "Progressing" && c.status === "False" && c.reason === "ProgressDeadlineExceeded") ||
      (c.type === "ReplicaFailure" && c.status === "True")
  )
  if (failed)
    return {
      sessionId,
      state: "failed",
      reason: `${failed.reason ?? failed.type}: ${failed.message ?? "the workload did not become ready"}`
    }
  const wanted = d.spec?.replicas ?? 1
  if (wanted === 0)
    return (d.status?.replicas ?? 0) === 0 ? { sessionId, state: "hibernated" } : { sessionId, state: "pending" }
  if ((d.status?.readyReplicas ?? 0) >= 1) {
    const port = Number(d.metadata.annotations?.[VNC_PORT] ?? 5900)
    return { sessionId, state: "running", endpoint: { host: `${d.metadata.name}.${namespace}.svc`, port } }
  }
  return { sessionId, state: "pending" }
}

export const KubernetesRuntimeLive = Layer.scoped(
  SessionRuntime,
  Effect.gen(function* () {
    const config = yield* ServerConfig
    const k8s = config.sessions.kubernetes
    const auth = yield* Effect.try({
      try: () => KubeClient.authFrom(k8s),
      catch: (e) => new Error(`kubernetes runtime: ${e instanceof Error ? e.message : String(e)}`)
    }).pipe(Effect.orDie)
    const kube = KubeClient.make(auth)
    const ns = k8s.namespace
    const hub = yield* PubSub.unbounded<ObservedStatus>()
    const subscription = yield* PubSub.subscribe(hub)

    const fail = (operation: string, sessionId: string) => (e: KubeClient.KubeError) =>
      new RuntimeError({ operation, sessionId, message: e.message, retryable: e.retryable })
    /** Create that treats AlreadyExists as done, so a retried create is idempotent. */
    const ensure = (path: string, body: unknown) =>
      kube.request("POST", path, body).pipe(
        Effect.catchIf(
          (e) => e.status === 409 && e.reason === "AlreadyExists",
          () => Effect.void
        ),
        Effect.asVoid
      )
    const gone = (e: KubeClient.KubeError) => e.status === 404
    const labels = (w: SessionWorkload) => ({
      ...k8s.labels,
      [MANAGED]: "streamspace",
      [SESSION]: w.sessionId,
      [USER]: w.userId
    })
    const deployments = `/apis/apps/v1/namespaces/${ns}/deployments`
    const services = `/api/v1/namespaces/${ns}/services`
    const claims = `/api/v1/namespaces/${ns}/persistentvolumeclaims`
    const scale = (operation: string, id: string, replicas: number) =>
      kube
        .request("PATCH", `${deployments}/${workloadName(id)}`, { spec: { replicas } }, "application/merge-patch+json")
        .pipe(Effect.asVoid, Effect.mapError(fail(operation, id)))

    const create = (w: SessionWorkload) =>
      Effect.gen(function* () {
        const name = workloadName(w.sessionId)
        const claim = homeClaimName(w.userId)
        const resources = { cpu: `${w.cpu}m`, memory: `${w.memory}Mi` }
        if (w.persistentHome) {
          yield* ensure(claims, {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: {
              name: claim,
              namespace: ns,
              labels: { ...k8s.labels, [MANAGED]: "streamspace", [USER]: w.userId }
            },
            spec: {
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: k8s.homeSize } },
              ...(k8s.storageClass ? { storageClassName: k8s.storageClass } : {})
            }
          })
        }
        const ports = [w.vncPort, ...w.ports.filter((p) => p !== w.vncPort)]
        yield* ensure(services, {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name, namespace: ns, labels: labels(w) },
          spec: {
            type: "ClusterIP",
            selector: { [SESSION]: w.sessionId },
            ports: ports.map((port, i) => ({ name: i === 0 ? "vnc" : `port-${port}`, port, targetPort: port }))
          }
        })
        yield* ensure(deployments, {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name, namespace: ns, labels: labels(w), annotations: { [VNC_PORT]: String(w.vncPort) } },
          spec: {
            replicas: 1,
            progressDeadlineSeconds: 600,
            selector: { matchLabels: { [SESSION]: w.sessionId } },
            template: {
              metadata: { labels: labels(w) },
              spec: {
                ...(k8s.imagePullSecrets.length
                  ? { imagePullSecrets: k8s.imagePullSecrets.map((n) => ({ name: n })) }
                  : {}),
                ...(Object.keys(w.nodeSelector).length ? { nodeSelector: w.nodeSelector } : {}),
                containers: [
                  {
                    name: "desktop",
                    image: w.image,
                    env: Object.entries({
                      ...w.env,
                      STREAMSPACE_SESSION_ID: w.sessionId,
                      STREAMSPACE_USER: w.username
                    }).map(([n, value]) => ({ name: n, value })),
                    ports: ports.map((port) => ({ containerPort: port })),
                    resources: { requests: resources, limits: resources },
                    volumeMounts: [{ name: "home", mountPath: "/home/streamspace" }]
                  }
                ],
                volumes: [
                  w.persistentHome
                    ? { name: "home", persistentVolumeClaim: { claimName: claim } }
                    : { name: "home", emptyDir: {} }
                ]
              }
            }
          }
        })
      }).pipe(Effect.mapError(fail("create", w.sessionId)))

    /**
     * Scale to 1 with the selector placement chose now, replacing the one chosen before: the patch is
     * computed from the Deployment as read just before, and a write in between (409) reads again. A
     * Deployment already scaled up (a retried wake whose request went through) is left alone: a new
     * selector would restart its pod.
     */
    const wake = (id: string, { nodeSelector }: WakeOptions) => {
      const path = `${deployments}/${workloadName(id)}`
      return kube.request<Deployment>("GET", path).pipe(
        Effect.flatMap((d) =>
          (d.spec?.replicas ?? 1) > 0
            ? Effect.void
            : kube.request(
                "PATCH",
                path,
                wakePatch(d.spec?.template?.spec?.nodeSelector ?? {}, nodeSelector, d.metadata.resourceVersion),
                "application/merge-patch+json"
              )
        ),
        Effect.retry({ times: 2, while: (e) => e.status === 409 }),
        Effect.asVoid,
        Effect.mapError(fail("wake", id))
      )
    }

    const remove = (id: string) =>
      Effect.forEach(
        [`${deployments}/${workloadName(id)}`, `${services}/${workloadName(id)}`],
        (path) => kube.request("DELETE", path).pipe(Effect.catchIf(gone, () => Effect.void)),
        { discard: true }
      ).pipe(Effect.mapError(fail("remove", id)))

    const status = (id: string) =>
      kube.request<Deployment>("GET", `${deployments}/${workloadName(id)}`).pipe(
        Effect.map((d) => observe(d, ns) ?? { sessionId: id, state: "pending" as const }),
        Effect.catchIf(gone, () => Effect.succeed<ObservedStatus>({ sessionId: id, state: "terminated" })),
        Effect.mapError(fail("status", id))
      )

    // LIST, then WATCH from its resourceVersion; any end or error re-lists (after backoff).
    const selector = encodeURIComponent(`${MANAGED}=streamspace`)
    const known = new Set<string>()
    const reconcile = Effect.gen(function* () {
      const list = yield* kube.request<{ metadata: { resourceVersion: string }; items: ReadonlyArray<Deployment> }>(
        "GET",
        `${deployments}?labelSelector=${selector}`
      )
      const seen = new Set<string>()
      for (const d of list.items) {
        const s = observe(d, ns)
        if (!s) continue
        seen.add(s.sessionId)
        yield* PubSub.publish(hub, s)
      }
      // Deleted while we were not watching.
      for (const id of known)
        if (!seen.has(id))
          yield* PubSub.publish(hub, { sessionId: id, state: "terminated", reason: "the workload was deleted" })
      known.clear()
      for (const id of seen) known.add(id)
      yield* kube
        .watch<WatchEvent>(
          `${deployments}?labelSelector=${selector}&watch=1&allowWatchBookmarks=true&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=${k8s.resyncSeconds}`
        )
        .pipe(
          Stream.runForEach((event) =>
            Effect.gen(function* () {
              if (event.type === "ERROR") {
                return yield* new KubeClient.KubeError({
                  status: event.object.code ?? null,
                  reason: event.object.reason ?? "WatchError",
                  message: event.object.message ?? "watch error",
                  retryable: true
                })
              }
              if (event.type === "BOOKMARK") return
              const s = observe(event.object, ns, event.type === "DELETED")
              if (!s) return
              if (event.type === "DELETED") known.delete(s.sessionId)
              else known.add(s.sessionId)
              yield* PubSub.publish(hub, s)
            })
          )
        )
    })
    yield* reconcile.pipe(
      Effect.tapError((e) => Effect.logWarning(`kubernetes watch: ${e.message}; re-listing`)),
      Effect.retry(Schedule.exponential(Duration.millis(500)).pipe(Schedule.union(Schedule.spaced("30 seconds")))),
      Effect.forever,
      Effect.forkScoped
    )
    yield* Effect.logInfo(`session runtime: kubernetes at ${auth.server}, namespace ${ns}`)

    return {
      kind: "kubernetes" as const,
      create,
      hibernate: (id) => scale("hibernate", id, 0),
      wake,
      remove,
      status,
      changes: Stream.fromQueue(subscription)
    }
  })
)
