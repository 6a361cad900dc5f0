/**
 * The API under /api/plugins/compliance/. Reads need `compliance:read`
 * (auditors change nothing); the violation workflow, attestations, checks
 * and reports `compliance:write`; policies, patterns, classifications and
 * legal holds `compliance:admin`. Bodies are decoded strictly (a bad field
 * is a 400 naming it); every statement is parameterised.
 */
import { Actor, Conflict, HttpRoute, NotFound, Text, Timestamps, ValidationError } from "@streamspace/core"
import { PluginSql, Routes } from "@streamspace/kernel"
import { Effect, Schema } from "effect"
import type { ComplianceConfig } from "./Config.ts"
import { FrameworkId } from "./Config.ts"
import { builtinIds, builtins, libraryVersion, redact } from "./dlp/Patterns.ts"
import { checkRegex } from "./dlp/SafeRegex.ts"
import type { Engine, PolicyRow } from "./Engine.ts"
import { toPolicy } from "./Engine.ts"
import { reportPdf } from "./Pdf.ts"
import { frameworkById, frameworks } from "./Frameworks.ts"
import { AppliesTo, Enforcement, Rules, violationTypes } from "./Policy.ts"

/** Answers whose shape is documented in docs/plugins/compliance.md rather than in OpenAPI (yet). */
const Json = Schema.Unknown
const Severity = Schema.Literal("low", "medium", "high", "critical")
const Uuid = Schema.Struct({ id: Schema.UUID })
const Limit = Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500)))

const PolicyBody = Schema.Struct({
  name: Text.Short.pipe(Schema.minLength(1)),
  description: Schema.optionalWith(Text.Line, { default: () => "" }),
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  priority: Schema.optionalWith(Schema.Int.pipe(Schema.between(-1000, 1000)), { default: () => 0 }),
  enforcement: Enforcement,
  appliesTo: AppliesTo,
  rules: Rules
})

const PolicyOut = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  description: Schema.String,
  enabled: Schema.Boolean,
  priority: Schema.Number,
  enforcement: Enforcement,
  appliesTo: AppliesTo,
  rules: Rules,
  createdAt: Schema.Date,
  updatedAt: Schema.Date
})

const ViolationOut = Schema.Struct({
  id: Schema.String,
  policyId: Schema.NullOr(Schema.String),
  policyName: Schema.String,
  userId: Schema.NullOr(Schema.String),
  sessionId: Schema.NullOr(Schema.String),
  type: Schema.String,
  severity: Severity,
  description: Schema.String,
  details: Schema.Unknown,
  action: Schema.String,
  status: Schema.String,
  resolution: Schema.NullOr(Schema.String),
  acknowledgedBy: Schema.NullOr(Schema.String),
  resolvedBy: Schema.NullOr(Schema.String),
  resolvedAt: Schema.NullOr(Schema.Date),
  createdAt: Schema.Date
})

interface ViolationRow {
  readonly id: string
  readonly policy_id: string | null
  readonly policy_name: string
  readonly user_id: string | null
  readonly session_id: string | null
  readonly type: string
  readonly severity: "low" | "medium" | "high" | "critical"
  readonly description: string
  readonly details: unknown
  readonly action: string
  readonly status: string
  readonly resolution: string | null
  readonly acknowledged_by: string | null
  readonly resolved_by: string | null
  readonly resolved_at: Date | null
  readonly created_at: Date
}

const toViolation = (r: ViolationRow): typeof ViolationOut.Type => ({
  id: r.id,
  policyId: r.policy_id,
  policyName: r.policy_name,
  userId: r.user_id,
  sessionId: r.session_id,
  type: r.type,
  severity: r.severity,
  description: r.description,
  details: r.details,
  action: r.action,
  status: r.status,
  resolution: r.resolution,
  acknowledgedBy: r.acknowledged_by,
  resolvedBy: r.resolved_by,
  resolvedAt: r.resolved_at,
  createdAt: r.created_at
})

const violationColumns =
  "id, policy_id, policy_name, user_id, session_id, type, severity, description, details, action, status, resolution, acknowledged_by, resolved_by, resolved_at, created_at"

const policyColumns = "id, name, description, enabled, priority, enforcement, applies_to, rules, created_at, updated_at"

const sha256 = (text: string) => new Bun.CryptoHasher("sha256").update(text).digest("hex")
const sha256Bytes = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex")

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v)
  // Cells starting with = + - @ are quoted with a leading ' so spreadsheets do not run them as formulas.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s
  return /[",\n\r]/.test(safe) || safe !== s ? `"${safe.replace(/"/g, '""')}"` : safe
}

export const makeHttp = (engine: Engine, config: ComplianceConfig) =>
  Effect.gen(function* () {
    const sql = yield* PluginSql
    const routes = yield* Routes
    const actorName = (actor: Actor.Actor) => Actor.actorLabel(actor)

    /** Pattern ids a policy names must exist: built-in or custom. */
    const checkPatterns = (rules: typeof Rules.Type) =>
      Effect.gen(function* () {
        const custom = new Set((yield* sql<{ id: string }>`SELECT id FROM dlp_patterns`).map((r) => r.id))
        const lists: Array<[string, ReadonlyArray<string>]> = [
          ["body.rules.files.inspect.patterns", rules.files?.inspect?.patterns ?? []],
          ["body.rules.clipboard.inspect.patterns", rules.clipboard?.inspect?.patterns ?? []]
        ]
        for (const [path, ids] of lists)
          for (let i = 0; i < ids.length; i++)
            if (!builtinIds.includes(ids[i]!) && !custom.has(ids[i]!))
              return yield* ValidationError.field(
                `${path}.${i}`,
                `unknown pattern ${ids[i]} (see GET /api/plugins/compliance/dlp/patterns)`
              )
        // The proxy filters pastes synchronously; custom patterns run in a worker, so only built-ins fit there.
        const clipboard = rules.clipboard?.inspect?.patterns ?? []
        for (let i = 0; i < clipboard.length; i++)
          if (!builtinIds.includes(clipboard[i]!))
            return yield* ValidationError.field(
              `body.rules.clipboard.inspect.patterns.${i}`,
              `custom pattern ${clipboard[i]} cannot inspect the clipboard (built-in patterns only)`
            )
      })

    const nameTaken = (name: string, except: string | null) =>
      Effect.flatMap(
        sql<{
          id: string
        }>`SELECT id FROM policies WHERE name = ${name} AND (${except}::uuid IS NULL OR id <> ${except}::uuid)`,
        (rows) =>
          rows.length > 0
            ? Effect.fail(new Conflict({ message: `a policy named ${name} exists`, code: "policy_name_taken" }))
            : Effect.void
      )

    const getPolicy = (id: string) =>
      Effect.flatMap(sql<PolicyRow>`SELECT ${sql.unsafe(policyColumns)} FROM policies WHERE id = ${id}`, (rows) =>
        rows[0] ? Effect.succeed(toPolicy(rows[0])) : Effect.fail(new NotFound({ resource: "policy", id }))
      )

    // ---- frameworks and controls
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/frameworks",
        summary: "Framework catalogues, whether each is enabled, and their latest control results",
        permission: "compliance:read",
        response: Json,
        handler: () =>
          Effect.gen(function* () {
            const latest = yield* sql<{ framework: string; status: string; n: string | number }>`
              SELECT framework, status, count(*) AS n FROM (
                SELECT DISTINCT ON (framework, control_id) framework, control_id, status FROM control_checks
                ORDER BY framework, control_id, checked_at DESC, id DESC) l GROUP BY framework, status`
            return {
              items: frameworks.map((f) => ({
                id: f.id,
                name: f.name,
                version: f.version,
                catalogueVersion: f.catalogueVersion,
                enabled: config.enabledFrameworks.includes(f.id),
                controls: f.controls.length,
                automated: f.controls.filter((c) => c.check).length,
                latest: Object.fromEntries(
                  latest.filter((l) => l.framework === f.id).map((l) => [l.status, Number(l.n)])
                )
              }))
            }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/frameworks/:id/controls",
        summary: "A framework's controls with their latest result and evidence",
        permission: "compliance:read",
        params: Schema.Struct({ id: FrameworkId }),
        response: Json,
        handler: ({ params }) =>
          Effect.gen(function* () {
            const framework = frameworkById(params.id)!
            const latest = yield* sql<{
              control_id: string
              status: string
              summary: string
              evidence: unknown
              checked_at: Date
            }>`
              SELECT DISTINCT ON (control_id) control_id, status, summary, evidence, checked_at FROM control_checks
              WHERE framework = ${framework.id} ORDER BY control_id, checked_at DESC, id DESC`
            return {
              framework: framework.id,
              catalogueVersion: framework.catalogueVersion,
              items: framework.controls.map((c) => {
                const l = latest.find((x) => x.control_id === c.id)
                return {
                  ...c,
                  kind: c.check ? "automated" : "manual",
                  latest: l
                    ? {
                        status: l.status,
                        summary: l.summary,
                        evidence: l.evidence,
                        checkedAt: l.checked_at.toISOString()
                      }
                    : null
                }
              })
            }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/checks/run",
        summary: "Run the automated checks now (enabled frameworks unless listed)",
        permission: "compliance:write",
        rateLimit: "strict",
        body: Schema.Struct({
          frameworks: Schema.optional(Schema.Array(FrameworkId).pipe(Schema.minItems(1), Schema.maxItems(4)))
        }),
        audit: { action: "compliance.checks.run" },
        response: Json,
        handler: ({ body }) =>
          Effect.map(engine.runChecks(body.frameworks ?? config.enabledFrameworks), (r) => ({
            ...r,
            checkedAt: r.checkedAt.toISOString()
          }))
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/checks",
        summary: "Check history, newest first",
        permission: "compliance:read",
        query: Schema.Struct({
          framework: Schema.optional(FrameworkId),
          controlId: Schema.optional(Text.Short),
          limit: Limit
        }),
        response: Json,
        handler: ({ query }) =>
          Effect.gen(function* () {
            const rows = yield* sql<{
              run_id: string
              framework: string
              catalogue_version: number
              control_id: string
              check_id: string | null
              status: string
              summary: string
              evidence: unknown
              checked_at: Date
            }>`
              SELECT run_id, framework, catalogue_version, control_id, check_id, status, summary, evidence, checked_at FROM control_checks
              WHERE (${query.framework ?? null}::text IS NULL OR framework = ${query.framework ?? null})
                AND (${query.controlId ?? null}::text IS NULL OR control_id = ${query.controlId ?? null})
              ORDER BY checked_at DESC, id DESC LIMIT ${query.limit ?? 100}`
            return {
              items: rows.map((r) => ({
                runId: r.run_id,
                framework: r.framework,
                catalogueVersion: r.catalogue_version,
                controlId: r.control_id,
                checkId: r.check_id,
                status: r.status,
                summary: r.summary,
                evidence: r.evidence,
                checkedAt: r.checked_at.toISOString()
              }))
            }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/attestations",
        summary: "Attest a manual control",
        permission: "compliance:write",
        body: Schema.Struct({
          framework: FrameworkId,
          controlId: Text.Short,
          statement: Text.Long.pipe(Schema.minLength(10)),
          evidenceUrl: Schema.optional(
            Text.Line.pipe(Schema.pattern(/^https:\/\//, { message: () => "an https:// URL" }))
          )
        }),
        successStatus: 201,
        response: Json,
        handler: ({ body, actor }) =>
          Effect.gen(function* () {
            const control = frameworkById(body.framework)!.controls.find((c) => c.id === body.controlId)
            if (!control)
              return yield* ValidationError.field("body.controlId", `no control ${body.controlId} in ${body.framework}`)
            if (control.check)
              return yield* ValidationError.field(
                "body.controlId",
                `${body.controlId} is automated: run the checks instead`
              )
            const id = crypto.randomUUID()
            const at = yield* Timestamps.now
            const expires = new Date(at.getTime() + config.attestationDays * 86_400_000)
            yield* sql`INSERT INTO attestations (id, framework, control_id, statement, evidence_url, attested_by, attested_at, expires_at)
              VALUES (${id}, ${body.framework}, ${body.controlId}, ${body.statement}, ${body.evidenceUrl ?? null}, ${actorName(actor)}, ${at}, ${expires})`
            return { id, expiresAt: expires.toISOString() }
          })
      })
    )

    // ---- policies
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/policies",
        summary: "Policies in precedence order",
        permission: "compliance:read",
        response: Schema.Struct({ items: Schema.Array(PolicyOut) }),
        handler: () =>
          Effect.map(
            sql<PolicyRow>`SELECT ${sql.unsafe(policyColumns)} FROM policies ORDER BY priority DESC, name, id`,
            (rows) => ({ items: rows.map(toPolicy) })
          )
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/policies/:id",
        summary: "One policy",
        permission: "compliance:read",
        params: Uuid,
        response: PolicyOut,
        errors: [NotFound],
        handler: ({ params }) => getPolicy(params.id)
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/policies",
        summary: "Create a policy",
        permission: "compliance:admin",
        body: PolicyBody,
        response: PolicyOut,
        successStatus: 201,
        errors: [Conflict],
        audit: { action: "compliance.policy.create", target: (_, out) => out.id },
        handler: ({ body, actor }) =>
          Effect.gen(function* () {
            yield* checkPatterns(body.rules)
            yield* nameTaken(body.name, null)
            const id = crypto.randomUUID()
            const at = yield* Timestamps.now
            const appliesTo = Schema.encodeSync(AppliesTo)(body.appliesTo)
            const rules = Schema.encodeSync(Rules)(body.rules)
            yield* sql`INSERT INTO policies (id, name, description, enabled, priority, enforcement, applies_to, rules, created_by, created_at, updated_at)
              VALUES (${id}, ${body.name}, ${body.description}, ${body.enabled}, ${body.priority}, ${body.enforcement},
                ${JSON.stringify(appliesTo)}::jsonb, ${JSON.stringify(rules)}::jsonb, ${Actor.actorId(actor)}, ${at}, ${at})`
            yield* engine.invalidate
            return yield* Effect.orDie(getPolicy(id))
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "PUT",
        path: "/policies/:id",
        summary: "Replace a policy",
        permission: "compliance:admin",
        params: Uuid,
        body: PolicyBody,
        response: PolicyOut,
        errors: [NotFound, Conflict],
        audit: { action: "compliance.policy.update", target: (input) => input.params.id },
        handler: ({ params, body }) =>
          Effect.gen(function* () {
            yield* getPolicy(params.id)
            yield* checkPatterns(body.rules)
            yield* nameTaken(body.name, params.id)
            const at = yield* Timestamps.now
            yield* sql`UPDATE policies SET name = ${body.name}, description = ${body.description}, enabled = ${body.enabled},
              priority = ${body.priority}, enforcement = ${body.enforcement},
              applies_to = ${JSON.stringify(Schema.encodeSync(AppliesTo)(body.appliesTo))}::jsonb,
              rules = ${JSON.stringify(Schema.encodeSync(Rules)(body.rules))}::jsonb, updated_at = ${at} WHERE id = ${params.id}`
            yield* engine.invalidate
            return yield* getPolicy(params.id)
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "DELETE",
        path: "/policies/:id",
        summary: "Delete a policy (its violations stay, with its name)",
        permission: "compliance:admin",
        params: Uuid,
        errors: [NotFound],
        audit: { action: "compliance.policy.delete", target: (input) => input.params.id },
        handler: ({ params }) =>
          Effect.gen(function* () {
            const rows = yield* sql`DELETE FROM policies WHERE id = ${params.id} RETURNING id`
            if (rows.length === 0) return yield* new NotFound({ resource: "policy", id: params.id })
            yield* engine.invalidate
          })
      })
    )

    // ---- violations and their workflow
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/violations",
        summary: "Violations, newest first",
        permission: "compliance:read",
        query: Schema.Struct({
          status: Schema.optional(Schema.Literal("open", "acknowledged", "resolved", "false_positive")),
          severity: Schema.optional(Severity),
          type: Schema.optional(Schema.Literal(...violationTypes)),
          userId: Schema.optional(Text.Id),
          limit: Limit
        }),
        response: Schema.Struct({ items: Schema.Array(ViolationOut) }),
        handler: ({ query }) =>
          Effect.map(
            sql<ViolationRow>`SELECT ${sql.unsafe(violationColumns)} FROM violations
              WHERE (${query.status ?? null}::text IS NULL OR status = ${query.status ?? null})
                AND (${query.severity ?? null}::text IS NULL OR severity = ${query.severity ?? null})
                AND (${query.type ?? null}::text IS NULL OR type = ${query.type ?? null})
                AND (${query.userId ?? null}::text IS NULL OR user_id = ${query.userId ?? null})
              ORDER BY created_at DESC, id LIMIT ${query.limit ?? 100}`,
            (rows) => ({ items: rows.map(toViolation) })
          )
      })
    )
    const transition = (
      id: string,
      from: ReadonlyArray<string>,
      to: string,
      actor: Actor.Actor,
      resolution: string | null
    ) =>
      Effect.gen(function* () {
        const at = yield* Timestamps.now
        const who = actorName(actor)
        const rows = yield* sql<ViolationRow>`UPDATE violations SET status = ${to},
            acknowledged_by = CASE WHEN ${to} = 'acknowledged' THEN ${who} ELSE acknowledged_by END,
            acknowledged_at = CASE WHEN ${to} = 'acknowledged' THEN ${at} ELSE acknowledged_at END,
            resolved_by = CASE WHEN ${to} IN ('resolved', 'false_positive') THEN ${who} ELSE resolved_by END,
            resolved_at = CASE WHEN ${to} IN ('resolved', 'false_positive') THEN ${at} ELSE resolved_at END,
            resolution = COALESCE(${resolution}, resolution)
          WHERE id = ${id} AND status = ANY(${[...from]}) RETURNING ${sql.unsafe(violationColumns)}`
        if (rows[0]) return toViolation(rows[0])
        const exists = yield* sql<{ status: string }>`SELECT status FROM violations WHERE id = ${id}`
        if (!exists[0]) return yield* new NotFound({ resource: "violation", id })
        return yield* new Conflict({
          message: `the violation is ${exists[0].status}; it cannot become ${to}`,
          code: "invalid_transition"
        })
      })
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/violations/:id/acknowledge",
        summary: "Acknowledge an open violation",
        permission: "compliance:write",
        params: Uuid,
        response: ViolationOut,
        errors: [NotFound, Conflict],
        audit: { action: "compliance.violation.acknowledge", target: (input) => input.params.id },
        handler: ({ params, actor }) => transition(params.id, ["open"], "acknowledged", actor, null)
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/violations/:id/resolve",
        summary: "Resolve a violation (remediated) or mark it a false positive",
        permission: "compliance:write",
        params: Uuid,
        body: Schema.Struct({
          status: Schema.Literal("resolved", "false_positive"),
          resolution: Text.Long.pipe(Schema.minLength(3))
        }),
        response: ViolationOut,
        errors: [NotFound, Conflict],
        audit: { action: "compliance.violation.resolve", target: (input) => input.params.id },
        handler: ({ params, body, actor }) =>
          transition(params.id, ["open", "acknowledged"], body.status, actor, body.resolution)
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/dashboard",
        summary: "Policies, open violations by severity, latest check results of enabled frameworks",
        permission: "compliance:read",
        response: Json,
        handler: () =>
          Effect.gen(function* () {
            const [policies] = yield* sql<{
              total: string | number
              active: string | number
            }>`SELECT count(*) AS total, count(*) FILTER (WHERE enabled) AS active FROM policies`
            const bySeverity = yield* sql<{
              severity: string
              n: string | number
            }>`SELECT severity, count(*) AS n FROM violations WHERE status IN ('open', 'acknowledged') GROUP BY severity`
            const recent =
              yield* sql<ViolationRow>`SELECT ${sql.unsafe(violationColumns)} FROM violations ORDER BY created_at DESC, id LIMIT 10`
            const latest = yield* sql<{ framework: string; status: string; n: string | number }>`
              SELECT framework, status, count(*) AS n FROM (
                SELECT DISTINCT ON (framework, control_id) framework, control_id, status FROM control_checks
                ORDER BY framework, control_id, checked_at DESC, id DESC) l GROUP BY framework, status`
            return {
              totalPolicies: Number(policies?.total ?? 0),
              activePolicies: Number(policies?.active ?? 0),
              openViolations: bySeverity.reduce((n, r) => n + Number(r.n), 0),
              violationsBySeverity: Object.fromEntries(bySeverity.map((r) => [r.severity, Number(r.n)])),
              recentViolations: recent.map((r) => Schema.encodeSync(ViolationOut)(toViolation(r))),
              frameworks: config.enabledFrameworks.map((f) => ({
                id: f,
                results: Object.fromEntries(latest.filter((l) => l.framework === f).map((l) => [l.status, Number(l.n)]))
              }))
            }
          })
      })
    )

    // ---- reports
    const buildReport = (framework: string, type: "summary" | "detailed" | "attestation", from: Date, to: Date) =>
      Effect.gen(function* () {
        const f = frameworkById(framework)!
        const latest = yield* sql<{
          control_id: string
          status: string
          summary: string
          evidence: unknown
          checked_at: Date
        }>`
          SELECT DISTINCT ON (control_id) control_id, status, summary, evidence, checked_at FROM control_checks
          WHERE framework = ${f.id} AND checked_at >= ${from} AND checked_at <= ${to} ORDER BY control_id, checked_at DESC, id DESC`
        const controls = f.controls.map((c) => {
          const l = latest.find((x) => x.control_id === c.id)
          return {
            id: c.id,
            title: c.title,
            kind: c.check ? "automated" : "manual",
            status: l?.status ?? "not_checked",
            summary: l?.summary ?? "not checked in the period",
            checkedAt: l?.checked_at.toISOString() ?? null,
            ...(type === "detailed" ? { evidence: l?.evidence ?? null } : {})
          }
        })
        const count = (s: string) => controls.filter((c) => c.status === s).length
        const good = count("pass") + count("attested")
        const evaluable = good + count("fail") + count("unattested")
        const rate = evaluable === 0 ? null : Math.round((good / evaluable) * 1000) / 10
        const overall =
          rate === null
            ? "insufficient_evidence"
            : rate === 100
              ? "compliant"
              : rate >= 70
                ? "partial"
                : "non_compliant"
        const violations = yield* sql<{ severity: string; status: string; n: string | number }>`
          SELECT severity, status, count(*) AS n FROM violations WHERE created_at >= ${from} AND created_at <= ${to} GROUP BY severity, status ORDER BY severity, status`
        const attestations =
          type === "attestation"
            ? yield* sql<{
                control_id: string
                statement: string
                attested_by: string
                attested_at: Date
                expires_at: Date
              }>`
                SELECT control_id, statement, attested_by, attested_at, expires_at FROM attestations
                WHERE framework = ${f.id} AND attested_at <= ${to} ORDER BY control_id, attested_at DESC`
            : []
        return {
          overall,
          content: {
            framework: { id: f.id, name: f.name, version: f.version, catalogueVersion: f.catalogueVersion },
            type,
            period: { from: from.toISOString(), to: to.toISOString() },
            overallStatus: overall,
            controlsSummary: {
              total: controls.length,
              pass: count("pass"),
              fail: count("fail"),
              notEvaluable: count("not_evaluable"),
              attested: count("attested"),
              unattested: count("unattested"),
              notChecked: count("not_checked"),
              complianceRate: rate
            },
            controls,
            violations: violations.map((v) => ({ severity: v.severity, status: v.status, count: Number(v.n) })),
            ...(type === "attestation"
              ? {
                  attestations: attestations.map((a) => ({
                    controlId: a.control_id,
                    statement: a.statement,
                    attestedBy: a.attested_by,
                    attestedAt: a.attested_at.toISOString(),
                    expiresAt: a.expires_at.toISOString()
                  }))
                }
              : {})
          }
        }
      })
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/reports",
        summary: "Generate and store a report (its SHA-256 is stored with it)",
        permission: "compliance:write",
        rateLimit: "strict",
        body: Schema.Struct({
          framework: FrameworkId,
          type: Schema.Literal("summary", "detailed", "attestation"),
          from: Text.Timestamp,
          to: Text.Timestamp
        }),
        successStatus: 201,
        audit: { action: "compliance.report.generate" },
        response: Json,
        handler: ({ body, actor }) =>
          Effect.gen(function* () {
            if (body.to.getTime() <= body.from.getTime())
              return yield* ValidationError.field("body.to", "must be after body.from")
            const { overall, content } = yield* buildReport(body.framework, body.type, body.from, body.to)
            const id = crypto.randomUUID()
            const at = yield* Timestamps.now
            const document = { id, generatedAt: at.toISOString(), generatedBy: actorName(actor), ...content }
            const text = JSON.stringify(document)
            const hash = sha256(text)
            yield* sql`INSERT INTO reports (id, framework, report_type, period_start, period_end, overall_status, content, sha256, generated_by, generated_at)
              VALUES (${id}, ${body.framework}, ${body.type}, ${body.from}, ${body.to}, ${overall}, ${text}::jsonb, ${hash}, ${actorName(actor)}, ${at})`
            return { id, sha256: hash, report: document }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/reports",
        summary: "Stored reports, newest first",
        permission: "compliance:read",
        response: Json,
        handler: () =>
          Effect.map(
            sql<{
              id: string
              framework: string
              report_type: string
              period_start: Date
              period_end: Date
              overall_status: string
              sha256: string
              generated_by: string | null
              generated_at: Date
            }>`
              SELECT id, framework, report_type, period_start, period_end, overall_status, sha256, generated_by, generated_at FROM reports ORDER BY generated_at DESC LIMIT 200`,
            (rows) => ({
              items: rows.map((r) => ({
                id: r.id,
                framework: r.framework,
                type: r.report_type,
                from: r.period_start.toISOString(),
                to: r.period_end.toISOString(),
                overallStatus: r.overall_status,
                sha256: r.sha256,
                generatedBy: r.generated_by,
                generatedAt: r.generated_at.toISOString()
              }))
            })
          )
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/reports/:id",
        summary: "A stored report as JSON (with its stored SHA-256), CSV (one row per control) or PDF",
        permission: "compliance:read",
        params: Uuid,
        query: Schema.Struct({
          format: Schema.optionalWith(Schema.Literal("json", "csv", "pdf"), { default: () => "json" as const })
        }),
        errors: [NotFound],
        handler: ({ params, query }) =>
          Effect.gen(function* () {
            const rows = yield* sql<{
              content: unknown
              sha256: string
            }>`SELECT content, sha256 FROM reports WHERE id = ${params.id}`
            const row = rows[0]
            if (!row) return yield* new NotFound({ resource: "report", id: params.id })
            // jsonb does not keep key order: the stored hash is of the document as generated (POST /reports
            // answered it); CSV and PDF carry their own hash in x-content-sha256.
            if (query.format === "json")
              return new Response(JSON.stringify({ sha256: row.sha256, report: row.content }), {
                headers: { "content-type": "application/json" }
              })
            if (query.format === "pdf") {
              const pdf = yield* Effect.promise(() =>
                reportPdf(params.id, row.sha256, row.content as Parameters<typeof reportPdf>[2])
              )
              return new Response(pdf, {
                headers: {
                  "content-type": "application/pdf",
                  "content-disposition": `attachment; filename="compliance-${params.id}.pdf"`,
                  "x-content-sha256": sha256Bytes(pdf),
                  "x-report-sha256": row.sha256
                }
              })
            }
            const content = row.content as { controls: ReadonlyArray<Record<string, unknown>> }
            const header = ["id", "title", "kind", "status", "summary", "checkedAt"]
            const lines = [header.join(","), ...content.controls.map((c) => header.map((h) => csvCell(c[h])).join(","))]
            const csv = `${lines.join("\r\n")}\r\n`
            return new Response(csv, {
              headers: {
                "content-type": "text/csv; charset=utf-8",
                "content-disposition": `attachment; filename="compliance-${params.id}.csv"`,
                "x-content-sha256": sha256(csv),
                "x-report-sha256": row.sha256
              }
            })
          })
      })
    )

    // ---- DLP patterns and the tester
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/dlp/patterns",
        summary: "The built-in pattern library (versioned) and custom patterns",
        permission: "compliance:read",
        response: Json,
        handler: () =>
          Effect.gen(function* () {
            const custom = yield* sql<{
              id: string
              name: string
              source: string
              flags: string
              severity: string
              version: number
            }>`
              SELECT id, name, source, flags, severity, version FROM dlp_patterns ORDER BY id`
            return {
              libraryVersion,
              builtins: builtins.map((b) => ({
                id: b.id,
                name: b.name,
                version: b.version,
                severity: b.severity,
                description: b.description
              })),
              custom
            }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/dlp/patterns",
        summary: "Add or replace a custom pattern (refused if it can backtrack catastrophically)",
        permission: "compliance:admin",
        body: Schema.Struct({
          id: Schema.String.pipe(
            Schema.pattern(/^custom-[a-z0-9-]{1,60}$/, { message: () => "custom-<lowercase letters, digits, ->" })
          ),
          name: Text.Short.pipe(Schema.minLength(1)),
          source: Text.Line,
          flags: Schema.optionalWith(Schema.String.pipe(Schema.maxLength(4)), { default: () => "" }),
          severity: Schema.optionalWith(Severity, { default: () => "medium" as const })
        }),
        successStatus: 201,
        audit: { action: "compliance.pattern.save", target: (input) => input.body.id },
        response: Json,
        handler: ({ body }) =>
          Effect.gen(function* () {
            const problem = checkRegex(body.source, body.flags)
            if (problem)
              return yield* ValidationError.field(
                problem.message.startsWith("flags") ? "body.flags" : "body.source",
                problem.message
              )
            const at = yield* Timestamps.now
            yield* sql`INSERT INTO dlp_patterns (id, name, source, flags, severity, version, created_at, updated_at)
              VALUES (${body.id}, ${body.name}, ${body.source}, ${body.flags}, ${body.severity}, 1, ${at}, ${at})
              ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, source = EXCLUDED.source, flags = EXCLUDED.flags,
                severity = EXCLUDED.severity, version = dlp_patterns.version + 1, updated_at = EXCLUDED.updated_at`
            yield* engine.invalidate
            return { id: body.id }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "DELETE",
        path: "/dlp/patterns/:id",
        summary: "Delete a custom pattern no policy uses",
        permission: "compliance:admin",
        params: Schema.Struct({ id: Text.Short }),
        errors: [NotFound, Conflict],
        handler: ({ params }) =>
          Effect.gen(function* () {
            const used = yield* sql<{ name: string }>`SELECT name FROM policies
              WHERE rules->'files'->'inspect'->'patterns' ? ${params.id} OR rules->'clipboard'->'inspect'->'patterns' ? ${params.id}`
            if (used.length > 0)
              return yield* new Conflict({
                message: `used by ${used.map((u) => u.name).join(", ")}`,
                code: "pattern_in_use"
              })
            const rows = yield* sql`DELETE FROM dlp_patterns WHERE id = ${params.id} RETURNING id`
            if (rows.length === 0) return yield* new NotFound({ resource: "pattern", id: params.id })
            yield* engine.invalidate
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/dlp/test",
        summary: "Try patterns on a text: findings (offsets, no matched text) and the redacted text",
        permission: "compliance:read",
        rateLimit: "strict",
        transactional: false,
        audit: false,
        body: Schema.Struct({
          text: Schema.String.pipe(Schema.maxLength(100_000)),
          patterns: Schema.optional(Schema.Array(Text.Short).pipe(Schema.maxItems(50))),
          /** A regex to try before saving it: checked like a saved one. */
          regex: Schema.optional(
            Schema.Struct({
              source: Text.Line,
              flags: Schema.optionalWith(Schema.String.pipe(Schema.maxLength(4)), { default: () => "" })
            })
          )
        }),
        response: Json,
        handler: ({ body }) =>
          Effect.gen(function* () {
            const { patterns } = yield* engine.load
            const custom: Array<{ id: string; source: string; flags: string; severity: string }> = [...patterns]
            if (body.regex) {
              const problem = checkRegex(body.regex.source, body.regex.flags)
              if (problem) return yield* ValidationError.field("body.regex.source", problem.message)
              custom.push({ id: "tested", source: body.regex.source, flags: body.regex.flags, severity: "medium" })
            }
            const ids = [
              ...(body.patterns ?? [...builtinIds, ...patterns.map((p) => p.id)]),
              ...(body.regex ? ["tested"] : [])
            ]
            const { found, timedOut } = yield* engine.scan(body.text, ids, custom)
            return {
              findings: found.map((f) => ({ pattern: f.pattern, severity: f.severity, start: f.start, end: f.end })),
              redacted: redact(body.text, found),
              timedOut
            }
          })
      })
    )

    // ---- template classification, retention, legal holds
    yield* routes.add(
      HttpRoute.make({
        method: "PUT",
        path: "/templates/:id/classification",
        summary: "Classify a template (policies allow templates by classification)",
        permission: "compliance:admin",
        params: Schema.Struct({ id: Text.Id }),
        body: Schema.Struct({
          classification: Schema.String.pipe(
            Schema.pattern(/^[a-z][a-z0-9_-]{0,39}$/, { message: () => "lowercase letters, digits, _ and -" })
          )
        }),
        handler: ({ params, body }) =>
          Effect.gen(function* () {
            const at = yield* Timestamps.now
            yield* sql`INSERT INTO template_classifications (template_id, classification, updated_at) VALUES (${params.id}, ${body.classification}, ${at})
              ON CONFLICT (template_id) DO UPDATE SET classification = EXCLUDED.classification, updated_at = EXCLUDED.updated_at`
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/retention/preview",
        summary: "What the retention job would delete now (dry run)",
        permission: "compliance:read",
        response: Json,
        handler: () =>
          Effect.map(engine.retentionPreview, (p) => ({
            ...p,
            cutoff: p.cutoff.toISOString(),
            retentionDays: config.retentionDays
          }))
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "PUT",
        path: "/legal-holds/:userId",
        summary: "Place a legal hold: the user's violations are kept past retention",
        permission: "compliance:admin",
        params: Schema.Struct({ userId: Text.Id }),
        body: Schema.Struct({ reason: Text.Line.pipe(Schema.minLength(3)) }),
        handler: ({ params, body, actor }) =>
          Effect.gen(function* () {
            const at = yield* Timestamps.now
            yield* sql`INSERT INTO legal_holds (user_id, reason, placed_by, placed_at) VALUES (${params.userId}, ${body.reason}, ${actorName(actor)}, ${at})
              ON CONFLICT (user_id) DO UPDATE SET reason = EXCLUDED.reason, placed_by = EXCLUDED.placed_by, placed_at = EXCLUDED.placed_at`
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "DELETE",
        path: "/legal-holds/:userId",
        summary: "Lift a legal hold",
        permission: "compliance:admin",
        params: Schema.Struct({ userId: Text.Id }),
        errors: [NotFound],
        handler: ({ params }) =>
          Effect.gen(function* () {
            const rows = yield* sql`DELETE FROM legal_holds WHERE user_id = ${params.userId} RETURNING user_id`
            if (rows.length === 0) return yield* new NotFound({ resource: "legal hold", id: params.userId })
          })
      })
    )
  })
