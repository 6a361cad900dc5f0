/**
 * Workflows (`streamspace-workflows` in the migration plan): versioned
 * definitions with event, cron, webhook and manual triggers; a safe
 * expression language for conditions and templates; a durable engine in
 * the plugin's tables (leases claimed with FOR UPDATE SKIP LOCKED, resumable
 * after a crash, idempotency keys, retries with back-off, per-step
 * timeouts, failure handlers, parallel branches, durable waits,
 * cancellation, a concurrency limit per workflow). See docs/plugins/workflows.md.
 */
import { HttpClient } from "@effect/platform"
import { Timestamps } from "@streamspace/core"
import {
  definePlugin,
  Events,
  PluginConfig,
  PluginSql,
  Plugins,
  Routes,
  Scheduler,
  SessionControl
} from "@streamspace/kernel"
import { Effect, Layer, Schema } from "effect"
import schema from "../migrations/0001_workflows.sql" with { type: "text" }
import * as Engine from "./Engine.ts"
import { addRoutes } from "./Http.ts"
import { makeTriggers } from "./Triggers.ts"

export * as Definition from "./Definition.ts"
export { ExecutionCancelled, ExecutionCompleted, ExecutionFailed } from "./Engine.ts"
export * as Expr from "./Expr.ts"
export { sign as signWebhook } from "./Triggers.ts"

export const WorkflowsConfig = Schema.Struct({
  maxWorkflowsPerUser: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 10_000)), { default: () => 50 }),
  /** How long a replica holds an execution without renewing; a crashed replica's executions resume after it. */
  leaseSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.between(2, 600)), { default: () => 30 }),
  /** How often each replica looks for due work besides being woken. */
  pollSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(0.05, 60)), { default: () => 1 }),
  /** Executions one replica drives at once. */
  workerConcurrency: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 200)), { default: () => 10 }),
  /** `plugin.method` names that workflows of non-admins may call (admins' workflows may call any). */
  userCallableMethods: Schema.optionalWith(
    Schema.Array(Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9-]*\.[A-Za-z0-9_]+$/))),
    {
      default: () => []
    }
  ),
  /** Master key the webhook URLs and signing secrets are derived from; webhook triggers need it. */
  webhookSigningKey: Schema.optional(
    PluginConfig.secret(Schema.String.pipe(Schema.minLength(32, { message: () => "at least 32 characters" })))
  ),
  webhookToleranceSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.between(10, 3600)), { default: () => 300 })
})

const WorkflowsLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    const config = yield* PluginConfig.get(WorkflowsConfig)
    const sql = yield* PluginSql
    const events = yield* Events
    const engine = yield* Engine.make({
      sql,
      events,
      plugins: yield* Plugins,
      http: yield* HttpClient.HttpClient,
      sessions: yield* SessionControl,
      config,
      instance: crypto.randomUUID()
    })
    const triggers = makeTriggers(sql, engine.wake)

    yield* events.subscribeBatch({ name: "triggers", types: ["*"], maxBatch: 200 }, triggers.onEvents)
    yield* (yield* Scheduler).schedule("cron", { every: "1 minute" }, Effect.flatMap(Timestamps.now, triggers.onTick))
    yield* addRoutes({
      sql,
      routes: yield* Routes,
      engine,
      maxWorkflowsPerUser: config.maxWorkflowsPerUser,
      webhookSigningKey: config.webhookSigningKey,
      webhookToleranceSeconds: config.webhookToleranceSeconds
    })
    yield* Effect.addFinalizer(() => engine.stopAll)
    yield* Effect.forkScoped(engine.worker)
  })
)

export default definePlugin({
  id: "workflows",
  name: "Workflows",
  version: "1.0.0",
  type: "extension",
  category: "productivity",
  description: "Durable workflows: event, cron, webhook and manual triggers; conditions; calls to plugins, HTTP, waits",
  permissions: [
    { name: "workflows:read", description: "See your own workflows and their executions", roles: ["operator"] },
    { name: "workflows:write", description: "Create, change, run and cancel your own workflows", roles: ["operator"] },
    { name: "workflows:admin", description: "See and manage everyone's workflows; session actions and any plugin call" }
  ],
  config: WorkflowsConfig,
  migrations: [{ id: 1, name: "workflows", sql: schema }],
  events: Events.declare(Engine.ExecutionCompleted, Engine.ExecutionFailed, Engine.ExecutionCancelled),
  grants: ["sessions"],
  layer: WorkflowsLive,
  ui: [
    {
      kind: "page",
      id: "workflows",
      title: "Workflows",
      path: "workflows",
      nav: "admin",
      icon: "account_tree",
      permissions: ["workflows:read"],
      component: "ui/WorkflowsPage.tsx"
    }
  ]
})
