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
 */

type Kind = "deployments" | "services" | "persistentvolumeclaims"

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
  persistentvolumeclaims: { apiVersion: "v1", kind: "PersistentVolumeClaim", prefix: "/api/v1" }
}

const route =
  /^\/(?:apis\/apps\/v1|api\/v1)\/namespaces\/([^/]+)\/(deployments|services|persistentvolumeclaims)(?:\/([^/]+))?$/

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

export interface FakeKubeApiServerOptions {
  readonly token?: string
  /** Deployments become ready (or scale down) as soon as their replicas change. */
  readonly autoReady?: boolean
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
    return object
  }

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url)
    requests.push({ method: req.method, path: url.pathname + url.search, contentType: req.headers.get("content-type") })
    if (req.headers.get("authorization") !== `Bearer ${token}`) return statusOf(401, "Unauthorized", "Unauthorized")
    const m = route.exec(url.pathname)
    if (!m) return statusOf(404, "NotFound", `the server could not find the requested resource (${url.pathname})`)
    const [, ns, kindName, name] = m as unknown as [string, string, Kind, string | undefined]
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
            namespace: ns,
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
        const items = [...store.entries()]
          .filter(([sk, o]) => sk.startsWith(`${kindName}/${ns}/`) && matches(o, selector))
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
        const patched = mergePatch(o, await req.json()) as KubeObject
        if (kindName === "deployments") settle(patched)
        return Response.json(save(kindName, ns, patched, "MODIFIED"))
      }
      case "DELETE": {
        const o = store.get(k)
        if (!o) return statusOf(404, "NotFound", `${kindName} "${name}" not found`)
        store.delete(k)
        o.metadata.resourceVersion = String(++rv)
        emit("DELETED", kindName, ns, o)
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
    get: (kind: Kind, ns: string, name: string) => store.get(key(kind, ns, name)),
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
