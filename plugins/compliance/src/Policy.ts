/**
 * Policies: who they apply to (`appliesTo`), how hard they bite
 * (`enforcement`), and rules per hook point. Evaluation is pure: given the
 * applicable policies and the facts of one action it returns the findings
 * and the decision. Precedence is deterministic: policies are ordered by
 * priority (higher first), then by enforcement (blocking, warning,
 * advisory: the most restrictive first), then by name; every applicable
 * policy is evaluated, so the strictest limit always holds, and the first
 * blocking finding in that order names the veto.
 */
import { Schema } from "effect"
import { builtinIds, type Severity } from "./dlp/Patterns.ts"
import { fileTypes } from "./dlp/Sniff.ts"

export const Enforcement = Schema.Literal("advisory", "warning", "blocking")
export type Enforcement = typeof Enforcement.Type

const Name = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200))
const Ids = (max: number) => Schema.Array(Name).pipe(Schema.maxItems(max))

export const AppliesTo = Schema.Struct({
  all: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  users: Schema.optionalWith(Ids(1000), { default: () => [] }),
  groups: Schema.optionalWith(Ids(200), { default: () => [] }),
  roles: Schema.optionalWith(Ids(100), { default: () => [] }),
  /** Template ids or names: session and file rules apply only to sessions of these templates. */
  templates: Schema.optionalWith(Ids(200), { default: () => [] })
})
export type AppliesTo = typeof AppliesTo.Type

const Hhmm = Schema.String.pipe(Schema.pattern(/^([01]\d|2[0-3]):[0-5]\d$/, { message: () => "HH:MM (00:00–23:59)" }))
const TimeZone = Schema.String.pipe(
  Schema.filter(
    (tz) => {
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: tz })
        return true
      } catch {
        return false
      }
    },
    { message: () => "an IANA time zone (e.g. Europe/Paris)" }
  )
)
const Cidr = Schema.String.pipe(
  Schema.maxLength(64),
  Schema.pattern(/^[0-9a-fA-F:.]+\/\d{1,3}$/, { message: () => "a CIDR range like 10.0.0.0/8 or 2001:db8::/32" })
)

export const DlpAction = Schema.Literal("block", "redact", "log")
export type DlpAction = typeof DlpAction.Type

export const Inspection = Schema.Struct({
  /** Built-in pattern ids and custom pattern ids (see GET /dlp/patterns). */
  patterns: Schema.Array(Name).pipe(Schema.minItems(1), Schema.maxItems(50)),
  action: Schema.optionalWith(DlpAction, { default: () => "block" as const })
})
export type Inspection = typeof Inspection.Type

export const Rules = Schema.Struct({
  login: Schema.optional(
    Schema.Struct({
      requireMfa: Schema.optional(Schema.Boolean),
      allowedIpRanges: Schema.optional(Schema.Array(Cidr).pipe(Schema.maxItems(100))),
      allowedHours: Schema.optional(
        Schema.Struct({
          from: Hhmm,
          to: Hhmm,
          /** ISO weekdays 1 (Monday) – 7 (Sunday); all when absent. */
          days: Schema.optional(Schema.Array(Schema.Int.pipe(Schema.between(1, 7))).pipe(Schema.maxItems(7))),
          timeZone: Schema.optionalWith(TimeZone, { default: () => "UTC" })
        })
      )
    })
  ),
  session: Schema.optional(
    Schema.Struct({
      maxConcurrent: Schema.optional(Schema.Int.pipe(Schema.between(0, 1000))),
      requireReason: Schema.optional(Schema.Boolean),
      /** Template classifications this scope may launch (see PUT /templates/:id/classification). */
      allowedClassifications: Schema.optional(Schema.Array(Name).pipe(Schema.maxItems(20))),
      maxDurationMinutes: Schema.optional(Schema.Int.pipe(Schema.between(1, 525_600)))
    })
  ),
  files: Schema.optional(
    Schema.Struct({
      uploads: Schema.optionalWith(Schema.Boolean, { default: () => true }),
      downloads: Schema.optionalWith(Schema.Boolean, { default: () => true }),
      maxBytes: Schema.optional(Schema.Int.pipe(Schema.between(0, Number.MAX_SAFE_INTEGER))),
      allowTypes: Schema.optional(Schema.Array(Schema.Literal(...fileTypes)).pipe(Schema.maxItems(fileTypes.length))),
      denyTypes: Schema.optional(Schema.Array(Schema.Literal(...fileTypes)).pipe(Schema.maxItems(fileTypes.length))),
      inspect: Schema.optional(Inspection)
    })
  ),
  clipboard: Schema.optional(
    Schema.Struct({
      direction: Schema.optionalWith(Schema.Literal("disabled", "to_session", "from_session", "bidirectional"), {
        default: () => "bidirectional" as const
      }),
      maxBytes: Schema.optional(Schema.Int.pipe(Schema.between(0, 16 * 1024 * 1024))),
      inspect: Schema.optional(Inspection)
    })
  )
})
export type Rules = typeof Rules.Type

export interface Policy {
  readonly id: string
  readonly name: string
  readonly enabled: boolean
  readonly priority: number
  readonly enforcement: Enforcement
  readonly appliesTo: AppliesTo
  readonly rules: Rules
}

/** Who acts, as far as scope needs to know. */
export interface Subject {
  readonly userId: string
  readonly roles: ReadonlyArray<string>
  readonly groups: ReadonlyArray<string>
}

export const needsDirectory = (policies: ReadonlyArray<Policy>) =>
  policies.some((p) => p.enabled && !p.appliesTo.all && (p.appliesTo.groups.length > 0 || p.appliesTo.roles.length > 0))

/**
 * Does `policy` apply? `all`, or the user, one of their roles or groups
 * (groups compared case-insensitively). A policy that names templates
 * applies only to actions on those templates (`template` absent: login,
 * where no template is involved, so such a policy does not apply).
 */
export const applies = (
  policy: Policy,
  subject: Subject,
  template?: { readonly id: string; readonly name: string } | null
): boolean => {
  if (!policy.enabled) return false
  const a = policy.appliesTo
  const groups = new Set(subject.groups.map((g) => g.toLowerCase()))
  const who =
    a.all ||
    a.users.includes(subject.userId) ||
    a.roles.some((r) => subject.roles.includes(r)) ||
    a.groups.some((g) => groups.has(g.toLowerCase()))
  if (!who) return false
  if (a.templates.length === 0) return true
  if (!template) return false
  return a.templates.includes(template.id) || a.templates.includes(template.name)
}

const enforcementRank: Record<Enforcement, number> = { blocking: 0, warning: 1, advisory: 2 }

export const precedence = (a: Policy, b: Policy) =>
  b.priority - a.priority ||
  enforcementRank[a.enforcement] - enforcementRank[b.enforcement] ||
  (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

export const ordered = (policies: ReadonlyArray<Policy>) => [...policies].sort(precedence)

/** One broken rule of one policy. */
export interface Finding {
  readonly policy: Policy
  readonly type: ViolationType
  readonly severity: Severity
  readonly message: string
  readonly details: Record<string, unknown>
  /** For DLP findings: the inspection's action (`log` never blocks, even under a blocking policy). */
  readonly action?: DlpAction
}

export const violationTypes = [
  "mfa_violation",
  "ip_restriction_violation",
  "access_hours_violation",
  "access_control_violation",
  "session_limit_violation",
  "session_reason_violation",
  "classification_violation",
  "session_duration_violation",
  "file_transfer_violation",
  "file_size_violation",
  "file_type_violation",
  "dlp_content_violation",
  "clipboard_violation"
] as const
export type ViolationType = (typeof violationTypes)[number]

export interface Decision {
  readonly findings: ReadonlyArray<Finding>
  /** The finding that refuses the action, if any: the first blocking one in precedence order. */
  readonly blockedBy: Finding | null
}

/** Does this finding refuse the action? Blocking policies block unless the DLP action is `log`. */
export const blocks = (f: Finding) => f.policy.enforcement === "blocking" && f.action !== "log"

export const decide = (findings: ReadonlyArray<Finding>): Decision => {
  const sorted = [...findings].sort((a, b) => precedence(a.policy, b.policy))
  return { findings: sorted, blockedBy: sorted.find(blocks) ?? null }
}

export const severityFor = (enforcement: Enforcement): Severity =>
  enforcement === "blocking" ? "high" : enforcement === "warning" ? "medium" : "low"

export const knownPattern = (id: string, custom: ReadonlySet<string>) => builtinIds.includes(id) || custom.has(id)
