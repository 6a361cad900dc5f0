/**
 * The plugin's running parts: the policy cache, the hooks that enforce
 * policies, the session projection (from the core's session events), the
 * violation writer and the jobs. Every statement is parameterised
 * (`sql\`…${value}\``); no SQL is built from strings.
 */
import { CoreEvents, Directory, Timestamps } from "@streamspace/core"
import { Events, Hooks, PlatformPosture, Plugins, PluginSql, SessionControl, Veto } from "@streamspace/kernel"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Effect, Option, Queue, Schema } from "effect"
import { type CheckStatus, type PlatformSignals, runCheck, type Signals } from "./Checks.ts"
import type { ComplianceConfig } from "./Config.ts"
import { type CustomPattern, type CustomRegexRunner, makeRunner } from "./dlp/CustomRegex.ts"
import { builtins, type Finding as PatternFinding, scanBuiltins } from "./dlp/Patterns.ts"
import { inspectableText, sniff } from "./dlp/Sniff.ts"
import { evaluateFile, evaluateLogin, evaluateSession, patternsOf } from "./Evaluate.ts"
import { type Framework, frameworkById } from "./Frameworks.ts"
import {
  AppliesTo,
  applies,
  blocks,
  type Decision,
  type Finding,
  needsDirectory,
  ordered,
  type Policy,
  Rules,
  type Subject
} from "./Policy.ts"

export const ViolationCreated = Events.define(
  "compliance.violation.created",
  Schema.Struct({
    violationId: Schema.String,
    policyId: Schema.NullOr(Schema.String),
    policyName: Schema.String,
    userId: Schema.NullOr(Schema.String),
    sessionId: Schema.NullOr(Schema.String),
    type: Schema.String,
    severity: Schema.Literal("low", "medium", "high", "critical"),
    action: Schema.Literal("blocked", "allowed_with_warning", "logged_only"),
    description: Schema.String
  }),
  "A compliance or DLP policy was broken (blocked, allowed with a warning, or logged): for notification plugins."
)

export const ChecksCompleted = Events.define(
  "compliance.checks.completed",
  Schema.Struct({
    runId: Schema.String,
    frameworks: Schema.Array(Schema.String),
    passed: Schema.Number,
    failed: Schema.Number,
    notEvaluable: Schema.Number
  }),
  "An automated control check run finished (every checkInterval hours, or on demand)."
)

export interface PolicyRow {
  readonly id: string
  readonly name: string
  readonly description: string
  readonly enabled: boolean
  readonly priority: number
  readonly enforcement: Policy["enforcement"]
  readonly applies_to: unknown
  readonly rules: unknown
  readonly created_at: Date
  readonly updated_at: Date
}

const decodeAppliesTo = Schema.decodeUnknownSync(AppliesTo)
const decodeRules = Schema.decodeUnknownSync(Rules)

export const toPolicy = (r: PolicyRow): Policy & { description: string; createdAt: Date; updatedAt: Date } => ({
  id: r.id,
  name: r.name,
  description: r.description,
  enabled: r.enabled,
  priority: r.priority,
  enforcement: r.enforcement,
  appliesTo: decodeAppliesTo(r.applies_to),
  rules: decodeRules(r.rules),
  createdAt: r.created_at,
  updatedAt: r.updated_at
})

interface Draft {
  readonly finding: Finding
  readonly userId: string | null
  readonly sessionId: string | null
  readonly action: "blocked" | "allowed_with_warning" | "logged_only"
}

const actionOf = (f: Finding): Draft["action"] =>
  blocks(f)
    ? "blocked"
    : f.policy.enforcement === "warning" && f.action !== "log"
      ? "allowed_with_warning"
      : "logged_only"

const cacheMs = 5000
/** After a change, loads are not cached for this long (the change commits after it is announced). */
export const uncachedMs = 1000

interface ControlResult {
  readonly status: CheckStatus | "attested" | "unattested"
  readonly summary: string
  readonly evidence: Record<string, unknown>
}

export const makeEngine = (config: ComplianceConfig) =>
  Effect.gen(function* () {
    const sql = yield* PluginSql
    const events = yield* Events
    const directory = yield* Directory.Directory
    const plugins = yield* Plugins
    // Optional so the plugin still runs on a host without the posture service (its checks are then not evaluable).
    const posture = yield* Effect.serviceOption(PlatformPosture)
    const runner: CustomRegexRunner = yield* Effect.acquireRelease(Effect.sync(makeRunner), (r) =>
      Effect.sync(() => r.close())
    )

    // ---- policies and custom patterns, cached per replica (5 s, or until this replica changes them)
    let cache: {
      readonly at: number
      readonly policies: ReadonlyArray<Policy>
      readonly patterns: ReadonlyArray<CustomPattern & { severity: string }>
    } | null = null
    /** Offered when policies or tracked sessions change on this replica (the clipboard guard looks again). */
    const changes = yield* Effect.acquireRelease(Queue.sliding<void>(1), Queue.shutdown)
    // A change is invalidated inside its route's transaction, before it commits: loads in the next second read
    // the database without caching, so a read that still saw the old rows is not kept for 5 s.
    let uncachedUntil = 0
    /** True when no change is in flight: a load now sees committed rows only. */
    const settled = Effect.map(Clock.currentTimeMillis, (now) => now >= uncachedUntil)
    /** Told the new policies by the change itself (inside its transaction), for synchronous enforcement. */
    const listeners = new Set<(policies: ReadonlyArray<Policy>) => void>()
    const onPolicies = (listener: (policies: ReadonlyArray<Policy>) => void) =>
      Effect.acquireRelease(
        Effect.sync(() => listeners.add(listener)),
        () => Effect.sync(() => listeners.delete(listener))
      )
    const load = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      if (cache && now - cache.at < cacheMs) return cache
      const rows =
        yield* sql<PolicyRow>`SELECT id, name, description, enabled, priority, enforcement, applies_to, rules, created_at, updated_at FROM policies WHERE enabled`
      const patterns = yield* sql<{
        id: string
        source: string
        flags: string
        severity: string
      }>`SELECT id, source, flags, severity FROM dlp_patterns`
      const loaded = { at: now, policies: ordered(rows.map(toPolicy)), patterns }
      cache = now < uncachedUntil ? null : loaded
      return loaded
    })

    const invalidate = Effect.gen(function* () {
      cache = null
      uncachedUntil = (yield* Clock.currentTimeMillis) + uncachedMs
      const fresh = yield* load
      for (const listener of listeners) listener(fresh.policies)
      yield* Queue.offer(changes, undefined)
    })

    // ---- violations: written outside the core action's transaction (a refused action rolls its transaction
    // back; the violation must stay), and durable before its caller is answered
    const write = (d: Draft) =>
      sql.withTransaction(
        Effect.gen(function* () {
          const id = crypto.randomUUID()
          const at = yield* Timestamps.now
          yield* sql`INSERT INTO violations (id, policy_id, policy_name, user_id, session_id, type, severity, description, details, action, created_at)
            VALUES (${id}, ${d.finding.policy.id}, ${d.finding.policy.name}, ${d.userId}, ${d.sessionId}, ${d.finding.type},
              ${d.finding.severity}, ${d.finding.message}, ${JSON.stringify(d.finding.details)}::jsonb, ${d.action}, ${at})`
          yield* events.publish(ViolationCreated, {
            violationId: id,
            policyId: d.finding.policy.id,
            policyName: d.finding.policy.name,
            userId: d.userId,
            sessionId: d.sessionId,
            type: d.finding.type,
            severity: d.finding.severity,
            action: d.action,
            description: d.finding.message
          })
          return id
        })
      )
    /**
     * `suspendOnCritical`: a blocked critical violation hibernates the user's pending and running sessions
     * (SessionControl, as the platform; each leaves an audit row), and the violation lists them.
     */
    const control = yield* SessionControl
    const suspend = (violationId: string, d: Draft) =>
      Effect.gen(function* () {
        if (!config.suspendOnCritical || d.action !== "blocked" || d.finding.severity !== "critical" || !d.userId)
          return
        const sessions = yield* sql<{ session_id: string }>`
          SELECT session_id FROM tracked_sessions WHERE user_id = ${d.userId} AND state IN ('pending', 'running')`
        const suspended: Array<string> = []
        for (const s of sessions)
          yield* control.hibernate(s.session_id).pipe(
            Effect.map(() => void suspended.push(s.session_id)),
            Effect.catchAll((e) => Effect.logWarning(`compliance: could not suspend ${s.session_id}: ${e.message}`))
          )
        if (suspended.length > 0)
          yield* sql`UPDATE violations SET details = details || ${JSON.stringify({ suspendedSessions: suspended })}::jsonb
            WHERE id = ${violationId}`
      })
    /** A failed write is logged: it neither turns a veto into a 500 nor refuses an action allowed with a warning. */
    const persist = (d: Draft) =>
      write(d).pipe(
        Effect.flatMap((id) => suspend(id, d)),
        Effect.catchAllCause((cause) => Effect.logError("compliance: a violation could not be recorded", cause))
      )
    const draftsOf = (decision: Decision, userId: string | null, sessionId: string | null): ReadonlyArray<Draft> =>
      decision.findings.map((finding) => ({ finding, userId, sessionId, action: actionOf(finding) }))
    // Without a request to wait for (the clipboard filter, which must not wait), a fiber writes them a moment
    // later, and a crash in between loses them.
    const queue = yield* Effect.acquireRelease(Queue.unbounded<Draft>(), Queue.shutdown)
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(queue), persist)))
    const record = (decision: Decision, userId: string | null, sessionId: string | null) =>
      Effect.gen(function* () {
        const drafts = draftsOf(decision, userId, sessionId)
        const attached = yield* Hooks.afterOutcome(Effect.forEach(drafts, persist, { discard: true }))
        if (!attached) yield* Queue.offerAll(queue, drafts)
      })
    const enforce = (decision: Decision, userId: string | null, sessionId: string | null) =>
      Effect.gen(function* () {
        if (decision.findings.length > 0) yield* record(decision, userId, sessionId)
        const b = decision.blockedBy
        if (b) return yield* new Veto({ reason: `policy "${b.policy.name}": ${b.message}` })
      })

    const subjectOf = (userId: string, policies: ReadonlyArray<Policy>) =>
      needsDirectory(policies)
        ? Effect.map(Effect.orDie(directory.user(userId)), (u) =>
            Option.match(u, {
              onNone: (): Subject => ({ userId, roles: [], groups: [] }),
              onSome: (user): Subject => ({ userId, roles: user.roles, groups: user.groups })
            })
          )
        : Effect.succeed<Subject>({ userId, roles: [], groups: [] })

    const templateOf = (templateId: string) =>
      Effect.map(Effect.orDie(directory.template(templateId)), (t) =>
        Option.match(t, {
          onNone: () => ({ id: templateId, name: templateId }),
          onSome: (x) => ({ id: x.id, name: x.name })
        })
      )

    /** Built-in and custom pattern findings over `text`; a custom-pattern timeout is reported, not thrown. */
    const scan = (
      text: string,
      ids: ReadonlyArray<string>,
      custom: ReadonlyArray<CustomPattern & { severity: string }>
    ) =>
      Effect.gen(function* () {
        const found: Array<PatternFinding> = [...scanBuiltins(text, ids)]
        const selected = custom.filter((c) => ids.includes(c.id))
        const severities = new Map(selected.map((c) => [c.id, c.severity as PatternFinding["severity"]]))
        const timedOut = yield* runner.scan(selected, text, { deadlineMs: config.customPatternDeadlineMs }).pipe(
          Effect.map((hits) => {
            for (const h of hits) found.push({ ...h, severity: severities.get(h.pattern) ?? "medium" })
            return false
          }),
          Effect.catchTag("InspectionTimeout", () => Effect.succeed(true))
        )
        return { found, timedOut }
      })

    const fileCheck = (
      stage: "meta" | "content" | "all",
      input: {
        userId: string
        sessionId: string | null
        name: string
        size: number | null
        head?: (n: number) => Effect.Effect<Uint8Array>
      }
    ) =>
      Effect.gen(function* () {
        const { policies, patterns } = yield* load
        const withFiles = policies.filter((p) => p.rules.files)
        if (withFiles.length === 0) return
        const subject = yield* subjectOf(input.userId, withFiles)
        const needTemplate = withFiles.some((p) => p.appliesTo.templates.length > 0)
        const templateId =
          needTemplate && input.sessionId
            ? (yield* sql<{
                template_id: string
              }>`SELECT template_id FROM tracked_sessions WHERE session_id = ${input.sessionId}`)[0]?.template_id
            : undefined
        const template = templateId ? yield* templateOf(templateId) : null
        const applicable = withFiles.filter((p) => applies(p, subject, template))
        if (applicable.length === 0) return
        let type = "unknown"
        let content: ReadonlyArray<PatternFinding> = []
        let truncated = false
        let timedOut = false
        const wantsContent = applicable.some(
          (p) => p.rules.files?.inspect || p.rules.files?.allowTypes || p.rules.files?.denyTypes
        )
        if (stage !== "meta" && input.head && wantsContent) {
          const bytes = yield* input.head(config.inspectBytes)
          truncated = input.size !== null && input.size > bytes.length
          type = sniff(bytes)
          const ids = patternsOf(applicable.map((p) => p.rules.files?.inspect))
          if (ids.length > 0) {
            const result = yield* scan(inspectableText(bytes, type), ids, patterns)
            content = result.found
            timedOut = result.timedOut
          }
        }
        const decision = evaluateFile(applicable, subject, {
          direction: stage === "all" ? "download" : "upload",
          template,
          name: input.name,
          size: input.size ?? 0,
          type,
          content,
          truncated,
          stage
        })
        yield* enforce(decision, input.userId, input.sessionId)
        if (
          timedOut &&
          applicable.some((p) => p.enforcement === "blocking" && p.rules.files?.inspect?.action !== "log")
        )
          return yield* new Veto({ reason: "content inspection did not finish in time; refused" })
      })

    /** A database failure inside a hook is a defect: the hook point's policy (fail-open or fail-closed) decides. */
    const orDieSql = <A>(e: Effect.Effect<A, Veto | SqlError>): Effect.Effect<A, Veto> =>
      Effect.catchTag(e, "SqlError", (error) => Effect.die(error))

    const registerHooks = Effect.gen(function* () {
      const hooks = yield* Hooks
      yield* hooks.intercept("user.beforeLogin", (input) =>
        orDieSql(
          Effect.gen(function* () {
            const { policies } = yield* load
            const withLogin = policies.filter((p) => p.rules.login)
            if (withLogin.length === 0) return input
            const subject = yield* subjectOf(input.userId, withLogin)
            const at = yield* Timestamps.now
            yield* enforce(evaluateLogin(withLogin, subject, { ip: input.ip, mfa: input.mfa, at }), input.userId, null)
            return input
          })
        )
      )
      yield* hooks.intercept("session.beforeCreate", (input) =>
        orDieSql(
          Effect.gen(function* () {
            const { policies } = yield* load
            const withSession = policies.filter((p) => p.rules.session)
            if (withSession.length === 0) return input
            const subject = yield* subjectOf(input.userId, withSession)
            const template = { id: input.templateId, name: input.templateName }
            const active = Number(
              (yield* sql<{
                n: number | string
              }>`SELECT count(*) AS n FROM tracked_sessions WHERE user_id = ${input.userId} AND state IN ('pending', 'running')`)[0]
                ?.n ?? 0
            )
            const classification =
              (yield* sql<{
                classification: string
              }>`SELECT classification FROM template_classifications WHERE template_id = ${input.templateId}`)[0]
                ?.classification ?? null
            yield* enforce(
              evaluateSession(withSession, subject, { template, classification, active, reason: input.reason }),
              input.userId,
              null
            )
            return input
          })
        )
      )
      yield* hooks.intercept("file.beforeUpload", (input) =>
        orDieSql(
          Effect.as(
            fileCheck("meta", { userId: input.userId, sessionId: input.sessionId, name: input.name, size: input.size }),
            input
          )
        )
      )
      yield* hooks.intercept(
        "file.inspectUpload",
        (input) =>
          orDieSql(
            Effect.as(
              fileCheck("content", {
                userId: input.userId,
                sessionId: input.sessionId,
                name: input.name,
                size: input.size,
                head: input.head
              }),
              input
            )
          ),
        { timeoutMs: 10_000 }
      )
      yield* hooks.intercept(
        "file.beforeDownload",
        (input) =>
          orDieSql(
            Effect.as(
              fileCheck("all", {
                userId: input.userId,
                sessionId: input.sessionId,
                name: input.name,
                size: input.size,
                head: input.head
              }),
              input
            )
          ),
        { timeoutMs: 10_000 }
      )
    }).pipe(Effect.orDie)

    // ---- the session projection: which sessions are active, and since when they run
    const trackSessions = Effect.gen(function* () {
      yield* events.subscribe(
        {
          name: "sessions",
          events: [
            CoreEvents.SessionCreated,
            CoreEvents.SessionStarted,
            CoreEvents.SessionWoken,
            CoreEvents.SessionHibernated,
            CoreEvents.SessionStopped,
            CoreEvents.SessionDeleted,
            CoreEvents.SessionFailed
          ]
        },
        (event) =>
          Effect.gen(function* () {
            const p = event.payload
            const at = p.at ? new Date(p.at) : event.occurredAt
            if (
              event.type === "session.stopped" ||
              event.type === "session.deleted" ||
              event.type === "session.failed"
            ) {
              yield* sql`DELETE FROM tracked_sessions WHERE session_id = ${p.sessionId}`
              return
            }
            const state =
              event.type === "session.created"
                ? "pending"
                : event.type === "session.hibernated"
                  ? "hibernated"
                  : "running"
            const runningSince = state === "running" ? at : null
            yield* sql`INSERT INTO tracked_sessions (session_id, user_id, template_id, state, running_since, updated_at)
              VALUES (${p.sessionId}, ${p.userId}, ${p.templateId}, ${state}, ${runningSince}, ${at})
              ON CONFLICT (session_id) DO UPDATE SET state = EXCLUDED.state, running_since = EXCLUDED.running_since, updated_at = EXCLUDED.updated_at
              WHERE tracked_sessions.updated_at <= EXCLUDED.updated_at`
          }).pipe(Effect.zipLeft(Queue.offer(changes, undefined)))
      )
    })

    /** Sessions running longer than an applicable policy allows: hibernated (blocking) or flagged once (warning, advisory). */
    const enforceDuration = Effect.gen(function* () {
      const { policies } = yield* load
      const withDuration = policies.filter((p) => p.rules.session?.maxDurationMinutes !== undefined)
      if (withDuration.length === 0) return
      const now = yield* Timestamps.now
      const running = yield* sql<{ session_id: string; user_id: string; template_id: string; running_since: Date }>`
        SELECT session_id, user_id, template_id, running_since FROM tracked_sessions WHERE state = 'running' AND running_since IS NOT NULL`
      for (const s of running) {
        const subject = yield* subjectOf(s.user_id, withDuration)
        const template = withDuration.some((p) => p.appliesTo.templates.length > 0)
          ? yield* templateOf(s.template_id)
          : { id: s.template_id, name: s.template_id }
        const minutes = (now.getTime() - s.running_since.getTime()) / 60_000
        const findings: Array<Finding> = withDuration
          .filter(
            (p) =>
              applies(p, subject, template) &&
              minutes > (p.rules.session?.maxDurationMinutes ?? Number.POSITIVE_INFINITY)
          )
          .map((policy) => ({
            policy,
            type: "session_duration_violation" as const,
            severity: "medium" as const,
            message: `session ran ${Math.floor(minutes)} minutes, over the maximum of ${policy.rules.session?.maxDurationMinutes}`,
            details: {
              minutes: Math.floor(minutes),
              max: policy.rules.session?.maxDurationMinutes,
              runningSince: s.running_since.toISOString()
            }
          }))
        if (findings.length === 0) continue
        // One violation per session run and policy.
        const seen = yield* sql<{ policy_id: string }>`SELECT policy_id FROM violations
          WHERE session_id = ${s.session_id} AND type = 'session_duration_violation' AND created_at >= ${s.running_since}`
        const fresh = findings.filter((f) => !seen.some((r) => r.policy_id === f.policy.id))
        const blocking = findings.some(blocks)
        // Written before the session is hibernated: the job can wait for the database.
        if (fresh.length > 0)
          yield* Effect.forEach(
            draftsOf({ findings: fresh, blockedBy: fresh.find(blocks) ?? null }, s.user_id, s.session_id),
            persist,
            { discard: true }
          )
        if (blocking)
          yield* control
            .hibernate(s.session_id)
            .pipe(
              Effect.catchAll((e) => Effect.logWarning(`compliance: could not hibernate ${s.session_id}: ${e.message}`))
            )
      }
    })

    // ---- control checks
    /** The core's posture facts; null when the host offers none or refuses them (checks say not evaluable). */
    const platformSignals = Option.match(posture, {
      onNone: () => Effect.succeed<PlatformSignals | null>(null),
      onSome: (service) =>
        service.snapshot.pipe(
          Effect.map(({ takenAt: _, ...facts }): PlatformSignals | null => facts),
          Effect.catchTag("PlatformAccessDenied", (denied) =>
            Effect.as(Effect.logWarning(`compliance: ${denied.message}`), null)
          )
        )
    })
    const signals = Effect.gen(function* () {
      const now = yield* Timestamps.now
      const admins = yield* Effect.orDie(directory.users({ roles: ["admin"] }))
      const rows =
        yield* sql<PolicyRow>`SELECT id, name, description, enabled, priority, enforcement, applies_to, rules, created_at, updated_at FROM policies`
      const open = yield* sql<{
        id: string
        severity: string
        created_at: Date
      }>`SELECT id, severity, created_at FROM violations WHERE status IN ('open', 'acknowledged')`
      const s: Signals = {
        now,
        admins,
        policies: rows.map(toPolicy),
        openViolations: open.map((v) => ({ id: v.id, severity: v.severity, createdAt: v.created_at })),
        retentionDays: config.retentionDays,
        recorderEnabled: yield* plugins.isEnabled("session-recorder"),
        platform: yield* platformSignals
      }
      return s
    })

    const evaluateControl = (framework: Framework, controlIndex: number, s: Signals) =>
      Effect.gen(function* () {
        const control = framework.controls[controlIndex]!
        if (control.check) {
          const checked: ControlResult = runCheck(control, s)
          return checked
        }
        const attestations = yield* sql<{
          id: string
          attested_by: string
          attested_at: Date
          expires_at: Date
          statement: string
        }>`
          SELECT id, attested_by, attested_at, expires_at, statement FROM attestations
          WHERE framework = ${framework.id} AND control_id = ${control.id} AND expires_at > ${s.now} ORDER BY attested_at DESC LIMIT 1`
        const a = attestations[0]
        const r: ControlResult = a
          ? {
              status: "attested",
              summary: `attested by ${a.attested_by} until ${a.expires_at.toISOString()}`,
              evidence: { attestationId: a.id, statement: a.statement }
            }
          : { status: "unattested", summary: "manual control without a valid attestation", evidence: {} }
        return r
      })

    const runChecks = (frameworkIds: ReadonlyArray<string>) =>
      sql.withTransaction(
        Effect.gen(function* () {
          const s = yield* signals
          const runId = crypto.randomUUID()
          let passed = 0
          let failed = 0
          let notEvaluable = 0
          for (const fid of frameworkIds) {
            const framework = frameworkById(fid)
            if (!framework) continue
            for (let i = 0; i < framework.controls.length; i++) {
              const control = framework.controls[i]!
              const r = yield* evaluateControl(framework, i, s)
              if (r.status === "pass" || r.status === "attested") passed++
              else if (r.status === "fail" || r.status === "unattested") failed++
              else notEvaluable++
              yield* sql`INSERT INTO control_checks (run_id, framework, catalogue_version, control_id, check_id, status, summary, evidence, checked_at)
                VALUES (${runId}, ${framework.id}, ${framework.catalogueVersion}, ${control.id}, ${control.check?.id ?? null}, ${r.status}, ${r.summary}, ${JSON.stringify(r.evidence)}::jsonb, ${s.now})`
            }
          }
          yield* events.publish(ChecksCompleted, { runId, frameworks: [...frameworkIds], passed, failed, notEvaluable })
          return { runId, passed, failed, notEvaluable, checkedAt: s.now }
        })
      )

    // ---- retention of the plugin's own data
    const retentionCutoff = Effect.map(
      Timestamps.now,
      (now) => new Date(now.getTime() - config.retentionDays * 86_400_000)
    )
    const retentionPreview = Effect.gen(function* () {
      const cutoff = yield* retentionCutoff
      const [v] = yield* sql<{
        n: string | number
      }>`SELECT count(*) AS n FROM violations WHERE status IN ('resolved', 'false_positive') AND created_at < ${cutoff}
        AND (user_id IS NULL OR user_id NOT IN (SELECT user_id FROM legal_holds))`
      const [held] = yield* sql<{
        n: string | number
      }>`SELECT count(*) AS n FROM violations WHERE status IN ('resolved', 'false_positive') AND created_at < ${cutoff}
        AND user_id IN (SELECT user_id FROM legal_holds)`
      const [c] = yield* sql<{
        n: string | number
      }>`SELECT count(*) AS n FROM control_checks WHERE checked_at < ${cutoff}`
      const [r] = yield* sql<{ n: string | number }>`SELECT count(*) AS n FROM reports WHERE generated_at < ${cutoff}`
      return {
        cutoff,
        violations: Number(v?.n ?? 0),
        keptByLegalHold: Number(held?.n ?? 0),
        checks: Number(c?.n ?? 0),
        reports: Number(r?.n ?? 0)
      }
    })
    const purge = sql.withTransaction(
      Effect.gen(function* () {
        const cutoff = yield* retentionCutoff
        yield* sql`DELETE FROM violations WHERE status IN ('resolved', 'false_positive') AND created_at < ${cutoff}
          AND (user_id IS NULL OR user_id NOT IN (SELECT user_id FROM legal_holds))`
        yield* sql`DELETE FROM control_checks WHERE checked_at < ${cutoff}`
        yield* sql`DELETE FROM reports WHERE generated_at < ${cutoff}`
      })
    )

    return {
      load,
      invalidate,
      settled,
      onPolicies,
      changes,
      record,
      subjectOf,
      templateOf,
      registerHooks,
      trackSessions,
      enforceDuration,
      runChecks,
      retentionPreview,
      purge,
      scan,
      builtins
    }
  })

export type Engine = Effect.Effect.Success<ReturnType<typeof makeEngine>>
