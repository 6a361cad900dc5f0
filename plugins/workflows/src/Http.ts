/**
 * The API under /api/plugins/workflows: definitions (CRUD, versions,
 * validate), manual runs, executions (list, detail with per-step results,
 * cancel), stats, and the signed inbound webhook.
 *
 * Who sees what: `workflows:read` and `workflows:write` act on the caller's
 * own workflows; `workflows:admin` on everyone's. Someone else's workflow
 * or execution is a 404, not a 403 (its existence is not disclosed).
 */
import type { SqlClient } from "@effect/sql"
import {
  Actor,
  Conflict,
  Forbidden,
  HttpRoute,
  NotFound,
  QuotaExceeded,
  Text,
  Timestamps,
  Unauthorized,
  ValidationError
} from "@streamspace/core"
import type { Routes } from "@streamspace/kernel"
import { Effect, Schema } from "effect"
import * as Def from "./Definition.ts"
import { enqueue, type Engine } from "./Engine.ts"
import type * as Expr from "./Expr.ts"
import { sha256, verify, webhookSecrets } from "./Triggers.ts"

export const ADMIN = "workflows:admin"
const READ = "workflows:read"
const WRITE = "workflows:write"

export interface HttpDeps {
  readonly sql: SqlClient.SqlClient
  readonly routes: Routes["Type"]
  readonly engine: Engine
  readonly maxWorkflowsPerUser: number
  readonly webhookSigningKey: string | undefined
  readonly webhookToleranceSeconds: number
}

const IdParams = Schema.Struct({ id: Schema.UUID })

const Webhook = Schema.Struct({
  url: Schema.String,
  secret: Schema.String,
  signatureHeader: Schema.String,
  timestampHeader: Schema.String
})

const Summary = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  ownerId: Schema.String,
  enabled: Schema.Boolean,
  triggerType: Schema.String,
  version: Schema.Number,
  concurrency: Schema.Number,
  createdAt: Schema.Date,
  updatedAt: Schema.Date
})

const Detail = Schema.Struct({
  ...Summary.fields,
  definition: Def.Definition,
  webhook: Schema.optional(Webhook)
})

const StepResult = Schema.Struct({
  stepId: Schema.String,
  status: Schema.String,
  attempts: Schema.Number,
  activatedBy: Schema.NullOr(Schema.String),
  output: Schema.Unknown,
  error: Schema.NullOr(Schema.String),
  nextAt: Schema.NullOr(Schema.Date),
  startedAt: Schema.NullOr(Schema.Date),
  finishedAt: Schema.NullOr(Schema.Date)
})

const Execution = Schema.Struct({
  id: Schema.String,
  workflowId: Schema.String,
  workflowName: Schema.String,
  version: Schema.Number,
  status: Schema.String,
  triggerType: Schema.String,
  triggeredBy: Schema.NullOr(Schema.String),
  error: Schema.NullOr(Schema.String),
  cancelRequested: Schema.Boolean,
  createdAt: Schema.Date,
  startedAt: Schema.NullOr(Schema.Date),
  finishedAt: Schema.NullOr(Schema.Date)
})

const ExecutionDetail = Schema.Struct({
  ...Execution.fields,
  triggerData: Schema.Unknown,
  vars: Schema.Unknown,
  steps: Schema.Array(StepResult)
})

const Started = Schema.Struct({ executionId: Schema.String, status: Schema.String, created: Schema.Boolean })

interface WorkflowRow {
  readonly id: string
  readonly owner_id: string
  readonly owner_admin: boolean
  readonly name: string
  readonly enabled: boolean
  readonly trigger_type: string
  readonly current_version: number
  readonly concurrency: number
  readonly webhook_generation: number
  readonly created_at: Date
  readonly updated_at: Date
}

interface ExecutionRow {
  readonly id: string
  readonly workflow_id: string
  readonly name: string
  readonly owner_id: string
  readonly version: number
  readonly status: string
  readonly trigger_type: string
  readonly triggered_by: string | null
  readonly error: string | null
  readonly cancel_requested: boolean
  readonly created_at: Date
  readonly started_at: Date | null
  readonly finished_at: Date | null
  readonly trigger_data: unknown
  readonly vars: unknown
}

const summaryOf = (w: WorkflowRow) => ({
  id: w.id,
  name: w.name,
  ownerId: w.owner_id,
  enabled: w.enabled,
  triggerType: w.trigger_type,
  version: w.current_version,
  concurrency: w.concurrency,
  createdAt: w.created_at,
  updatedAt: w.updated_at
})

const executionOf = (e: ExecutionRow) => ({
  id: e.id,
  workflowId: e.workflow_id,
  workflowName: e.name,
  version: e.version,
  status: e.status,
  triggerType: e.trigger_type,
  triggeredBy: e.triggered_by,
  error: e.error,
  cancelRequested: e.cancel_requested,
  createdAt: e.created_at,
  startedAt: e.started_at,
  finishedAt: e.finished_at
})

const isAdmin = (actor: Actor.Actor) => Actor.hasPermission(actor, ADMIN)

const userOf = (actor: Actor.Actor) => {
  const id = Actor.actorId(actor)
  return id === null ? Effect.fail(new Unauthorized({ message: "a user is required" })) : Effect.succeed(id)
}

const encodeDefinition = Schema.encodeSync(Def.Definition)

const checked = (def: Def.Definition) => {
  const problems = Def.check(def, "body")
  return problems.length === 0
    ? Effect.void
    : Effect.fail(
        new ValidationError({ message: problems.map((p) => `${p.path}: ${p.message}`).join("; "), errors: problems })
      )
}

const eventTypes = (def: Def.Definition) => (def.trigger.type === "event" ? [...def.trigger.events] : [])

export const addRoutes = (deps: HttpDeps) =>
  Effect.gen(function* () {
    const { sql, routes, engine } = deps

    const workflowOf = (id: string, actor: Actor.Actor) =>
      Effect.flatMap(
        sql<WorkflowRow>`SELECT id, owner_id, owner_admin, name, enabled, trigger_type, current_version, concurrency,
            webhook_generation, created_at, updated_at
          FROM workflows WHERE id = ${id} AND deleted_at IS NULL`,
        ([w]) =>
          w && (isAdmin(actor) || w.owner_id === Actor.actorId(actor))
            ? Effect.succeed(w)
            : Effect.fail(new NotFound({ resource: "workflow", id }))
      )

    const webhookOf = (w: { readonly id: string }, generation: number) => {
      if (deps.webhookSigningKey === undefined) return undefined
      const s = webhookSecrets(deps.webhookSigningKey, w.id, generation)
      return {
        url: `/api/plugins/workflows/hooks/${s.token}`,
        secret: s.secret,
        signatureHeader: "X-StreamSpace-Signature",
        timestampHeader: "X-StreamSpace-Timestamp"
      }
    }

    const needsKey = (def: Def.Definition) =>
      def.trigger.type === "webhook" && deps.webhookSigningKey === undefined
        ? Effect.fail(
            new Conflict({
              code: "webhook_key_missing",
              message: "webhook triggers need the plugin config secret webhookSigningKey (at least 32 characters)"
            })
          )
        : Effect.void

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/workflows",
        summary: "Workflows: your own, or everyone's for workflows:admin with ?all=true",
        permission: READ,
        query: Schema.Struct({ all: Schema.optional(Schema.Literal("true", "false")) }),
        response: Schema.Struct({ items: Schema.Array(Summary) }),
        handler: ({ query, actor }) =>
          Effect.gen(function* () {
            const everyone = query.all === "true" && isAdmin(actor)
            const owner = Actor.actorId(actor) ?? ""
            const rows =
              yield* sql<WorkflowRow>`SELECT id, owner_id, owner_admin, name, enabled, trigger_type, current_version,
                concurrency, webhook_generation, created_at, updated_at
              FROM workflows WHERE deleted_at IS NULL AND (${everyone} OR owner_id = ${owner}) ORDER BY created_at, id LIMIT 1000`
            return { items: rows.map(summaryOf) }
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/validate",
        summary: "Check a definition without saving it (400 names each bad field)",
        permission: READ,
        body: Def.Definition,
        response: Schema.Struct({
          valid: Schema.Boolean,
          steps: Schema.Array(
            Schema.Struct({ id: Schema.String, after: Schema.Array(Schema.String), handler: Schema.Boolean })
          )
        }),
        transactional: false,
        audit: false,
        handler: ({ body }) =>
          Effect.gen(function* () {
            yield* checked(body)
            const plan = Def.plan(body)
            return {
              valid: true,
              steps: body.steps.map((s) => ({
                id: s.id,
                after: [...(plan.deps.get(s.id) ?? [])],
                handler: plan.handlers.has(s.id)
              }))
            }
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/workflows",
        summary: "Create a workflow (version 1); at most maxWorkflowsPerUser per user (admins are exempt)",
        permission: WRITE,
        body: Def.Definition,
        response: Detail,
        successStatus: 201,
        errors: [QuotaExceeded, Conflict],
        audit: { action: "workflows.create", target: (_, out) => out.id },
        handler: ({ body, actor }) =>
          Effect.gen(function* () {
            const owner = yield* userOf(actor)
            yield* checked(body)
            yield* needsKey(body)
            // The owner's count, under a lock on nothing shared: a transaction-level advisory lock per owner.
            yield* sql`SELECT pg_advisory_xact_lock(hashtext(${`workflows:${owner}`}))`
            const [{ n } = { n: 0 }] = yield* sql<{ n: number }>`
              SELECT count(*)::int AS n FROM workflows WHERE owner_id = ${owner} AND deleted_at IS NULL`
            if (n >= deps.maxWorkflowsPerUser && !isAdmin(actor))
              return yield* new QuotaExceeded({
                message: `at most ${deps.maxWorkflowsPerUser} workflows per user`,
                limit: "maxWorkflowsPerUser",
                max: deps.maxWorkflowsPerUser,
                requested: n + 1,
                scope: "user"
              })
            const id = crypto.randomUUID()
            const now = yield* Timestamps.now
            const hook = body.trigger.type === "webhook" ? webhookOf({ id }, 1) : undefined
            const tokenHash =
              hook && deps.webhookSigningKey ? webhookSecrets(deps.webhookSigningKey, id, 1).tokenHash : null
            yield* sql`INSERT INTO workflows (id, owner_id, owner_admin, name, enabled, trigger_type, event_types, current_version,
                concurrency, webhook_token_hash, webhook_generation, created_at, updated_at)
              VALUES (${id}, ${owner}, ${isAdmin(actor)}, ${body.name}, ${body.enabled}, ${body.trigger.type},
                ${eventTypes(body)}, 1, ${body.concurrency}, ${tokenHash}, ${hook ? 1 : 0}, ${now}, ${now})`
            yield* sql`INSERT INTO workflow_versions (workflow_id, version, definition, created_by, created_at)
              VALUES (${id}, 1, ${JSON.stringify(encodeDefinition(body))}::jsonb, ${owner}, ${now})`
            return {
              id,
              name: body.name,
              ownerId: owner,
              enabled: body.enabled,
              triggerType: body.trigger.type,
              version: 1,
              concurrency: body.concurrency,
              createdAt: now,
              updatedAt: now,
              definition: body,
              ...(hook ? { webhook: hook } : {})
            }
          })
      })
    )

    const definitionOf = (id: string, version: number) =>
      Effect.flatMap(
        sql<{
          definition: unknown
        }>`SELECT definition FROM workflow_versions WHERE workflow_id = ${id} AND version = ${version}`,
        ([v]) =>
          v
            ? Effect.succeed(Schema.decodeUnknownSync(Def.Definition)(v.definition))
            : Effect.fail(new NotFound({ resource: "workflow version", id: `${id}@${version}` }))
      )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/workflows/:id",
        summary: "A workflow and its current definition",
        permission: READ,
        params: IdParams,
        response: Detail,
        errors: [NotFound],
        handler: ({ params, actor }) =>
          Effect.gen(function* () {
            const w = yield* workflowOf(params.id, actor)
            return { ...summaryOf(w), definition: yield* definitionOf(w.id, w.current_version) }
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "PUT",
        path: "/workflows/:id",
        summary: "Save a new version of a workflow (running executions keep theirs)",
        permission: WRITE,
        params: IdParams,
        body: Def.Definition,
        response: Detail,
        errors: [NotFound, Conflict],
        audit: { action: "workflows.update", target: (i) => i.params.id },
        handler: ({ params, body, actor }) =>
          Effect.gen(function* () {
            const w = yield* workflowOf(params.id, actor)
            yield* checked(body)
            yield* needsKey(body)
            const owner = yield* userOf(actor)
            const now = yield* Timestamps.now
            const [row] = yield* sql<{ current_version: number; webhook_generation: number }>`
              UPDATE workflows SET current_version = current_version + 1, name = ${body.name}, enabled = ${body.enabled},
                trigger_type = ${body.trigger.type}, event_types = ${eventTypes(body)}, concurrency = ${body.concurrency},
                owner_admin = ${w.owner_id === owner ? isAdmin(actor) : w.owner_admin}, updated_at = ${now},
                webhook_generation = CASE WHEN ${body.trigger.type} = 'webhook' THEN GREATEST(webhook_generation, 1) ELSE webhook_generation END
              WHERE id = ${w.id} RETURNING current_version, webhook_generation`
            const version = row!.current_version
            if (body.trigger.type === "webhook" && deps.webhookSigningKey) {
              const s = webhookSecrets(deps.webhookSigningKey, w.id, row!.webhook_generation)
              yield* sql`UPDATE workflows SET webhook_token_hash = ${s.tokenHash} WHERE id = ${w.id}`
            } else yield* sql`UPDATE workflows SET webhook_token_hash = NULL WHERE id = ${w.id}`
            yield* sql`INSERT INTO workflow_versions (workflow_id, version, definition, created_by, created_at)
              VALUES (${w.id}, ${version}, ${JSON.stringify(encodeDefinition(body))}::jsonb, ${owner}, ${now})`
            return {
              ...summaryOf({
                ...w,
                name: body.name,
                enabled: body.enabled,
                trigger_type: body.trigger.type,
                current_version: version,
                concurrency: body.concurrency,
                updated_at: now
              }),
              definition: body
            }
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "DELETE",
        path: "/workflows/:id",
        summary: "Delete a workflow: it stops triggering, queued executions are cancelled, history is kept",
        permission: WRITE,
        params: IdParams,
        errors: [NotFound],
        audit: { action: "workflows.delete", target: (i) => i.params.id },
        handler: ({ params, actor }) =>
          Effect.gen(function* () {
            const w = yield* workflowOf(params.id, actor)
            const now = yield* Timestamps.now
            yield* sql`UPDATE workflows SET deleted_at = ${now}, enabled = false, webhook_token_hash = NULL WHERE id = ${w.id}`
            yield* sql`UPDATE executions SET status = 'cancelled', error = 'workflow deleted', finished_at = ${now}
              WHERE workflow_id = ${w.id} AND status = 'queued'`
            yield* sql`UPDATE executions SET cancel_requested = true WHERE workflow_id = ${w.id} AND status = 'running'`
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/workflows/:id/versions",
        summary: "Every saved version of a workflow",
        permission: READ,
        params: IdParams,
        response: Schema.Struct({
          items: Schema.Array(
            Schema.Struct({
              version: Schema.Number,
              createdBy: Schema.String,
              createdAt: Schema.Date,
              definition: Def.Definition
            })
          )
        }),
        errors: [NotFound],
        handler: ({ params, actor }) =>
          Effect.gen(function* () {
            const w = yield* workflowOf(params.id, actor)
            const rows = yield* sql<{ version: number; created_by: string; created_at: Date; definition: unknown }>`
              SELECT version, created_by, created_at, definition FROM workflow_versions WHERE workflow_id = ${w.id} ORDER BY version`
            return {
              items: rows.map((r) => ({
                version: r.version,
                createdBy: r.created_by,
                createdAt: r.created_at,
                definition: Schema.decodeUnknownSync(Def.Definition)(r.definition)
              }))
            }
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/workflows/:id/webhook/rotate",
        summary: "New webhook URL and signing secret (the old ones stop working); shown only in this answer",
        permission: WRITE,
        params: IdParams,
        response: Webhook,
        errors: [NotFound, Conflict],
        audit: { action: "workflows.webhook.rotate", target: (i) => i.params.id },
        handler: ({ params, actor }) =>
          Effect.gen(function* () {
            const w = yield* workflowOf(params.id, actor)
            if (w.trigger_type !== "webhook")
              return yield* new Conflict({
                code: "not_a_webhook",
                message: "this workflow is not triggered by a webhook"
              })
            if (deps.webhookSigningKey === undefined)
              return yield* new Conflict({
                code: "webhook_key_missing",
                message: "the plugin has no webhookSigningKey"
              })
            const generation = w.webhook_generation + 1
            const s = webhookSecrets(deps.webhookSigningKey, w.id, generation)
            yield* sql`UPDATE workflows SET webhook_generation = ${generation}, webhook_token_hash = ${s.tokenHash} WHERE id = ${w.id}`
            return webhookOf(w, generation)!
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/workflows/:id/run",
        summary: "Run a workflow now with `input` as trigger data (Idempotency-Key header: one execution per key)",
        permission: WRITE,
        params: IdParams,
        body: Schema.Struct({ input: Schema.optionalWith(Schema.Unknown, { default: () => ({}) }) }),
        response: Started,
        successStatus: 201,
        errors: [NotFound, Conflict],
        transactional: false,
        audit: { action: "workflows.run", target: (i) => i.params.id },
        handler: ({ params, body, actor, request }) =>
          Effect.gen(function* () {
            const w = yield* workflowOf(params.id, actor)
            if (!w.enabled)
              return yield* new Conflict({ code: "workflow_disabled", message: "the workflow is disabled" })
            const def = yield* definitionOf(w.id, w.current_version)
            const key = request.headers.get("idempotency-key")
            if (key !== null && (key.length === 0 || key.length > 200))
              return yield* ValidationError.field("headers.idempotency-key", "1 to 200 characters")
            const input = JSON.parse(JSON.stringify(body.input ?? null)) as Expr.Json
            const e = yield* enqueue(sql, {
              workflowId: w.id,
              version: w.current_version,
              triggerType: "manual",
              triggerData: { input },
              vars: def.variables as Expr.Json,
              dedupeKey: key === null ? null : `manual:${key}`,
              triggeredBy: Actor.actorId(actor)
            })
            yield* engine.wake
            const [row] = yield* sql<{ status: string }>`SELECT status FROM executions WHERE id = ${e.id}`
            return { executionId: e.id, status: row?.status ?? "queued", created: e.created }
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/hooks/:token",
        summary: "Inbound webhook (n8n, Zapier…): HMAC-SHA256 signed JSON body starts an execution",
        permission: "public",
        rateLimit: "standard",
        params: Schema.Struct({ token: Text.Short }),
        body: "raw",
        response: Started,
        successStatus: 202,
        errors: [NotFound, Unauthorized, Forbidden, Conflict],
        transactional: false,
        audit: false,
        handler: ({ params, request }) =>
          Effect.gen(function* () {
            const notFound = new NotFound({ resource: "webhook", id: "(token)", detail: "no such webhook" })
            if (deps.webhookSigningKey === undefined) return yield* notFound
            const [w] = yield* sql<{
              id: string
              enabled: boolean
              current_version: number
              webhook_generation: number
            }>`
              SELECT id, enabled, current_version, webhook_generation FROM workflows
              WHERE webhook_token_hash = ${sha256(params.token)} AND deleted_at IS NULL`
            if (!w) return yield* notFound
            const raw =
              request.body === null ? "" : yield* Effect.promise(() => Bun.readableStreamToText(request.body!))
            if (raw.length > 256 * 1024) return yield* ValidationError.field("body", "at most 256 KiB")
            const timestamp = request.headers.get("x-streamspace-timestamp") ?? ""
            const signature = request.headers.get("x-streamspace-signature") ?? ""
            const { secret } = webhookSecrets(deps.webhookSigningKey, w.id, w.webhook_generation)
            const now = yield* Timestamps.now
            if (
              !/^\d{1,12}$/.test(timestamp) ||
              Math.abs(now.getTime() / 1000 - Number(timestamp)) > deps.webhookToleranceSeconds
            )
              return yield* new Unauthorized({ message: "missing or stale X-StreamSpace-Timestamp" })
            if (!verify(secret, timestamp, raw, signature))
              return yield* new Unauthorized({ message: "bad X-StreamSpace-Signature" })
            if (!w.enabled)
              return yield* new Conflict({ code: "workflow_disabled", message: "the workflow is disabled" })
            let parsed: Expr.Json = null
            if (raw.trim() !== "")
              try {
                parsed = JSON.parse(raw) as Expr.Json
              } catch {
                return yield* ValidationError.field("body", "not JSON")
              }
            const key = request.headers.get("idempotency-key")
            const def = yield* definitionOf(w.id, w.current_version)
            const headers: Record<string, string> = {}
            for (const h of ["content-type", "user-agent", "idempotency-key", "x-request-id"]) {
              const v = request.headers.get(h)
              if (v !== null) headers[h] = v.slice(0, 500)
            }
            const e = yield* enqueue(sql, {
              workflowId: w.id,
              version: w.current_version,
              triggerType: "webhook",
              triggerData: { body: parsed, headers, receivedAt: now.toISOString() },
              vars: def.variables as Expr.Json,
              dedupeKey: key === null ? `webhook:${signature}` : `webhook:${key.slice(0, 200)}`,
              triggeredBy: null
            })
            yield* engine.wake
            return { executionId: e.id, status: "queued", created: e.created }
          })
      })
    )

    // ---- executions ----

    const executionSelect = (
      where: { id?: string; workflowId?: string; status?: string; owner?: string },
      limit: number,
      offset: number
    ) =>
      sql<ExecutionRow>`
        SELECT e.id, e.workflow_id, w.name, w.owner_id, e.version, e.status, e.trigger_type, e.triggered_by, e.error,
               e.cancel_requested, e.created_at, e.started_at, e.finished_at, e.trigger_data, e.vars
        FROM executions e JOIN workflows w ON w.id = e.workflow_id
        WHERE (${where.id ?? null}::uuid IS NULL OR e.id = ${where.id ?? null}::uuid)
          AND (${where.workflowId ?? null}::uuid IS NULL OR e.workflow_id = ${where.workflowId ?? null}::uuid)
          AND (${where.status ?? null}::text IS NULL OR e.status = ${where.status ?? null}::text)
          AND (${where.owner ?? null}::text IS NULL OR w.owner_id = ${where.owner ?? null}::text)
        ORDER BY e.created_at DESC, e.id LIMIT ${limit} OFFSET ${offset}`

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/executions",
        summary: "Executions, newest first (yours; everyone's for workflows:admin)",
        permission: READ,
        query: Schema.Struct({
          workflowId: Schema.optional(Schema.UUID),
          status: Schema.optional(Schema.Literal("queued", "running", "completed", "failed", "cancelled")),
          limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500)), {
            default: () => 50
          }),
          offset: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(0, 1_000_000)), {
            default: () => 0
          })
        }),
        response: Schema.Struct({ items: Schema.Array(Execution) }),
        handler: ({ query, actor }) =>
          Effect.map(
            executionSelect(
              {
                ...(query.workflowId ? { workflowId: query.workflowId } : {}),
                ...(query.status ? { status: query.status } : {}),
                ...(isAdmin(actor) ? {} : { owner: Actor.actorId(actor) ?? "" })
              },
              query.limit,
              query.offset
            ),
            (rows) => ({ items: rows.map(executionOf) })
          )
      })
    )

    const executionFor = (id: string, actor: Actor.Actor) =>
      Effect.flatMap(
        executionSelect({ id, ...(isAdmin(actor) ? {} : { owner: Actor.actorId(actor) ?? "" }) }, 1, 0),
        ([e]) => (e ? Effect.succeed(e) : Effect.fail(new NotFound({ resource: "execution", id })))
      )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/executions/:id",
        summary: "One execution with its trigger data, variables and per-step results",
        permission: READ,
        params: IdParams,
        response: ExecutionDetail,
        errors: [NotFound],
        handler: ({ params, actor }) =>
          Effect.gen(function* () {
            const e = yield* executionFor(params.id, actor)
            const steps = yield* sql<{
              step_id: string
              status: string
              attempts: number
              activated_by: string | null
              output: unknown
              error: string | null
              next_at: Date | null
              started_at: Date | null
              finished_at: Date | null
            }>`SELECT step_id, status, attempts, activated_by, output, error, next_at, started_at, finished_at
              FROM step_runs WHERE execution_id = ${e.id} ORDER BY started_at NULLS LAST, finished_at NULLS LAST, step_id`
            return {
              ...executionOf(e),
              triggerData: e.trigger_data,
              vars: e.vars,
              steps: steps.map((s) => ({
                stepId: s.step_id,
                status: s.status,
                attempts: s.attempts,
                activatedBy: s.activated_by,
                output: s.output,
                error: s.error,
                nextAt: s.next_at,
                startedAt: s.started_at,
                finishedAt: s.finished_at
              }))
            }
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/executions/:id/cancel",
        summary: "Cancel a queued or running execution (a running step is interrupted)",
        permission: WRITE,
        params: IdParams,
        response: Schema.Struct({ id: Schema.String, status: Schema.String }),
        successStatus: 202,
        errors: [NotFound, Conflict],
        transactional: false,
        audit: { action: "workflows.execution.cancel", target: (i) => i.params.id },
        handler: ({ params, actor }) =>
          Effect.gen(function* () {
            const e = yield* executionFor(params.id, actor)
            if (e.status !== "queued" && e.status !== "running")
              return yield* new Conflict({ code: "execution_finished", message: `the execution is ${e.status}` })
            const now = yield* Timestamps.now
            // Not held by any replica (queued, or waiting on a timer): cancelled here and now.
            const direct = yield* sql<{ id: string }>`
              UPDATE executions SET status = 'cancelled', error = 'cancelled', cancel_requested = true, finished_at = ${now}
              WHERE id = ${e.id} AND (status = 'queued' OR (status = 'running' AND (lease_until IS NULL OR lease_until < ${now})))
              RETURNING id`
            if (direct.length > 0) {
              yield* sql`UPDATE step_runs SET status = 'cancelled', finished_at = ${now}
                WHERE execution_id = ${e.id} AND status IN ('running', 'waiting')`
              yield* engine.wake
              return { id: e.id, status: "cancelled" }
            }
            yield* sql`UPDATE executions SET cancel_requested = true WHERE id = ${e.id} AND status IN ('queued', 'running')`
            yield* engine.interruptLocal(e.id)
            return { id: e.id, status: "cancelling" }
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/stats",
        summary:
          "Counts: workflows, executions by status, success rate, average duration (yours; everyone's for admins)",
        permission: READ,
        response: Schema.Struct({
          totalWorkflows: Schema.Number,
          enabledWorkflows: Schema.Number,
          totalExecutions: Schema.Number,
          executionsByStatus: Schema.Record({ key: Schema.String, value: Schema.Number }),
          successRate: Schema.NullOr(Schema.Number),
          avgDurationSeconds: Schema.NullOr(Schema.Number)
        }),
        handler: ({ actor }) =>
          Effect.gen(function* () {
            const owner = isAdmin(actor) ? null : (Actor.actorId(actor) ?? "")
            const [w] = yield* sql<{ total: number; enabled: number }>`
              SELECT count(*)::int AS total, count(*) FILTER (WHERE enabled)::int AS enabled FROM workflows
              WHERE deleted_at IS NULL AND (${owner}::text IS NULL OR owner_id = ${owner}::text)`
            const byStatus = yield* sql<{ status: string; n: number; avg: number | null }>`
              SELECT e.status, count(*)::int AS n,
                avg(EXTRACT(EPOCH FROM (e.finished_at - e.started_at)))::float8 AS avg
              FROM executions e JOIN workflows w ON w.id = e.workflow_id
              WHERE (${owner}::text IS NULL OR w.owner_id = ${owner}::text) GROUP BY e.status`
            const counts = Object.fromEntries(byStatus.map((r) => [r.status, r.n]))
            const done = (counts.completed ?? 0) + (counts.failed ?? 0)
            const finished = byStatus.filter((r) => r.status === "completed" || r.status === "failed")
            const n = finished.reduce((a, r) => a + r.n, 0)
            return {
              totalWorkflows: w?.total ?? 0,
              enabledWorkflows: w?.enabled ?? 0,
              totalExecutions: byStatus.reduce((a, r) => a + r.n, 0),
              executionsByStatus: counts,
              successRate: done === 0 ? null : (counts.completed ?? 0) / done,
              avgDurationSeconds: n === 0 ? null : finished.reduce((a, r) => a + (r.avg ?? 0) * r.n, 0) / n
            }
          })
      })
    )
  })
