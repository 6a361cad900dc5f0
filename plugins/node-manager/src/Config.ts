/**
 * node-manager's config: the health check (interval, hysteresis), default
 * resource thresholds, placement (strategy, selector, weights, policies per
 * role or group) and autoscaling policy fields. Its JSON Schema is the admin
 * console's form.
 */
import { Schema } from "effect"

export const Strategy = Schema.Literal(
  "least-sessions",
  "most-resources",
  "random",
  "weighted",
  "round-robin",
  "bin-pack"
)
export type Strategy = typeof Strategy.Type

const Percent = Schema.Number.pipe(Schema.between(1, 100))
const Labels = Schema.Record({ key: Schema.String, value: Schema.String })
const Weights = Schema.Record({ key: Schema.String, value: Schema.Number.pipe(Schema.between(0, 1000)) })

export const Thresholds = Schema.Struct({
  /** Most CPU of a node's allocatable that requests (this session's included) may reach. */
  cpuPercent: Schema.optionalWith(Percent, { default: () => 90 }),
  memoryPercent: Schema.optionalWith(Percent, { default: () => 90 }),
  /** Most StreamSpace sessions on one node (0: no limit). */
  maxSessions: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 10_000)), { default: () => 0 })
})
export type Thresholds = typeof Thresholds.Type

export const Policy = Schema.Struct({
  name: Schema.String.pipe(Schema.pattern(/^[a-z0-9][a-z0-9-]{0,62}$/)),
  /** Applies to users holding any of these roles, or in any of these groups (neither: everyone). */
  roles: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  groups: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  strategy: Schema.optional(Strategy),
  /** Node labels a node must carry to take these sessions (also set as the pod's nodeSelector). */
  nodeSelector: Schema.optionalWith(Labels, { default: () => ({}) }),
  /** `weighted`: node name → weight (nodes not listed weigh `defaultWeight`). */
  weights: Schema.optionalWith(Weights, { default: () => ({}) }),
  thresholds: Schema.optional(Thresholds)
})
export type Policy = typeof Policy.Type

export const HealthCheck = Schema.Struct({
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** Seconds between checks (one run per tick across replicas). */
  interval: Schema.optionalWith(Schema.Int.pipe(Schema.between(5, 3600)), { default: () => 60 }),
  /** Consecutive NotReady checks before a node is unhealthy (`node-manager.node.unhealthy`). */
  failThreshold: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 100)), { default: () => 3 }),
  /** Consecutive Ready checks before an unhealthy node is healthy again and takes sessions. */
  passThreshold: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 100)), { default: () => 2 }),
  historyDays: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 365)), { default: () => 7 })
})

export const Placement = Schema.Struct({
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  strategy: Schema.optionalWith(Strategy, { default: () => "least-sessions" as const }),
  nodeSelector: Schema.optionalWith(Labels, { default: () => ({}) }),
  weights: Schema.optionalWith(Weights, { default: () => ({}) }),
  defaultWeight: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 1000)), { default: () => 1 }),
  /** The first policy matching the user applies; none: the settings above. */
  policies: Schema.optionalWith(Schema.Array(Policy), { default: () => [] }),
  /** No node fits: refuse the session (it fails, saying why), or leave it to the Kubernetes scheduler. */
  onNoCandidate: Schema.optionalWith(Schema.Literal("refuse", "default-scheduler"), {
    default: () => "refuse" as const
  })
})

/**
 * The autoscaling job; the policies themselves (min/max nodes, thresholds, checks, cooldown, action) are
 * rows edited through `/autoscaling/policies`. Fields of the first version (`minNodes`, `maxNodes`, …) are
 * ignored when present.
 */
export const Autoscaling = Schema.Struct({
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** Seconds between evaluations (one run per tick across replicas). */
  interval: Schema.optionalWith(Schema.Int.pipe(Schema.between(5, 3600)), { default: () => 60 })
})

export const Drain = Schema.Struct({
  gracePeriodSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 3600)), { default: () => 30 }),
  /** `hibernate` the node's sessions at once, or `notify` their owners and wait `waitSeconds` first. */
  mode: Schema.optionalWith(Schema.Literal("hibernate", "notify"), { default: () => "hibernate" as const }),
  /** `notify`: how long owners have to end or hibernate their sessions before the rest are hibernated. */
  waitSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 86_400)), { default: () => 600 }),
  /** How long evictions refused by a PodDisruptionBudget (429) are retried, with backoff (0: not retried). */
  retrySeconds: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 86_400)), { default: () => 300 }),
  /** Seconds between runs of the job that advances waiting and retrying drains. */
  checkInterval: Schema.optionalWith(Schema.Int.pipe(Schema.between(5, 600)), { default: () => 10 })
})

const defaults =
  <A, I>(s: Schema.Schema<A, I>) =>
  () =>
    Schema.decodeSync(s)({} as I)

export const NodeManagerConfig = Schema.Struct({
  healthCheck: Schema.optionalWith(HealthCheck, { default: defaults(HealthCheck) }),
  thresholds: Schema.optionalWith(Thresholds, { default: defaults(Thresholds) }),
  placement: Schema.optionalWith(Placement, { default: defaults(Placement) }),
  autoscaling: Schema.optionalWith(Autoscaling, { default: defaults(Autoscaling) }),
  drain: Schema.optionalWith(Drain, { default: defaults(Drain) })
})
export type NodeManagerConfig = typeof NodeManagerConfig.Type
