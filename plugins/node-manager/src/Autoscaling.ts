/**
 * Autoscaling policies: each names a group of nodes (a label selector), its
 * bounds, when to scale up (pending session pods, or requests above a share
 * of allocatable, for `checks` evaluations in a row), when to scale down
 * (below a share with nothing pending, as many checks), a cooldown between
 * decisions, and an action. The job evaluates every enabled policy once per
 * tick across replicas, records each decision with its reason in
 * `scaling_history` and publishes `node-manager.scaling.recommended`.
 *
 * Actions: `recommend` (record and announce only) and `cluster-api` (set
 * `spec.replicas` of a Cluster API MachineDeployment with a merge patch: the
 * MachineSet controller and the infrastructure provider add or remove the
 * machines). Other actuators (cluster-autoscaler annotations, Karpenter
 * NodePool limits, cloud APIs) are documented, not implemented.
 */
import { Timestamps } from "@streamspace/core"
import { Events, Kubernetes, PluginSql } from "@streamspace/kernel"
import { Effect, Schema } from "effect"
import { type Kube, requestedOn, snapshot } from "./Cluster.ts"
import type { NodeManagerConfig } from "./Config.ts"
import { ScalingRecommended } from "./Events.ts"
import { isReady, quantity } from "./Kube.ts"

const Labels = Schema.Record({ key: Schema.String, value: Schema.String })
const DnsLabel = Schema.String.pipe(
  Schema.maxLength(63),
  Schema.pattern(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: () => "a DNS label (lowercase, digits, '-')" })
)
const DnsSubdomain = Schema.String.pipe(
  Schema.maxLength(253),
  Schema.pattern(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: () => "a DNS subdomain (lowercase, digits, '-', '.')" })
)

export const Action = Schema.Union(
  Schema.Struct({ kind: Schema.Literal("recommend") }),
  Schema.Struct({ kind: Schema.Literal("cluster-api"), namespace: DnsLabel, name: DnsSubdomain })
)
export type Action = typeof Action.Type

export const PolicyBody = Schema.Struct({
  name: Schema.String.pipe(
    Schema.pattern(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: () => "lowercase letters, digits and '-' (≤ 63)" })
  ),
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** The nodes this policy counts and scales (every node when empty). */
  nodeSelector: Schema.optionalWith(Labels, { default: () => ({}) }),
  minNodes: Schema.Int.pipe(Schema.between(0, 1000)),
  maxNodes: Schema.Int.pipe(Schema.between(1, 1000)),
  /** Scale up when CPU or memory requests reach this share of the nodes' allocatable. */
  scaleUpPercent: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 100)), { default: () => 80 }),
  /** …or when at least this many session pods wait for a node (0: pending pods do not count). */
  scaleUpPending: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 1000)), { default: () => 1 }),
  /** Scale down when both CPU and memory requests are at most this share and nothing is pending. */
  scaleDownPercent: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 99)), { default: () => 20 }),
  /** Consecutive evaluations a condition must hold before a decision. */
  checks: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 100)), { default: () => 3 }),
  /** Seconds after a decision during which the policy decides nothing. */
  cooldownSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 86_400)), { default: () => 300 }),
  /** Nodes added or removed per decision. */
  step: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 100)), { default: () => 1 }),
  action: Schema.optionalWith(Action, { default: () => ({ kind: "recommend" as const }) })
})
export type PolicyBody = typeof PolicyBody.Type

export interface Observation {
  /** Nodes of the group (for `cluster-api`: the MachineDeployment's `spec.replicas`, machines on their way included). */
  readonly nodes: number
  /** The larger of CPU and memory requests over allocatable of the group's Ready, schedulable nodes, in %; none: null. */
  readonly utilization: number | null
  readonly pending: number
}

export interface Streaks {
  readonly up: number
  readonly down: number
  readonly lastDecisionAt: Date | null
}

export interface Decision {
  readonly direction: "up" | "down"
  readonly desired: number
  readonly reason: string
}

const pct = (n: number | null) => (n === null ? "n/a" : `${n.toFixed(0)} %`)

/**
 * One evaluation: the new streaks and the decision, if any. Bounds (below
 * minNodes, above maxNodes) decide at once; thresholds after `checks`
 * evaluations in a row; nothing is decided during the cooldown (the streaks
 * go on counting, so a condition that still holds decides when it ends).
 */
export const decide = (
  p: Pick<
    PolicyBody,
    | "minNodes"
    | "maxNodes"
    | "scaleUpPercent"
    | "scaleUpPending"
    | "scaleDownPercent"
    | "checks"
    | "cooldownSeconds"
    | "step"
  >,
  o: Observation,
  s: Streaks,
  now: Date
): { readonly streaks: Streaks; readonly decision: Decision | undefined; readonly cooling: boolean } => {
  const pendingOver = p.scaleUpPending > 0 && o.pending >= p.scaleUpPending
  const usageOver = o.utilization !== null && o.utilization >= p.scaleUpPercent
  const under = o.pending === 0 && o.utilization !== null && o.utilization <= p.scaleDownPercent
  const up = pendingOver || usageOver ? s.up + 1 : 0
  const down = under ? s.down + 1 : 0
  const cooling = s.lastDecisionAt !== null && now.getTime() - s.lastDecisionAt.getTime() < p.cooldownSeconds * 1000
  const decision: Decision | undefined =
    o.nodes < p.minNodes
      ? { direction: "up", desired: p.minNodes, reason: `${o.nodes} nodes, below minNodes ${p.minNodes}` }
      : o.nodes > p.maxNodes
        ? { direction: "down", desired: p.maxNodes, reason: `${o.nodes} nodes, above maxNodes ${p.maxNodes}` }
        : up >= p.checks && o.nodes < p.maxNodes
          ? {
              direction: "up",
              desired: Math.min(p.maxNodes, o.nodes + p.step),
              reason: `${[
                pendingOver ? `${o.pending} session pods pending (≥ ${p.scaleUpPending})` : undefined,
                usageOver ? `requests at ${pct(o.utilization)} (≥ ${p.scaleUpPercent} %)` : undefined
              ]
                .filter(Boolean)
                .join(" and ")} for ${up} checks`
            }
          : down >= p.checks && o.nodes > p.minNodes
            ? {
                direction: "down",
                desired: Math.max(p.minNodes, o.nodes - p.step),
                reason: `requests at ${pct(o.utilization)} (≤ ${p.scaleDownPercent} %), nothing pending, for ${down} checks`
              }
            : undefined
  if (decision === undefined || cooling) return { streaks: { ...s, up, down }, decision: undefined, cooling }
  return { streaks: { up: 0, down: 0, lastDecisionAt: now }, decision, cooling }
}

const matchesSelector = (labels: Readonly<Record<string, string>> | undefined, selector: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v)
/** A pending pod could run on the group: its nodeSelector does not contradict the group's. */
const compatible = (podSelector: Readonly<Record<string, string>>, selector: Record<string, string>) =>
  Object.entries(podSelector).every(([k, v]) => selector[k] === undefined || selector[k] === v)

export interface PolicyRow {
  readonly id: string
  readonly name: string
  readonly enabled: boolean
  readonly node_selector: unknown
  readonly min_nodes: number
  readonly max_nodes: number
  readonly scale_up_percent: number
  readonly scale_up_pending: number
  readonly scale_down_percent: number
  readonly checks: number
  readonly cooldown_seconds: number
  readonly step: number
  readonly action: unknown
  readonly created_at: Date
  readonly updated_at: Date
  readonly up_streak: number | null
  readonly down_streak: number | null
  readonly last_decision_at: Date | null
  readonly checked_at: Date | null
}

const json = (u: unknown) => (typeof u === "string" ? (JSON.parse(u) as unknown) : u)

export const policyOf = (r: PolicyRow) => ({
  id: r.id,
  name: r.name,
  enabled: r.enabled,
  nodeSelector: json(r.node_selector) as Record<string, string>,
  minNodes: r.min_nodes,
  maxNodes: r.max_nodes,
  scaleUpPercent: r.scale_up_percent,
  scaleUpPending: r.scale_up_pending,
  scaleDownPercent: r.scale_down_percent,
  checks: r.checks,
  cooldownSeconds: r.cooldown_seconds,
  step: r.step,
  action: Schema.decodeUnknownSync(Action)(json(r.action)),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  state: {
    upStreak: r.up_streak ?? 0,
    downStreak: r.down_streak ?? 0,
    lastDecisionAt: r.last_decision_at,
    checkedAt: r.checked_at
  }
})
export type Policy = ReturnType<typeof policyOf>

export const POLICY_SELECT = `SELECT p.*, s.up_streak, s.down_streak, s.last_decision_at, s.checked_at
  FROM scaling_policies p LEFT JOIN scaling_state s ON s.policy_id = p.id`

const machineDeployment = (a: { namespace: string; name: string }) =>
  `/apis/cluster.x-k8s.io/v1beta1/namespaces/${a.namespace}/machinedeployments/${a.name}`

/** Evaluates every enabled policy once (the job's tick). */
export const evaluate = (_config: NodeManagerConfig) =>
  Effect.gen(function* () {
    const kube: Kube = yield* Kubernetes
    const sql = yield* PluginSql
    const events = yield* Events
    const rows = yield* sql.unsafe<PolicyRow>(`${POLICY_SELECT} WHERE p.enabled ORDER BY p.name`)
    if (rows.length === 0) return
    const snap = yield* snapshot(kube, false)
    const at = yield* Timestamps.now
    for (const policy of rows.map(policyOf)) {
      const selector = policy.nodeSelector
      const group = snap.nodes.filter((n) => matchesSelector(n.metadata.labels, selector))
      const usable = group.filter((n) => isReady(n) && n.spec?.unschedulable !== true)
      const totals = usable.reduce(
        (acc, n) => {
          const req = requestedOn(snap, n.metadata.name)
          return {
            cpuReq: acc.cpuReq + req.cpuMillis,
            memReq: acc.memReq + req.memoryBytes,
            cpu: acc.cpu + quantity(n.status?.allocatable?.["cpu"]) * 1000,
            mem: acc.mem + quantity(n.status?.allocatable?.["memory"])
          }
        },
        { cpuReq: 0, memReq: 0, cpu: 0, mem: 0 }
      )
      const utilization =
        totals.cpu > 0 && totals.mem > 0
          ? Math.max((totals.cpuReq / totals.cpu) * 100, (totals.memReq / totals.mem) * 100)
          : null
      const pending = snap.sessionPods.filter(
        (p) =>
          !p.spec?.nodeName &&
          p.status?.phase === "Pending" &&
          compatible((p.spec as { nodeSelector?: Record<string, string> } | undefined)?.nodeSelector ?? {}, selector)
      ).length
      const action = policy.action
      // For a MachineDeployment, its replicas are the group's size: machines on their way count already.
      const replicas =
        action.kind === "cluster-api"
          ? yield* kube.request<{ spec?: { replicas?: number } }>("GET", machineDeployment(action)).pipe(
              Effect.map((md) => ({ ok: true as const, n: md.spec?.replicas ?? 0 })),
              Effect.catchAll((e) => Effect.succeed({ ok: false as const, error: e.message }))
            )
          : { ok: true as const, n: group.length }
      const { streaks, decision } = decide(
        policy,
        { nodes: replicas.ok ? replicas.n : group.length, utilization, pending },
        { up: policy.state.upStreak, down: policy.state.downStreak, lastDecisionAt: policy.state.lastDecisionAt },
        at
      )
      yield* sql`INSERT INTO scaling_state (policy_id, up_streak, down_streak, last_decision_at, checked_at)
        VALUES (${policy.id}, ${streaks.up}, ${streaks.down}, ${streaks.lastDecisionAt}, ${at})
        ON CONFLICT (policy_id) DO UPDATE SET up_streak = EXCLUDED.up_streak, down_streak = EXCLUDED.down_streak,
          last_decision_at = EXCLUDED.last_decision_at, checked_at = EXCLUDED.checked_at`
      if (!decision) continue
      const current = replicas.ok ? replicas.n : group.length
      const acted =
        action.kind === "recommend"
          ? { outcome: "recommended" as const, detail: null }
          : !replicas.ok
            ? { outcome: "failed" as const, detail: `reading the MachineDeployment: ${replicas.error}` }
            : yield* kube
                .request("PATCH", machineDeployment(action), {
                  body: { spec: { replicas: decision.desired } },
                  contentType: "application/merge-patch+json"
                })
                .pipe(
                  Effect.as({
                    outcome: "applied" as const,
                    detail: `MachineDeployment ${action.namespace}/${action.name} spec.replicas ${current} → ${decision.desired}`
                  }),
                  Effect.catchAll((e) =>
                    Effect.succeed({
                      outcome: "failed" as const,
                      detail: `patching the MachineDeployment: ${e.message}`
                    })
                  )
                )
      yield* sql`INSERT INTO scaling_history (policy_id, policy_name, at, direction, current_nodes, desired_nodes, utilization, pending, reason, action, outcome, detail)
        VALUES (${policy.id}, ${policy.name}, ${at}, ${decision.direction}, ${current}, ${decision.desired}, ${utilization}, ${pending},
          ${decision.reason}, ${action.kind}, ${acted.outcome}, ${acted.detail})`
      yield* events.publish(ScalingRecommended, {
        policy: policy.name,
        direction: decision.direction,
        currentNodes: current,
        desiredNodes: decision.desired,
        reason: decision.reason,
        action: action.kind,
        outcome: acted.outcome
      })
    }
  })
