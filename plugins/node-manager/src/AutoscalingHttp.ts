/**
 * Autoscaling routes: policies (list, one, create, replace, delete) under
 * /autoscaling/policies and the scaling history (/history). Policies are
 * checked beyond their schema (maxNodes ≥ minNodes, scaleDownPercent <
 * scaleUpPercent) and named uniquely (409).
 */
import { Conflict, HttpRoute, NotFound, Timestamps, ValidationError } from "@streamspace/core"
import { PluginSql, Routes } from "@streamspace/kernel"
import { Effect, Schema } from "effect"
import { Action, POLICY_SELECT, PolicyBody, type PolicyRow, policyOf } from "./Autoscaling.ts"

const READ = "node-manager:read"
const WRITE = "node-manager:write"

const PolicyView = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  enabled: Schema.Boolean,
  nodeSelector: Schema.Record({ key: Schema.String, value: Schema.String }),
  minNodes: Schema.Number,
  maxNodes: Schema.Number,
  scaleUpPercent: Schema.Number,
  scaleUpPending: Schema.Number,
  scaleDownPercent: Schema.Number,
  checks: Schema.Number,
  cooldownSeconds: Schema.Number,
  step: Schema.Number,
  action: Action,
  createdAt: Schema.Date,
  updatedAt: Schema.Date,
  state: Schema.Struct({
    upStreak: Schema.Number,
    downStreak: Schema.Number,
    lastDecisionAt: Schema.NullOr(Schema.Date),
    checkedAt: Schema.NullOr(Schema.Date)
  })
})
const IdParams = Schema.Struct({ id: Schema.UUID })

const check = (b: PolicyBody) =>
  b.maxNodes < b.minNodes
    ? Effect.fail(ValidationError.field("body.maxNodes", `must be at least minNodes (${b.minNodes})`))
    : b.scaleDownPercent >= b.scaleUpPercent
      ? Effect.fail(
          ValidationError.field("body.scaleDownPercent", `must be below scaleUpPercent (${b.scaleUpPercent})`)
        )
      : Effect.void

export const make = Effect.gen(function* () {
  const sql = yield* PluginSql
  const routes = yield* Routes

  const one = (id: string) =>
    Effect.gen(function* () {
      const [row] = yield* sql.unsafe<PolicyRow>(`${POLICY_SELECT} WHERE p.id = $1`, [id])
      if (!row) return yield* new NotFound({ resource: "autoscaling policy", id })
      return policyOf(row)
    })
  const taken = (name: string, id: string) =>
    Effect.gen(function* () {
      const rows = yield* sql<{ id: string }>`SELECT id FROM scaling_policies WHERE name = ${name} AND id <> ${id}`
      if (rows.length > 0)
        return yield* new Conflict({ message: `an autoscaling policy named ${name} exists`, code: "name_taken" })
    })
  const errors = [NotFound, Conflict, ValidationError]

  yield* routes.add(
    HttpRoute.make({
      method: "GET",
      path: "/autoscaling/policies",
      summary: "Autoscaling policies with their current streaks and last decision",
      permission: READ,
      response: Schema.Struct({ items: Schema.Array(PolicyView) }),
      handler: () =>
        Effect.map(sql.unsafe<PolicyRow>(`${POLICY_SELECT} ORDER BY p.name`), (rows) => ({
          items: rows.map(policyOf)
        }))
    })
  )
  yield* routes.add(
    HttpRoute.make({
      method: "GET",
      path: "/autoscaling/policies/:id",
      summary: "One autoscaling policy",
      permission: READ,
      params: IdParams,
      response: PolicyView,
      errors,
      handler: ({ params }) => one(params.id)
    })
  )
  yield* routes.add(
    HttpRoute.make({
      method: "POST",
      path: "/autoscaling/policies",
      summary: "Create an autoscaling policy",
      permission: WRITE,
      body: PolicyBody,
      response: PolicyView,
      successStatus: 201,
      errors,
      audit: { action: "node-manager.autoscaling.create", target: (input) => input.body.name },
      handler: ({ body }) =>
        Effect.gen(function* () {
          yield* check(body)
          const id = crypto.randomUUID()
          yield* taken(body.name, id)
          const at = yield* Timestamps.now
          yield* sql`INSERT INTO scaling_policies (id, name, enabled, node_selector, min_nodes, max_nodes, scale_up_percent,
              scale_up_pending, scale_down_percent, checks, cooldown_seconds, step, action, created_at, updated_at)
            VALUES (${id}, ${body.name}, ${body.enabled}, ${JSON.stringify(body.nodeSelector)}, ${body.minNodes}, ${body.maxNodes},
              ${body.scaleUpPercent}, ${body.scaleUpPending}, ${body.scaleDownPercent}, ${body.checks}, ${body.cooldownSeconds},
              ${body.step}, ${JSON.stringify(body.action)}, ${at}, ${at})`
          return yield* one(id)
        })
    })
  )
  yield* routes.add(
    HttpRoute.make({
      method: "PUT",
      path: "/autoscaling/policies/:id",
      summary: "Replace an autoscaling policy (its streaks start again)",
      permission: WRITE,
      params: IdParams,
      body: PolicyBody,
      response: PolicyView,
      errors,
      audit: { action: "node-manager.autoscaling.update", target: (input) => input.params.id },
      handler: ({ params, body }) =>
        Effect.gen(function* () {
          yield* one(params.id)
          yield* check(body)
          yield* taken(body.name, params.id)
          const at = yield* Timestamps.now
          yield* sql`UPDATE scaling_policies SET name = ${body.name}, enabled = ${body.enabled},
              node_selector = ${JSON.stringify(body.nodeSelector)}, min_nodes = ${body.minNodes}, max_nodes = ${body.maxNodes},
              scale_up_percent = ${body.scaleUpPercent}, scale_up_pending = ${body.scaleUpPending},
              scale_down_percent = ${body.scaleDownPercent}, checks = ${body.checks}, cooldown_seconds = ${body.cooldownSeconds},
              step = ${body.step}, action = ${JSON.stringify(body.action)}, updated_at = ${at}
            WHERE id = ${params.id}`
          yield* sql`UPDATE scaling_state SET up_streak = 0, down_streak = 0 WHERE policy_id = ${params.id}`
          return yield* one(params.id)
        })
    })
  )
  yield* routes.add(
    HttpRoute.make({
      method: "DELETE",
      path: "/autoscaling/policies/:id",
      summary: "Delete an autoscaling policy (its history stays)",
      permission: WRITE,
      params: IdParams,
      errors,
      audit: { action: "node-manager.autoscaling.delete", target: (input) => input.params.id },
      handler: ({ params }) =>
        Effect.gen(function* () {
          yield* one(params.id)
          yield* sql`DELETE FROM scaling_policies WHERE id = ${params.id}`
        })
    })
  )
  yield* routes.add(
    HttpRoute.make({
      method: "GET",
      path: "/history",
      summary: "Scaling decisions, newest first, with their reason and what acting on them did",
      permission: READ,
      query: Schema.Struct({
        policy: Schema.optional(Schema.String),
        limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000)), {
          default: () => 100
        })
      }),
      response: Schema.Struct({
        items: Schema.Array(
          Schema.Struct({
            id: Schema.Number,
            policyId: Schema.NullOr(Schema.String),
            policy: Schema.String,
            at: Schema.Date,
            direction: Schema.Literal("up", "down"),
            currentNodes: Schema.Number,
            desiredNodes: Schema.Number,
            utilization: Schema.NullOr(Schema.Number),
            pending: Schema.Number,
            reason: Schema.String,
            action: Schema.String,
            outcome: Schema.Literal("recommended", "applied", "failed"),
            detail: Schema.NullOr(Schema.String)
          })
        )
      }),
      handler: ({ query }) =>
        Effect.gen(function* () {
          type Row = {
            id: string | number
            policy_id: string | null
            policy_name: string
            at: Date
            direction: "up" | "down"
            current_nodes: number
            desired_nodes: number
            utilization: number | null
            pending: number
            reason: string
            action: string
            outcome: "recommended" | "applied" | "failed"
            detail: string | null
          }
          const rows = yield* query.policy
            ? sql<Row>`SELECT * FROM scaling_history WHERE policy_name = ${query.policy} ORDER BY at DESC, id DESC LIMIT ${query.limit}`
            : sql<Row>`SELECT * FROM scaling_history ORDER BY at DESC, id DESC LIMIT ${query.limit}`
          return {
            items: rows.map((r) => ({
              id: Number(r.id),
              policyId: r.policy_id,
              policy: r.policy_name,
              at: r.at,
              direction: r.direction,
              currentNodes: r.current_nodes,
              desiredNodes: r.desired_nodes,
              utilization: r.utilization === null ? null : Number(r.utilization),
              pending: r.pending,
              reason: r.reason,
              action: r.action,
              outcome: r.outcome,
              detail: r.detail
            }))
          }
        })
    })
  )
})
