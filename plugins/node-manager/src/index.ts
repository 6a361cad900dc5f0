/**
 * node-manager: the Kubernetes nodes the `kubernetes` session runtime uses —
 * nodes, usage and a cluster summary; labels, taints, cordon and a drain that
 * hibernates StreamSpace sessions and evicts other pods honouring
 * PodDisruptionBudgets; a health check with history and hysteresis; and the
 * `session.placement` hook with six strategies and per-role/group policies;
 * autoscaling policies evaluated by a job (recommendations, or a Cluster API
 * MachineDeployment's replicas); drains that notify owners and wait, and
 * retry evictions a PodDisruptionBudget blocked.
 * It reaches the cluster through the platform's Kubernetes client and
 * hibernates sessions through the platform (both granted below).
 */
import { definePlugin, Events, Hooks, Scheduler } from "@streamspace/kernel"
import { Effect, Layer } from "effect"
import { PluginConfig } from "@streamspace/kernel"
import migration from "../migrations/0001_node_manager.sql" with { type: "text" }
import migration2 from "../migrations/0002_autoscaling_drains.sql" with { type: "text" }
import * as Autoscaling from "./Autoscaling.ts"
import * as AutoscalingHttp from "./AutoscalingHttp.ts"
import { NodeManagerConfig } from "./Config.ts"
import * as Drain from "./Drain.ts"
import { DrainNotice, NodeDrained, NodeRecovered, NodeUnhealthy, ScalingRecommended } from "./Events.ts"
import * as HealthJob from "./HealthJob.ts"
import * as Http from "./Http.ts"
import * as Placer from "./Placer.ts"

export { NodeManagerConfig } from "./Config.ts"
export { DrainNotice, NodeDrained, NodeRecovered, NodeUnhealthy, ScalingRecommended } from "./Events.ts"
export * as Autoscaling from "./Autoscaling.ts"
export * as Placement from "./Placement.ts"
export * as Health from "./Health.ts"

const NodeManagerLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    const config = yield* PluginConfig.get(NodeManagerConfig)
    yield* Http.make(config)
    const place = yield* Placer.make(config)
    yield* (yield* Hooks).intercept("session.placement", place, { timeoutMs: 5000 })
    yield* AutoscalingHttp.make
    const scheduler = yield* Scheduler
    /** A job in the plugin's context (its services), failing loudly so the run is recorded as failed. */
    const job = <E, R>(name: string, every: number, effect: Effect.Effect<void, E, R>) =>
      Effect.gen(function* () {
        const context = yield* Effect.context<R>()
        yield* scheduler.schedule(
          name,
          { every: `${every} seconds` },
          effect.pipe(Effect.provide(context), Effect.orDie)
        )
      })
    if (config.healthCheck.enabled) yield* job("health-check", config.healthCheck.interval, HealthJob.check(config))
    if (config.autoscaling.enabled) yield* job("autoscaling", config.autoscaling.interval, Autoscaling.evaluate(config))
    const drains = yield* Drain.make
    yield* job("drains", config.drain.checkInterval, drains.advance)
  })
)

export default definePlugin({
  id: "node-manager",
  name: "Node manager",
  version: "1.0.0",
  type: "extension",
  category: "infrastructure",
  description:
    "Kubernetes nodes: health with history, labels, taints, cordon, drain that respects live sessions, placement strategies",
  permissions: [
    {
      name: "node-manager:read",
      description: "See nodes, their health, drains and placement policies",
      roles: ["operator"]
    },
    {
      name: "node-manager:write",
      description: "Label, taint, cordon, uncordon and drain nodes; edit autoscaling policies"
    }
  ],
  grants: ["kubernetes", "sessions"],
  config: NodeManagerConfig,
  migrations: [
    { id: 1, name: "node_manager", sql: migration },
    { id: 2, name: "autoscaling_drains", sql: migration2 }
  ],
  ui: [
    {
      kind: "widget",
      id: "node-manager-cluster-health",
      title: "Cluster health",
      component: "ui/ClusterHealthWidget.tsx",
      width: "small",
      permissions: ["node-manager:read"]
    },
    {
      kind: "page",
      id: "node-manager-nodes",
      title: "Nodes",
      path: "nodes",
      nav: "admin",
      permissions: ["node-manager:read"],
      component: "ui/NodesPage.tsx"
    }
  ],
  events: Events.declare(NodeUnhealthy, NodeRecovered, NodeDrained, DrainNotice, ScalingRecommended),
  layer: NodeManagerLive
})
