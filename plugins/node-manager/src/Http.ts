/**
 * node-manager's routes under /api/plugins/node-manager: nodes (list, one),
 * stats, labels, taints, cordon, uncordon, a drain that respects sessions
 * (dry run, then cordon, hibernate the StreamSpace sessions through the
 * platform, evict the other pods through the Eviction API so that
 * PodDisruptionBudgets hold), health and its history, placement policies.
 * Every change is audited (the platform's audit row of each non-GET route,
 * naming the node) and drains are kept with what happened to each pod.
 */
import { Conflict, HttpRoute, NotFound, ServiceUnavailable, ValidationError } from "@streamspace/core"
import { Kubernetes, PluginSql, Routes } from "@streamspace/kernel"
import { Effect, Schema } from "effect"
import { getNode, type HealthRow, patchNode, problem, snapshot, summary, view } from "./Cluster.ts"
import type { NodeManagerConfig } from "./Config.ts"
import * as Drain from "./Drain.ts"
import { DrainResult } from "./Drain.ts"
import { HOSTNAME, type KNode, type Taint } from "./Kube.ts"

const READ = "node-manager:read"
const WRITE = "node-manager:write"

/** A node name: a DNS subdomain (RFC 1123). */
const NodeName = Schema.String.pipe(
  Schema.maxLength(253),
  Schema.pattern(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: () => "a node name (lowercase DNS subdomain)" })
)
/** A label or taint key: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
const QualifiedName = Schema.String.pipe(
  Schema.maxLength(317),
  Schema.pattern(/^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, {
    message: () => "a qualified name: [prefix/]name, name ≤ 63 of letters, digits, '-', '_', '.'"
  })
)
const LabelValue = Schema.String.pipe(
  Schema.pattern(/^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/, {
    message: () => "a label value: at most 63 letters, digits, '-', '_', '.', beginning and ending alphanumeric"
  })
)
const TaintEffect = Schema.Literal("NoSchedule", "PreferNoSchedule", "NoExecute")
const NameParams = Schema.Struct({ name: NodeName })

const Resources = Schema.Struct({ cpuMillis: Schema.Number, memoryBytes: Schema.Number })
const NodeViewSchema = Schema.Struct({
  name: Schema.String,
  ready: Schema.Boolean,
  readyReason: Schema.NullOr(Schema.String),
  schedulable: Schema.Boolean,
  labels: Schema.Record({ key: Schema.String, value: Schema.String }),
  taints: Schema.Array(
    Schema.Struct({ key: Schema.String, value: Schema.NullOr(Schema.String), effect: Schema.String })
  ),
  conditions: Schema.Array(
    Schema.Struct({
      type: Schema.String,
      status: Schema.String,
      reason: Schema.NullOr(Schema.String),
      message: Schema.NullOr(Schema.String),
      lastTransitionTime: Schema.NullOr(Schema.String)
    })
  ),
  capacity: Schema.Struct({ cpuMillis: Schema.Number, memoryBytes: Schema.Number, pods: Schema.Number }),
  allocatable: Schema.Struct({ cpuMillis: Schema.Number, memoryBytes: Schema.Number, pods: Schema.Number }),
  requested: Resources,
  pods: Schema.Number,
  sessions: Schema.Array(
    Schema.Struct({
      sessionId: Schema.String,
      userId: Schema.NullOr(Schema.String),
      pod: Schema.String,
      namespace: Schema.String
    })
  ),
  usage: Schema.Union(
    Schema.Struct({
      state: Schema.Literal("available"),
      cpuMillis: Schema.Number,
      memoryBytes: Schema.Number,
      cpuPercent: Schema.NullOr(Schema.Number),
      memoryPercent: Schema.NullOr(Schema.Number)
    }),
    Schema.Struct({ state: Schema.Literal("no-metrics"), reason: Schema.String })
  ),
  health: Schema.Struct({
    status: Schema.Literal("healthy", "unhealthy", "unknown"),
    consecutiveFailures: Schema.Number,
    consecutivePasses: Schema.Number,
    since: Schema.NullOr(Schema.String),
    checkedAt: Schema.NullOr(Schema.String)
  }),
  info: Schema.Record({ key: Schema.String, value: Schema.String }),
  hostname: Schema.String,
  repelled: Schema.Boolean,
  createdAt: Schema.NullOr(Schema.String)
})
const Usage = Schema.Union(
  Schema.Struct({ state: Schema.Literal("available"), cpuMillis: Schema.Number, memoryBytes: Schema.Number }),
  Schema.Struct({ state: Schema.Literal("no-metrics"), reason: Schema.String })
)
const Summary = Schema.Struct({
  totalNodes: Schema.Number,
  readyNodes: Schema.Number,
  notReadyNodes: Schema.Number,
  cordonedNodes: Schema.Number,
  unhealthyNodes: Schema.Number,
  totalPods: Schema.Number,
  sessions: Schema.Number,
  capacity: Resources,
  allocatable: Resources,
  requested: Resources,
  usage: Usage
})
const NodeChange = Schema.Struct({
  name: Schema.String,
  schedulable: Schema.Boolean,
  labels: Schema.Record({ key: Schema.String, value: Schema.String }),
  taints: Schema.Array(
    Schema.Struct({ key: Schema.String, value: Schema.NullOr(Schema.String), effect: Schema.String })
  )
})

const changeOf = (n: {
  metadata: { name: string; labels?: Record<string, string> }
  spec?: { unschedulable?: boolean; taints?: ReadonlyArray<Taint> }
}) => ({
  name: n.metadata.name,
  schedulable: n.spec?.unschedulable !== true,
  labels: n.metadata.labels ?? {},
  taints: (n.spec?.taints ?? []).map((t) => ({ key: t.key, value: t.value ?? null, effect: t.effect }))
})

export const make = (config: NodeManagerConfig) =>
  Effect.gen(function* () {
    const kube = yield* Kubernetes
    const sql = yield* PluginSql
    const routes = yield* Routes
    const unavailable = (e: Parameters<typeof problem>[0]) => problem(e, "cluster", "")

    const healthRows = sql<HealthRow>`SELECT node, status, consecutive_failures, consecutive_passes, changed_at, checked_at FROM node_health`
    const views = Effect.gen(function* () {
      const snap = yield* snapshot(kube, true).pipe(Effect.catchAll(unavailable))
      const health = yield* healthRows
      const items = snap.nodes
        .map((n) =>
          view(
            snap,
            n,
            health.find((h) => h.node === n.metadata.name)
          )
        )
        .sort((a, b) => a.name.localeCompare(b.name))
      return { snap, items }
    })

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/nodes",
        summary: "Nodes with capacity, allocatable, conditions, labels, taints, sessions, usage and health",
        permission: READ,
        response: Schema.Struct({ items: Schema.Array(NodeViewSchema), summary: Summary }),
        errors: [ServiceUnavailable, NotFound, Conflict],
        handler: () => Effect.map(views, ({ snap, items }) => ({ items, summary: summary(items, snap) }))
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/stats",
        summary: "Cluster summary: nodes by state, pods, sessions, capacity, allocatable, requests, usage",
        permission: READ,
        response: Summary,
        errors: [ServiceUnavailable, NotFound, Conflict],
        handler: () => Effect.map(views, ({ snap, items }) => summary(items, snap))
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/nodes/:name",
        summary: "One node",
        permission: READ,
        params: NameParams,
        response: NodeViewSchema,
        errors: [ServiceUnavailable, NotFound, Conflict],
        handler: ({ params }) =>
          Effect.gen(function* () {
            const { items } = yield* views
            const v = items.find((i) => i.name === params.name)
            if (!v) return yield* new NotFound({ resource: "node", id: params.name })
            return v
          })
      })
    )

    /** Reads the node, asks `edit` for a merge patch, applies it guarded by the node's resourceVersion (a concurrent change is a 409). */
    const apply = (
      name: string,
      edit: (node: KNode) => Effect.Effect<Record<string, unknown>, ValidationError | NotFound>
    ) =>
      Effect.gen(function* () {
        const node = yield* getNode(kube, name)
        const patch = yield* edit(node)
        const patched = yield* patchNode(kube, node.metadata.name, {
          ...patch,
          metadata: {
            ...((patch["metadata"] as object | undefined) ?? {}),
            resourceVersion: node.metadata.resourceVersion
          }
        })
        return changeOf(patched)
      })
    const common = {
      permission: WRITE,
      response: NodeChange,
      // Only Kubernetes is written: no plugin transaction to hold open meanwhile.
      transactional: false,
      errors: [ServiceUnavailable, NotFound, Conflict, ValidationError]
    } as const
    const reserved = (key: string, path: string) =>
      key === HOSTNAME
        ? Effect.fail(
            ValidationError.field(path, `${HOSTNAME} is how sessions are placed on a node; it cannot be changed here`)
          )
        : Effect.void
    const KeyParams = Schema.Struct({ name: NodeName, key: QualifiedName })

    yield* routes.add(
      HttpRoute.make({
        ...common,
        method: "PUT",
        path: "/nodes/:name/labels",
        summary: "Set a label on a node",
        params: NameParams,
        body: Schema.Struct({ key: QualifiedName, value: LabelValue }),
        audit: { action: "node-manager.label.set", target: (input) => input.params.name },
        handler: ({ params, body }) =>
          apply(params.name, () =>
            Effect.as(reserved(body.key, "body.key"), { metadata: { labels: { [body.key]: body.value } } })
          )
      })
    )
    yield* routes.add(
      HttpRoute.make({
        ...common,
        method: "DELETE",
        path: "/nodes/:name/labels/:key",
        summary: "Remove a label from a node",
        params: KeyParams,
        audit: { action: "node-manager.label.remove", target: (input) => input.params.name },
        handler: ({ params }) =>
          apply(params.name, (node) =>
            Effect.gen(function* () {
              yield* reserved(params.key, "params.key")
              if (node.metadata.labels?.[params.key] === undefined)
                return yield* new NotFound({ resource: "label", id: params.key })
              return { metadata: { labels: { [params.key]: null } } }
            })
          )
      })
    )
    yield* routes.add(
      HttpRoute.make({
        ...common,
        method: "POST",
        path: "/nodes/:name/taints",
        summary: "Add (or replace) a taint on a node",
        params: NameParams,
        body: Schema.Struct({
          key: QualifiedName,
          value: Schema.optionalWith(LabelValue, { default: () => "" }),
          effect: TaintEffect
        }),
        audit: { action: "node-manager.taint.add", target: (input) => input.params.name },
        handler: ({ params, body }) =>
          apply(params.name, (node) =>
            Effect.succeed({
              spec: {
                taints: [
                  ...(node.spec?.taints ?? []).filter((t) => !(t.key === body.key && t.effect === body.effect)),
                  { key: body.key, ...(body.value ? { value: body.value } : {}), effect: body.effect }
                ]
              }
            })
          )
      })
    )
    yield* routes.add(
      HttpRoute.make({
        ...common,
        method: "DELETE",
        path: "/nodes/:name/taints/:key",
        summary: "Remove a taint from a node (every effect, or only `?effect=`)",
        params: KeyParams,
        query: Schema.Struct({ effect: Schema.optional(TaintEffect) }),
        audit: { action: "node-manager.taint.remove", target: (input) => input.params.name },
        handler: ({ params, query }) =>
          apply(params.name, (node) =>
            Effect.gen(function* () {
              const taints = node.spec?.taints ?? []
              const left = taints.filter(
                (t) => !(t.key === params.key && (query.effect === undefined || t.effect === query.effect))
              )
              if (left.length === taints.length) return yield* new NotFound({ resource: "taint", id: params.key })
              return { spec: { taints: left } }
            })
          )
      })
    )
    for (const [verb, unschedulable] of [
      ["cordon", true],
      ["uncordon", null]
    ] as const)
      yield* routes.add(
        HttpRoute.make({
          ...common,
          method: "POST",
          path: `/nodes/:name/${verb}`,
          summary: unschedulable ? "Mark a node unschedulable" : "Mark a node schedulable again",
          params: NameParams,
          audit: { action: `node-manager.${verb}`, target: (input) => input.params.name },
          handler: ({ params }) => apply(params.name, () => Effect.succeed({ spec: { unschedulable } }))
        })
      )

    const drains = yield* Drain.make
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/nodes/:name/drain",
        summary:
          "Drain a node: cordon; hibernate its sessions (or notify their owners and wait); evict other pods honouring PodDisruptionBudgets, retrying blocked ones (dryRun: plan only)",
        permission: WRITE,
        params: NameParams,
        body: Schema.Struct({
          dryRun: Schema.optionalWith(Schema.Boolean, { default: () => false }),
          gracePeriodSeconds: Schema.optional(Schema.Int.pipe(Schema.between(0, 3600))),
          mode: Schema.optional(Schema.Literal("hibernate", "notify")),
          waitSeconds: Schema.optional(Schema.Int.pipe(Schema.between(0, 86_400))),
          retrySeconds: Schema.optional(Schema.Int.pipe(Schema.between(0, 86_400)))
        }),
        response: DrainResult,
        transactional: false,
        audit: { action: "node-manager.drain", target: (input) => input.params.name },
        errors: [ServiceUnavailable, NotFound, Conflict],
        handler: ({ params, body, actor }) =>
          Effect.gen(function* () {
            const node = yield* getNode(kube, params.name)
            return yield* drains
              .start(
                { name: node.metadata.name, cordoned: node.spec?.unschedulable === true },
                {
                  dryRun: body.dryRun,
                  mode: body.mode ?? config.drain.mode,
                  gracePeriodSeconds: body.gracePeriodSeconds ?? config.drain.gracePeriodSeconds,
                  waitSeconds: body.waitSeconds ?? config.drain.waitSeconds,
                  retrySeconds: body.retrySeconds ?? config.drain.retrySeconds
                },
                actor
              )
              .pipe(
                Effect.catchTag("KubernetesError", unavailable),
                Effect.catchTag("PlatformAccessDenied", unavailable)
              )
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/health",
        summary: "Each node's health (with hysteresis) and its recent checks",
        permission: READ,
        query: Schema.Struct({
          node: Schema.optional(NodeName),
          limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000)), {
            default: () => 100
          })
        }),
        response: Schema.Struct({
          nodes: Schema.Array(
            Schema.Struct({
              node: Schema.String,
              status: Schema.String,
              consecutiveFailures: Schema.Number,
              consecutivePasses: Schema.Number,
              since: Schema.Date,
              checkedAt: Schema.Date
            })
          ),
          history: Schema.Array(
            Schema.Struct({
              node: Schema.String,
              at: Schema.Date,
              ready: Schema.Boolean,
              status: Schema.String,
              reason: Schema.NullOr(Schema.String)
            })
          )
        }),
        handler: ({ query }) =>
          Effect.gen(function* () {
            const nodes = yield* healthRows
            const history = yield* query.node
              ? sql<{
                  node: string
                  at: Date
                  ready: boolean
                  status: string
                  reason: string | null
                }>`SELECT node, at, ready, status, reason FROM node_health_history WHERE node = ${query.node} ORDER BY at DESC, id DESC LIMIT ${query.limit}`
              : sql<{
                  node: string
                  at: Date
                  ready: boolean
                  status: string
                  reason: string | null
                }>`SELECT node, at, ready, status, reason FROM node_health_history ORDER BY at DESC, id DESC LIMIT ${query.limit}`
            return {
              nodes: nodes
                .filter((n) => !query.node || n.node === query.node)
                .map((n) => ({
                  node: n.node,
                  status: n.status,
                  consecutiveFailures: n.consecutive_failures,
                  consecutivePasses: n.consecutive_passes,
                  since: n.changed_at,
                  checkedAt: n.checked_at
                })),
              history: history.map((h) => ({ ...h }))
            }
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/policies",
        summary: "The placement strategy and policies in force (edit them in the plugin's config)",
        permission: READ,
        response: Schema.Struct({
          enabled: Schema.Boolean,
          strategy: Schema.String,
          onNoCandidate: Schema.String,
          policies: Schema.Array(
            Schema.Struct({
              name: Schema.String,
              strategy: Schema.NullOr(Schema.String),
              roles: Schema.Array(Schema.String),
              groups: Schema.Array(Schema.String)
            })
          )
        }),
        handler: () =>
          Effect.succeed({
            enabled: config.placement.enabled,
            strategy: config.placement.strategy,
            onNoCandidate: config.placement.onNoCandidate,
            policies: config.placement.policies.map((p) => ({
              name: p.name,
              strategy: p.strategy ?? null,
              roles: p.roles,
              groups: p.groups
            }))
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/drains",
        summary:
          "Recent drains (dry runs included) with what happened to each pod, and whether they still wait or retry",
        permission: READ,
        response: Schema.Struct({
          items: Schema.Array(
            Schema.Struct({ result: DrainResult, actor: Schema.NullOr(Schema.String), at: Schema.Date })
          )
        }),
        handler: () =>
          Effect.map(
            sql<{
              result: unknown
              actor: string | null
              at: Date
            }>`SELECT result, actor, at FROM drains ORDER BY at DESC LIMIT 50`,
            (rows) => ({
              items: rows.map((r) => ({
                result: Schema.decodeUnknownSync(DrainResult)(
                  typeof r.result === "string" ? JSON.parse(r.result) : r.result
                ),
                actor: r.actor,
                at: r.at
              }))
            })
          )
      })
    )
  })
