/**
 * The health check: every `healthCheck.interval` seconds (one run per tick
 * across replicas, by the platform's scheduler) it reads every node's Ready
 * condition, moves each node's hysteresis, keeps one history row per node
 * and tick, and announces changes as node-manager.node.unhealthy / recovered.
 */
import { Timestamps } from "@streamspace/core"
import { Events, Kubernetes, PluginSql } from "@streamspace/kernel"
import { Effect } from "effect"
import type { NodeManagerConfig } from "./Config.ts"
import * as Health from "./Health.ts"
import { isReady, type KList, type KNode, readyCondition } from "./Kube.ts"
import { NodeRecovered, NodeUnhealthy } from "./Events.ts"

export const check = (config: NodeManagerConfig) =>
  Effect.gen(function* () {
    const kube = yield* Kubernetes
    const sql = yield* PluginSql
    const events = yield* Events
    const nodes = yield* kube.request<KList<KNode>>("GET", "/api/v1/nodes")
    const at = yield* Timestamps.now
    const rows = yield* sql<{
      node: string
      status: "healthy" | "unhealthy"
      consecutive_failures: number
      consecutive_passes: number
    }>`SELECT node, status, consecutive_failures, consecutive_passes FROM node_health`
    const known = new Map(rows.map((r) => [r.node, r]))
    for (const n of nodes.items) {
      const name = n.metadata.name
      const ready = isReady(n)
      const cond = readyCondition(n)
      const reason = ready ? null : `${cond?.reason ?? "NoReadyCondition"}${cond?.message ? `: ${cond.message}` : ""}`
      const prev = known.get(name)
      const state = Health.next(
        prev && {
          status: prev.status,
          consecutiveFailures: prev.consecutive_failures,
          consecutivePasses: prev.consecutive_passes
        },
        ready,
        config.healthCheck
      )
      // A node first seen NotReady is announced too; a node first seen Ready is not news.
      const changed = prev === undefined ? state.status === "unhealthy" : prev.status !== state.status
      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`INSERT INTO node_health (node, status, ready, consecutive_failures, consecutive_passes, reason, changed_at, checked_at)
            VALUES (${name}, ${state.status}, ${ready}, ${state.consecutiveFailures}, ${state.consecutivePasses}, ${reason}, ${at}, ${at})
            ON CONFLICT (node) DO UPDATE SET status = EXCLUDED.status, ready = EXCLUDED.ready,
              consecutive_failures = EXCLUDED.consecutive_failures, consecutive_passes = EXCLUDED.consecutive_passes,
              reason = EXCLUDED.reason, checked_at = EXCLUDED.checked_at,
              changed_at = CASE WHEN node_health.status = EXCLUDED.status THEN node_health.changed_at ELSE EXCLUDED.changed_at END`
          yield* sql`INSERT INTO node_health_history (node, at, ready, status, reason) VALUES (${name}, ${at}, ${ready}, ${state.status}, ${reason})`
          if (changed && state.status === "unhealthy")
            yield* events.publish(NodeUnhealthy, { node: name, reason, consecutiveChecks: state.consecutiveFailures })
          if (changed && state.status === "healthy")
            yield* events.publish(NodeRecovered, {
              node: name,
              reason: null,
              consecutiveChecks: state.consecutivePasses
            })
        })
      )
    }
    // Nodes that left the cluster leave the current table; their history stays until it ages out.
    const names = nodes.items.map((n) => n.metadata.name)
    if (names.length === 0) yield* sql`DELETE FROM node_health`
    else yield* sql`DELETE FROM node_health WHERE node NOT IN ${sql.in(names)}`
    const cutoff = new Date(at.getTime() - config.healthCheck.historyDays * 86_400_000)
    yield* sql`DELETE FROM node_health_history WHERE at < ${cutoff}`
    yield* sql`DELETE FROM placements WHERE at < ${new Date(at.getTime() - 3_600_000)}`
  })
