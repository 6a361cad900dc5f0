/**
 * The execution engine. Every replica runs one worker loop; the work is in
 * the plugin's tables, so any replica can carry on what another started.
 *
 * - **Admission**: an execution is `queued` until its workflow has a free
 *   slot (`concurrency`); admission locks the workflow row, so replicas
 *   never over-admit.
 * - **Claim**: a `running` execution that is due (`run_at`) and whose lease
 *   is free or expired is claimed with `FOR UPDATE SKIP LOCKED` and leased
 *   (`leaseSeconds`, renewed by a heartbeat). A replica that dies (`kill
 *   -9`) stops renewing; after the lease expires another replica claims the
 *   execution and resumes it.
 * - **Steps**: a step's row is written (`running`, attempt n) before its
 *   action runs, and its outcome commits with the lease check in one
 *   transaction. A resumed execution re-runs only steps whose outcome never
 *   committed; a step with an idempotency key is never run twice: its key is
 *   claimed with the attempt, a completed key's output is reused, and a key
 *   whose attempt was interrupted fails the step as `outcome unknown`
 *   instead of running it again.
 * - **Waiting** (a `wait` step, a retry back-off) is durable: the step row
 *   holds `next_at`, the execution `run_at`, and the lease is released.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import type { SqlClient, SqlError } from "@effect/sql"
import { EgressPolicy, RetryPolicy, Timestamps } from "@streamspace/core"
import { Events, type Plugins, type SessionControl } from "@streamspace/kernel"
import { NotifyMethod } from "@streamspace/notify"
import { Cron, Data, Duration, Effect, Either, Fiber, Queue, Schema } from "effect"
import * as Def from "./Definition.ts"
import * as Expr from "./Expr.ts"

export const ExecutionPayload = Schema.Struct({
  executionId: Schema.String,
  workflowId: Schema.String,
  workflowName: Schema.String,
  version: Schema.Number,
  ownerId: Schema.String,
  status: Schema.Literal("completed", "failed", "cancelled"),
  error: Schema.NullOr(Schema.String),
  triggerType: Schema.String,
  durationMs: Schema.Number
})
export const ExecutionCompleted = Events.define(
  "workflows.execution.completed",
  ExecutionPayload,
  "A workflow execution finished: every step completed, was skipped, or failed into its onFailure handler."
)
export const ExecutionFailed = Events.define(
  "workflows.execution.failed",
  ExecutionPayload,
  "A workflow execution failed: a step failed after its retries without an onFailure handler (error says which)."
)
export const ExecutionCancelled = Events.define(
  "workflows.execution.cancelled",
  ExecutionPayload,
  "A workflow execution was cancelled before it finished."
)

export interface EngineConfig {
  readonly leaseSeconds: number
  readonly pollSeconds: number
  readonly workerConcurrency: number
  readonly userCallableMethods: ReadonlyArray<string>
}

export interface EngineDeps {
  readonly sql: SqlClient.SqlClient
  readonly events: Events["Type"]
  readonly plugins: Plugins["Type"]
  readonly http: HttpClient.HttpClient
  readonly sessions: SessionControl["Type"]
  readonly config: EngineConfig
  readonly instance: string
}

/** A step's action failed: `permanent` failures are not retried. */
export class StepFailed extends Data.TaggedError("StepFailed")<{
  readonly message: string
  readonly permanent: boolean
}> {}

class LeaseLost extends Data.TaggedError("LeaseLost")<{ readonly executionId: string }> {}

type Json = Expr.Json

interface ExecutionRow {
  readonly id: string
  readonly workflow_id: string
  readonly version: number
  readonly status: string
  readonly trigger_type: string
  readonly trigger_data: Json
  readonly vars: Json
  readonly cancel_requested: boolean
  readonly created_at: Date
  readonly started_at: Date | null
  readonly owner_id: string
  readonly owner_admin: boolean
  readonly name: string
  readonly definition: unknown
}

interface StepRow {
  readonly step_id: string
  readonly status: string
  readonly attempts: number
  readonly activated_by: string | null
  readonly output: Json
  readonly error: string | null
  readonly next_at: Date | null
}

const json = (v: unknown) => JSON.stringify(v ?? null)
const MAX_BODY = 64 * 1024

const asJson = (v: unknown): Json => JSON.parse(JSON.stringify(v ?? null)) as Json

export const decodeDefinition = Schema.decodeUnknownSync(Def.Definition)

/** The engine of one replica; `signal` wakes its worker (made by `make`). */
const engineOf = (deps: EngineDeps, signal: Queue.Queue<void>) => {
  const { sql, config, instance } = deps
  const running = new Map<string, Fiber.RuntimeFiber<void, never>>()
  const leaseMs = config.leaseSeconds * 1000

  /** Wakes this replica's worker (a new execution, a freed slot). */
  const wake = Queue.offer(signal, undefined).pipe(Effect.asVoid)

  // ---- admission and claim ----

  const admit = Effect.gen(function* () {
    const now = yield* Timestamps.now
    yield* sql.withTransaction(
      Effect.gen(function* () {
        const workflows = yield* sql<{ id: string; concurrency: number }>`
          SELECT w.id, w.concurrency FROM workflows w
          WHERE EXISTS (SELECT 1 FROM executions e WHERE e.workflow_id = w.id AND e.status = 'queued' AND e.run_at <= ${now})
          ORDER BY w.id LIMIT 50 FOR UPDATE SKIP LOCKED`
        for (const w of workflows)
          yield* sql`UPDATE executions SET status = 'running', started_at = ${now}
            WHERE id IN (SELECT id FROM executions WHERE workflow_id = ${w.id} AND status = 'queued' AND run_at <= ${now}
              ORDER BY created_at, id
              LIMIT GREATEST(0, ${w.concurrency}::int - (SELECT count(*)::int FROM executions WHERE workflow_id = ${w.id} AND status = 'running')))`
      })
    )
  })

  const claim = (n: number) =>
    Effect.gen(function* () {
      const now = yield* Timestamps.now
      const until = new Date(now.getTime() + leaseMs)
      const rows = yield* sql<{ id: string }>`
        UPDATE executions SET lease_owner = ${instance}, lease_until = ${until}
        WHERE id IN (
          SELECT id FROM executions
          WHERE status = 'running' AND run_at <= ${now} AND (lease_until IS NULL OR lease_until < ${now})
          ORDER BY run_at, id LIMIT ${n} FOR UPDATE SKIP LOCKED)
        RETURNING id`
      return rows.map((r) => r.id)
    })

  // ---- one execution ----

  const load = (id: string) =>
    Effect.map(
      sql<ExecutionRow>`
        SELECT e.id, e.workflow_id, e.version, e.status, e.trigger_type, e.trigger_data, e.vars, e.cancel_requested,
               e.created_at, e.started_at, w.owner_id, w.owner_admin, w.name, v.definition
        FROM executions e JOIN workflows w ON w.id = e.workflow_id
        JOIN workflow_versions v ON v.workflow_id = e.workflow_id AND v.version = e.version
        WHERE e.id = ${id}`,
      (rows) => rows[0]
    )

  const stepRows = (id: string) =>
    Effect.map(
      sql<StepRow>`SELECT step_id, status, attempts, activated_by, output, error, next_at FROM step_runs WHERE execution_id = ${id}`,
      (rows) => new Map(rows.map((r) => [r.step_id, r]))
    )

  /** Runs `body` in a transaction that first checks this replica still holds the execution's lease. */
  const committed = <A, E>(executionId: string, body: Effect.Effect<A, E>) =>
    sql.withTransaction(
      Effect.gen(function* () {
        const mine =
          yield* sql`SELECT 1 AS one FROM executions WHERE id = ${executionId} AND lease_owner = ${instance} FOR UPDATE`
        if (mine.length === 0) return yield* new LeaseLost({ executionId })
        return yield* body
      })
    )

  const finish = (
    e: ExecutionRow,
    status: "completed" | "failed" | "cancelled",
    error: string | null
  ): Effect.Effect<void, SqlError.SqlError | LeaseLost> =>
    Effect.gen(function* () {
      const now = yield* Timestamps.now
      yield* committed(
        e.id,
        Effect.gen(function* () {
          yield* sql`UPDATE executions SET status = ${status}, error = ${error}, finished_at = ${now}, lease_owner = NULL, lease_until = NULL
            WHERE id = ${e.id}`
          if (status !== "completed")
            yield* sql`UPDATE step_runs SET status = 'cancelled', finished_at = ${now}
              WHERE execution_id = ${e.id} AND status IN ('running', 'waiting')`
          const payload = {
            executionId: e.id,
            workflowId: e.workflow_id,
            workflowName: e.name,
            version: e.version,
            ownerId: e.owner_id,
            status,
            error,
            triggerType: e.trigger_type,
            durationMs: now.getTime() - (e.started_at ?? e.created_at).getTime()
          }
          yield* deps.events.publish(
            status === "completed" ? ExecutionCompleted : status === "failed" ? ExecutionFailed : ExecutionCancelled,
            payload
          )
        })
      )
      yield* wake
    })

  const scopeOf = (e: ExecutionRow, rows: ReadonlyMap<string, StepRow>, vars: Json): Record<string, Json> => ({
    trigger: e.trigger_data,
    vars,
    steps: Object.fromEntries(
      [...rows.values()].map((r) => [
        r.step_id,
        { status: r.status, output: r.output, error: r.error, attempts: r.attempts }
      ])
    ),
    execution: {
      id: e.id,
      version: e.version,
      startedAt: (e.started_at ?? e.created_at).toISOString(),
      triggerType: e.trigger_type
    },
    workflow: { id: e.workflow_id, name: e.name }
  })

  const renderIn = (value: unknown, scope: Record<string, Json>) => {
    const r = Expr.renderDeep(asJson(value), scope, Def.STEP_ROOTS)
    return r.ok
      ? Effect.succeed(r.value)
      : Effect.fail(new StepFailed({ message: `template: ${r.error.message}`, permanent: true }))
  }
  const text = (value: string | undefined, scope: Record<string, Json>, what: string) =>
    Effect.flatMap(renderIn(value ?? "", scope), (v) =>
      typeof v === "string" || typeof v === "number"
        ? Effect.succeed(String(v))
        : Effect.fail(new StepFailed({ message: `${what} must render to a string`, permanent: true }))
    )

  // ---- actions ----

  const httpAction = (
    s: Def.Step & { type: "http" },
    scope: Record<string, Json>,
    key: string | null,
    e: ExecutionRow
  ) =>
    Effect.gen(function* () {
      const url = yield* text(s.url, scope, "url")
      const headers = (yield* renderIn(s.headers, scope)) as Record<string, Json>
      const body = s.body === undefined ? undefined : yield* renderIn(s.body, scope)
      let request = HttpClientRequest.make(s.method)(url).pipe(
        HttpClientRequest.setHeaders({
          "user-agent": "StreamSpace-Workflows/1",
          "x-streamspace-execution": e.id,
          ...Object.fromEntries(
            Object.entries(headers).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])
          ),
          ...(key ? { "idempotency-key": key } : {})
        })
      )
      if (body !== undefined)
        request = HttpClientRequest.bodyText(request, JSON.stringify(body), "application/json; charset=utf-8")
      const answer = yield* deps.http.execute(request).pipe(
        Effect.flatMap((res) =>
          Effect.map(res.text, (t) => ({ status: res.status, text: t, type: res.headers["content-type"] ?? "" }))
        ),
        Effect.either
      )
      if (answer._tag === "Left") {
        const refused = EgressPolicy.refusal(answer.left)
        if (refused) return yield* new StepFailed({ message: refused.message, permanent: true })
        return yield* new StepFailed({
          message: `could not reach ${new URL(url).host}: ${answer.left.message}`,
          permanent: false
        })
      }
      const { status, text: raw, type } = answer.right
      const clipped = raw.slice(0, MAX_BODY)
      let parsed: Json = clipped
      if (type.includes("json"))
        try {
          parsed = JSON.parse(clipped) as Json
        } catch {
          parsed = clipped
        }
      if (status < 200 || status >= 300)
        return yield* new StepFailed({
          message: `HTTP ${status}${clipped ? `: ${clipped.trim().slice(0, 300)}` : ""}`,
          permanent: !RetryPolicy.isRetryableStatus(status)
        })
      return { status, body: parsed } satisfies Json
    })

  const action = (
    s: Def.Step,
    scope: Record<string, Json>,
    key: string | null,
    e: ExecutionRow
  ): Effect.Effect<Json, StepFailed> => {
    switch (s.type) {
      case "call":
        return Effect.gen(function* () {
          const name = `${s.plugin}.${s.method}`
          if (!e.owner_admin && !config.userCallableMethods.includes(name))
            return yield* new StepFailed({
              message: `${name} may be called only by workflows of admins (or list it in userCallableMethods)`,
              permanent: true
            })
          const input = yield* renderIn(s.input, scope)
          const out = yield* deps.plugins.call(s.plugin, s.method, input).pipe(
            Effect.mapError(
              (err) =>
                new StepFailed({
                  message: err._tag === "PluginUnavailable" ? err.message : `${name}: ${err.message}`,
                  permanent: err._tag === "PluginUnavailable" && err.reason === "unknown"
                })
            )
          )
          return asJson(out)
        })
      case "http":
        return httpAction(s, scope, key, e)
      case "notify":
        return Effect.gen(function* () {
          const name = `${s.provider}.notify`
          if (!e.owner_admin && !config.userCallableMethods.includes(name))
            return yield* new StepFailed({
              message: `notifying through ${s.provider} is for workflows of admins (or list ${name} in userCallableMethods)`,
              permanent: true
            })
          const [integrationId, title, body] = yield* Effect.all([
            text(s.integrationId, scope, "integrationId"),
            text(s.title, scope, "title"),
            text(s.text, scope, "text")
          ])
          // Queued by the provider's durable delivery path; the key makes a re-run of this step (a resumed
          // execution, a retry after the queue took it) queue nothing more.
          const out = yield* deps.plugins
            .call(s.provider, NotifyMethod.notify, {
              integrationId,
              key: key ? `workflows:${e.workflow_id}:${key}` : `workflows:${e.id}:${s.id}`,
              title: title.slice(0, 500),
              text: body.slice(0, 4000),
              severity: s.severity,
              fields: [
                { label: "Workflow", value: e.name },
                { label: "Execution", value: e.id }
              ],
              event: "workflows.notify"
            })
            .pipe(
              Effect.mapError(
                (err) =>
                  new StepFailed({
                    message: err._tag === "PluginUnavailable" ? err.message : `${name}: ${err.message}`,
                    // A disabled notifier may come back (retried); an unknown plugin, a missing integration or bad input will not.
                    permanent: err._tag === "PluginCallError" || err.reason === "unknown"
                  })
              )
            )
          return asJson(out)
        })
      case "session":
        return Effect.gen(function* () {
          if (!e.owner_admin)
            return yield* new StepFailed({
              message: "session actions run only in workflows saved by an admin",
              permanent: true
            })
          // Through the platform's SessionControl (the core's checks and quotas apply; each action is audited).
          const action = s.action
          const r = yield* (
            action === "create"
              ? Effect.flatMap(
                  Effect.all([
                    s.userId === undefined ? Effect.succeed(e.owner_id) : text(s.userId, scope, "userId"),
                    text(s.templateId, scope, "templateId")
                  ]),
                  ([userId, templateId]) => deps.sessions.create(userId, { templateId })
                )
              : Effect.flatMap(text(s.sessionId, scope, "sessionId"), (id) => deps.sessions[action](id))
          ).pipe(
            Effect.mapError((err) =>
              err._tag === "StepFailed"
                ? err
                : new StepFailed({
                    message: err.message,
                    permanent:
                      err._tag === "PlatformAccessDenied" ||
                      err.status === 400 ||
                      err.status === 403 ||
                      err.status === 404
                  })
            )
          )
          return { id: r.id, state: r.state, desired: r.desired }
        })
      case "wait":
      case "set":
        return Effect.fail(new StepFailed({ message: `${s.type} has no action`, permanent: true }))
    }
  }

  /** Runs one ready step and commits its outcome. */
  const runStep = (
    e: ExecutionRow,
    s: Def.Step,
    row: StepRow | undefined,
    activatedBy: string | null,
    scope: Record<string, Json>
  ): Effect.Effect<void, SqlError.SqlError | LeaseLost> =>
    Effect.gen(function* () {
      const now = yield* Timestamps.now
      let attempts = row?.attempts ?? 0
      const done = (
        status: "completed" | "skipped" | "failed",
        output: Json,
        error: string | null,
        extra?: Effect.Effect<void, SqlError.SqlError>
      ) =>
        committed(
          e.id,
          Effect.gen(function* () {
            const at = yield* Timestamps.now
            yield* sql`INSERT INTO step_runs (execution_id, step_id, status, attempts, activated_by, output, error, started_at, finished_at)
              VALUES (${e.id}, ${s.id}, ${status}, ${attempts}, ${activatedBy}, ${json(output)}::jsonb, ${error}, ${now}, ${at})
              ON CONFLICT (execution_id, step_id) DO UPDATE SET status = EXCLUDED.status, output = EXCLUDED.output,
                error = EXCLUDED.error, finished_at = EXCLUDED.finished_at, next_at = NULL`
            if (extra) yield* extra
          })
        )
      if (s.if !== undefined && row === undefined) {
        const parsed = Expr.parse(s.if, Def.STEP_ROOTS)
        const r = parsed.ok ? Expr.evaluate(parsed.value, scope) : parsed
        if (!r.ok) return yield* done("failed", null, `if: ${r.error.message}`)
        if (!Expr.truthy(r.value)) return yield* done("skipped", null, null)
      }
      if (s.type === "wait") {
        if (row?.status === "waiting" && row.next_at && row.next_at.getTime() <= now.getTime())
          return yield* done("completed", { waitedUntil: row.next_at.toISOString() }, null)
        let until: Date
        try {
          until =
            s.until === undefined
              ? new Date(now.getTime() + (s.seconds ?? 0) * 1000)
              : Cron.next(Either.getOrThrow(Cron.parse(s.until.cron, s.until.timeZone)), now)
        } catch {
          return yield* done("failed", null, "until: the cron expression never matches")
        }
        return yield* committed(
          e.id,
          sql`INSERT INTO step_runs (execution_id, step_id, status, attempts, activated_by, next_at, started_at)
            VALUES (${e.id}, ${s.id}, 'waiting', 1, ${activatedBy}, ${until}, ${now})
            ON CONFLICT (execution_id, step_id) DO UPDATE SET status = 'waiting', next_at = EXCLUDED.next_at`
        )
      }
      if (s.type === "set") {
        const values: Record<string, Json> = {}
        for (const [k, src] of Object.entries(s.variables)) {
          const parsed = Expr.parse(src, Def.STEP_ROOTS)
          const r = parsed.ok
            ? Expr.evaluate(parsed.value, { ...scope, vars: { ...(scope.vars as object), ...values } })
            : parsed
          if (!r.ok) return yield* done("failed", null, `variables.${k}: ${r.error.message}`)
          values[k] = r.value
        }
        return yield* done(
          "completed",
          values,
          null,
          sql`UPDATE executions SET vars = vars || ${json(values)}::jsonb WHERE id = ${e.id}`.pipe(Effect.asVoid)
        )
      }

      // An action: idempotency key first.
      let key: string | null = null
      if (s.idempotencyKey !== undefined) {
        const k = Expr.renderDeep(s.idempotencyKey, scope, Def.STEP_ROOTS)
        if (!k.ok) return yield* done("failed", null, `idempotencyKey: ${k.error.message}`)
        key = typeof k.value === "string" ? k.value : JSON.stringify(k.value)
        const [existing] = yield* sql<{ status: string; output: Json; execution_id: string }>`
          SELECT status, output, execution_id FROM step_keys WHERE workflow_id = ${e.workflow_id} AND key = ${key}`
        if (existing?.status === "completed") return yield* done("completed", existing.output, null)
        if (existing)
          return yield* done(
            "failed",
            null,
            `outcome unknown: an attempt with idempotency key ${JSON.stringify(key)} (execution ${existing.execution_id}) was interrupted before its outcome was recorded; it is not run again`
          )
      }
      const attempt = (row?.attempts ?? 0) + 1
      const claimedKey = yield* committed(
        e.id,
        Effect.gen(function* () {
          if (key !== null) {
            const got = yield* sql`INSERT INTO step_keys (workflow_id, key, execution_id, step_id, status, created_at)
              VALUES (${e.workflow_id}, ${key}, ${e.id}, ${s.id}, 'started', ${now}) ON CONFLICT DO NOTHING RETURNING key`
            if (got.length === 0) return false
          }
          yield* sql`INSERT INTO step_runs (execution_id, step_id, status, attempts, activated_by, started_at)
            VALUES (${e.id}, ${s.id}, 'running', ${attempt}, ${activatedBy}, ${now})
            ON CONFLICT (execution_id, step_id) DO UPDATE SET status = 'running', attempts = ${attempt}, next_at = NULL, error = NULL`
          return true
        })
      )
      if (!claimedKey)
        return yield* done("failed", null, `idempotency key ${JSON.stringify(key)} is held by another execution`)
      const outcome = yield* action(s, scope, key, e).pipe(
        Effect.timeoutFail({
          duration: Duration.seconds(s.timeoutSeconds),
          onTimeout: () => new StepFailed({ message: `timed out after ${s.timeoutSeconds} s`, permanent: false })
        }),
        Effect.either
      )
      attempts = attempt
      if (outcome._tag === "Right")
        return yield* done(
          "completed",
          outcome.right,
          null,
          key === null
            ? undefined
            : sql`UPDATE step_keys SET status = 'completed', output = ${json(outcome.right)}::jsonb, finished_at = ${yield* Timestamps.now}
                WHERE workflow_id = ${e.workflow_id} AND key = ${key}`.pipe(Effect.asVoid)
        )
      // A definite failure: the key is released so a retry (or a later execution) may run it.
      const release =
        key === null
          ? Effect.void
          : sql`DELETE FROM step_keys WHERE workflow_id = ${e.workflow_id} AND key = ${key}`.pipe(Effect.asVoid)
      const retry = s.retry ?? { maxAttempts: 1, backoffSeconds: 1, multiplier: 2 }
      if (!outcome.left.permanent && attempt < retry.maxAttempts) {
        const delay = retry.backoffSeconds * retry.multiplier ** (attempt - 1) * 1000
        const at = new Date((yield* Timestamps.now).getTime() + delay)
        return yield* committed(
          e.id,
          Effect.zipRight(
            release,
            sql`UPDATE step_runs SET status = 'waiting', next_at = ${at}, error = ${outcome.left.message}
              WHERE execution_id = ${e.id} AND step_id = ${s.id}`
          )
        )
      }
      return yield* done("failed", null, outcome.left.message, release)
    })

  /** Drives an execution this replica leased until it finishes or has to wait. */
  const drive = (id: string): Effect.Effect<void, SqlError.SqlError | LeaseLost> =>
    Effect.gen(function* () {
      // Steps running in this replica now; each reports on `finished` when it is done, and the flow moves on at once.
      const inflight = new Map<string, Fiber.RuntimeFiber<void, SqlError.SqlError | LeaseLost>>()
      const finished = yield* Queue.unbounded<string>()
      const stopSteps = Effect.suspend(() => {
        const all = [...inflight.values()]
        inflight.clear()
        return Effect.forEach(all, Fiber.interrupt, { discard: true })
      })
      for (;;) {
        const e = yield* load(id)
        if (!e || e.status !== "running") return yield* stopSteps
        if (e.cancel_requested) return yield* Effect.zipRight(stopSteps, finish(e, "cancelled", "cancelled"))
        const def = decodeDefinition(e.definition)
        const plan = Def.plan(def)
        const rows = yield* stepRows(id)
        const [vars] = yield* sql<{ vars: Json }>`SELECT vars FROM executions WHERE id = ${id}`
        const scope = scopeOf(e, rows, vars?.vars ?? {})
        const now = yield* Timestamps.now
        const status = (sid: string) => rows.get(sid)?.status

        // Steps cut off by a failure upstream are bypassed (transitively, in list order of dependencies).
        const bypass: Array<string> = []
        let changed = true
        const bypassed = new Set<string>()
        while (changed) {
          changed = false
          for (const s of plan.steps) {
            if (plan.handlers.has(s.id) || rows.has(s.id) || bypassed.has(s.id)) continue
            if (
              (plan.deps.get(s.id) ?? []).some(
                (d) => status(d) === "failed" || status(d) === "bypassed" || bypassed.has(d)
              )
            ) {
              bypassed.add(s.id)
              bypass.push(s.id)
              changed = true
            }
          }
        }
        if (bypass.length > 0) {
          yield* committed(
            id,
            Effect.forEach(
              bypass,
              (sid) => sql`INSERT INTO step_runs (execution_id, step_id, status, error, finished_at)
                VALUES (${id}, ${sid}, 'bypassed', 'a step it waits for failed', ${now}) ON CONFLICT DO NOTHING`,
              { discard: true }
            )
          )
          continue
        }

        const unhandled = plan.steps.find((s) => status(s.id) === "failed" && s.onFailure === undefined)
        if (unhandled)
          return yield* Effect.zipRight(
            stopSteps,
            finish(e, "failed", `step ${unhandled.id} failed: ${rows.get(unhandled.id)?.error ?? ""}`)
          )

        const ready: Array<{ step: Def.Step; row: StepRow | undefined; activatedBy: string | null }> = []
        let nextAt: number | undefined
        for (const s of plan.steps) {
          const row = rows.get(s.id)
          if (inflight.has(s.id)) continue
          if (row && ["completed", "skipped", "failed", "bypassed", "cancelled"].includes(row.status)) continue
          let activatedBy: string | null = null
          if (plan.handlers.has(s.id)) {
            const failed = plan.steps.find((x) => x.onFailure === s.id && status(x.id) === "failed")
            if (!failed) continue
            activatedBy = failed.id
          } else if (!(plan.deps.get(s.id) ?? []).every((d) => status(d) === "completed" || status(d) === "skipped"))
            continue
          if (row?.status === "waiting" && row.next_at && row.next_at.getTime() > now.getTime()) {
            nextAt = Math.min(nextAt ?? Number.POSITIVE_INFINITY, row.next_at.getTime())
            continue
          }
          ready.push({ step: s, row, activatedBy })
        }
        if (ready.length === 0 && inflight.size === 0) {
          if (nextAt !== undefined) {
            // Durable wait: nothing holds the execution until run_at.
            yield* committed(
              id,
              sql`UPDATE executions SET run_at = ${new Date(nextAt)}, lease_owner = NULL, lease_until = NULL WHERE id = ${id}`
            )
            return
          }
          return yield* finish(e, "completed", null)
        }
        for (const r of ready)
          inflight.set(
            r.step.id,
            yield* Effect.fork(
              runStep(e, r.step, r.row, r.activatedBy, scope).pipe(Effect.ensuring(Queue.offer(finished, r.step.id)))
            )
          )
        // The next step to finish, or the earliest timer of a waiting step, whichever comes first.
        const next =
          nextAt === undefined
            ? Queue.take(finished)
            : Effect.raceFirst(
                Queue.take(finished),
                Effect.as(Effect.sleep(Duration.millis(Math.max(0, nextAt - now.getTime()))), null)
              )
        const doneId = yield* next
        if (doneId === null) continue
        const fiber = inflight.get(doneId)
        inflight.delete(doneId)
        if (fiber) {
          const exit = yield* Fiber.await(fiber)
          if (exit._tag === "Failure") return yield* Effect.zipRight(stopSteps, Effect.failCause(exit.cause))
        }
      }
    })

  /** Renews the lease while `id` runs; interrupts it when the lease is lost or a cancel was asked. */
  const heartbeat = (id: string, fiber: () => Fiber.RuntimeFiber<void, never> | undefined) =>
    Effect.gen(function* () {
      for (;;) {
        yield* Effect.sleep(Duration.millis(Math.max(200, leaseMs / 3)))
        const now = yield* Timestamps.now
        const rows = yield* sql<{ cancel_requested: boolean }>`
          UPDATE executions SET lease_until = ${new Date(now.getTime() + leaseMs)}
          WHERE id = ${id} AND lease_owner = ${instance} AND status = 'running' RETURNING cancel_requested`
        const f = fiber()
        if (rows.length === 0 || rows[0]!.cancel_requested) {
          if (f) yield* Fiber.interrupt(f)
          return
        }
      }
    })

  const process = (id: string) =>
    Effect.gen(function* () {
      const self = yield* Effect.fork(
        drive(id).pipe(
          Effect.catchAll((err) =>
            err._tag === "LeaseLost" ? Effect.logWarning(`lost the lease of execution ${id}`) : Effect.fail(err)
          ),
          Effect.catchAllCause((cause) => Effect.logError(`execution ${id} stopped`, cause))
        )
      )
      running.set(id, self)
      const beat = yield* Effect.fork(heartbeat(id, () => running.get(id)).pipe(Effect.ignore))
      const exit = yield* Fiber.await(self)
      yield* Fiber.interrupt(beat)
      running.delete(id)
      // Interrupted for a cancel: record it (the lease is still ours).
      if (exit._tag === "Failure") {
        const e = yield* load(id)
        if (e && e.status === "running" && e.cancel_requested)
          yield* finish(e, "cancelled", "cancelled").pipe(Effect.ignore)
      }
    }).pipe(Effect.catchAllCause((cause) => Effect.logError(`execution ${id}`, cause)))

  /** The worker loop of this replica. */
  const worker = Effect.gen(function* () {
    for (;;) {
      yield* admit.pipe(Effect.catchAllCause((c) => Effect.logWarning("workflows admission failed", c)))
      const free = config.workerConcurrency - running.size
      const ids = free > 0 ? yield* claim(free).pipe(Effect.orElseSucceed(() => [] as Array<string>)) : []
      for (const id of ids) yield* Effect.forkDaemon(Effect.zipRight(process(id), wake))
      if (ids.length === 0)
        yield* Effect.raceFirst(Queue.take(signal), Effect.sleep(Duration.seconds(config.pollSeconds)))
    }
  })

  /** Stops a running execution of this replica at once (a cancel asked here). */
  const interruptLocal = (id: string) =>
    Effect.suspend(() => {
      const f = running.get(id)
      return f ? Fiber.interrupt(f).pipe(Effect.asVoid) : Effect.void
    })

  /** Stops every execution of this replica and frees their leases, so another replica (or this one re-enabled) resumes them at once. */
  const stopAll = Effect.suspend(() => Effect.forEach([...running.values()], Fiber.interrupt, { discard: true })).pipe(
    Effect.zipRight(
      sql`UPDATE executions SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ${instance}`.pipe(
        Effect.ignore
      )
    )
  )

  return { wake, worker, interruptLocal, stopAll, running: () => running.size }
}

export const make = (deps: EngineDeps) => Effect.map(Queue.sliding<void>(1), (signal) => engineOf(deps, signal))

export type Engine = ReturnType<typeof engineOf>

/** Creates an execution (queued), once per `dedupeKey`; wakes the worker. */
export const enqueue = (
  sql: SqlClient.SqlClient,
  input: {
    readonly workflowId: string
    readonly version: number
    readonly triggerType: string
    readonly triggerData: Json
    readonly vars: Json
    readonly dedupeKey: string | null
    readonly triggeredBy: string | null
  }
) =>
  Effect.gen(function* () {
    const now = yield* Timestamps.now
    const id = crypto.randomUUID()
    const rows = yield* sql<{ id: string }>`
      INSERT INTO executions (id, workflow_id, version, status, trigger_type, trigger_data, vars, dedupe_key, triggered_by, run_at, created_at)
      VALUES (${id}, ${input.workflowId}, ${input.version}, 'queued', ${input.triggerType}, ${json(input.triggerData)}::jsonb,
        ${json(input.vars)}::jsonb, ${input.dedupeKey}, ${input.triggeredBy}, ${now}, ${now})
      ON CONFLICT (workflow_id, dedupe_key) DO NOTHING RETURNING id`
    if (rows.length > 0) return { id, created: true }
    const [existing] = yield* sql<{ id: string }>`
      SELECT id FROM executions WHERE workflow_id = ${input.workflowId} AND dedupe_key = ${input.dedupeKey}`
    return { id: existing?.id ?? id, created: false }
  })
