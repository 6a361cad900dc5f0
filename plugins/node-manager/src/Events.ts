/** The events node-manager publishes (notification plugins can route them). */
import { Events } from "@streamspace/kernel"
import { Schema } from "effect"

const NodeHealth = Schema.Struct({
  node: Schema.String,
  reason: Schema.NullOr(Schema.String),
  consecutiveChecks: Schema.Number
})

export const NodeUnhealthy = Events.define(
  "node-manager.node.unhealthy",
  NodeHealth,
  "A node failed failThreshold health checks in a row (NotReady); it takes no new sessions."
)
export const NodeRecovered = Events.define(
  "node-manager.node.recovered",
  NodeHealth,
  "An unhealthy node passed passThreshold health checks in a row; it takes sessions again."
)
export const NodeDrained = Events.define(
  "node-manager.node.drained",
  Schema.Struct({
    node: Schema.String,
    complete: Schema.Boolean,
    sessions: Schema.Number,
    evicted: Schema.Number,
    blocked: Schema.Number
  }),
  "A drain ended: the node cordoned, its sessions hibernated or ended, other pods evicted (complete: nothing is left to move; otherwise what stayed is in GET /drains)."
)

export const DrainNotice = Events.define(
  "node-manager.drain.notice",
  Schema.Struct({
    node: Schema.String,
    userId: Schema.String,
    sessionIds: Schema.Array(Schema.String),
    /** When the sessions still on the node are hibernated (ISO 8601). */
    deadline: Schema.String
  }),
  "A node is being drained with notify-and-wait: its owner's sessions there are hibernated at the deadline unless they end or hibernate first (one event per owner)."
)

export const ScalingRecommended = Events.define(
  "node-manager.scaling.recommended",
  Schema.Struct({
    policy: Schema.String,
    direction: Schema.Literal("up", "down"),
    currentNodes: Schema.Number,
    desiredNodes: Schema.Number,
    reason: Schema.String,
    action: Schema.String,
    outcome: Schema.Literal("recommended", "applied", "failed")
  }),
  "An autoscaling policy decided to scale its nodes (outcome: recommended only, applied through its action, or failed)."
)
