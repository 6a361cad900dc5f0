/**
 * Automated control checks: pure functions of what the plugin can see.
 * `Signals.platform` is what only the core knows (second factors, password
 * policy, audit retention, …), from the kernel's read-only `PlatformPosture`
 * (grant `posture`). When it is unavailable it is null and the checks that
 * need it answer `not_evaluable`, saying what is missing — never a pass.
 */
import type { PostureSnapshot } from "@streamspace/kernel"
import type { CheckId, Control } from "./Frameworks.ts"
import { applies, type Policy } from "./Policy.ts"

export type CheckStatus = "pass" | "fail" | "not_evaluable"

export interface CheckResult {
  readonly status: CheckStatus
  readonly summary: string
  readonly evidence: Record<string, unknown>
}

/** Facts only the core has: the kernel's `PlatformPosture` snapshot (grant `posture`); null without it. */
export type PlatformSignals = Omit<PostureSnapshot, "takenAt">

export interface Signals {
  readonly now: Date
  readonly admins: ReadonlyArray<{
    readonly id: string
    readonly username: string
    readonly roles: ReadonlyArray<string>
    readonly groups: ReadonlyArray<string>
  }>
  readonly policies: ReadonlyArray<Policy>
  readonly openViolations: ReadonlyArray<{ readonly id: string; readonly severity: string; readonly createdAt: Date }>
  readonly retentionDays: number
  readonly recorderEnabled: boolean
  readonly platform: PlatformSignals | null
}

const notEvaluable = (what: string): CheckResult => ({
  status: "not_evaluable",
  summary: `not evaluable: ${what} is not visible (the kernel's PlatformPosture, grant "posture", is unavailable)`,
  evidence: { missing: what }
})

const result = (ok: boolean, pass: string, fail: string, evidence: Record<string, unknown>): CheckResult => ({
  status: ok ? "pass" : "fail",
  summary: ok ? pass : fail,
  evidence
})

const day = 86_400_000

const coversEveryone = (p: Policy) =>
  p.enabled && p.appliesTo.all && p.appliesTo.templates.length === 0 && p.enforcement !== "advisory"

export const runCheck = (control: Control, signals: Signals): CheckResult => {
  const check = control.check
  if (!check) return { status: "not_evaluable", summary: "manual control: attest it", evidence: {} }
  const checks: Record<CheckId, () => CheckResult> = {
    "admin-mfa": () => {
      const platform = signals.platform
      if (!platform) return notEvaluable("second-factor enrolment")
      const mfa = new Set(platform.mfaUserIds)
      const without = signals.admins.filter((a) => !mfa.has(a.id)).map((a) => a.username)
      return result(
        without.length === 0,
        `all ${signals.admins.length} admins have a second factor`,
        `admins without a second factor: ${without.join(", ")}`,
        {
          admins: signals.admins.map((a) => a.username),
          withoutMfa: without
        }
      )
    },
    "mfa-policy-admins": () => {
      const policies = signals.policies.filter(
        (p) =>
          p.enabled &&
          p.enforcement === "blocking" &&
          p.rules.login?.requireMfa === true &&
          p.appliesTo.templates.length === 0 &&
          (p.appliesTo.all || p.appliesTo.roles.includes("admin"))
      )
      const uncovered = signals.admins.filter(
        (a) => !policies.some((p) => applies(p, { userId: a.id, roles: a.roles, groups: a.groups }))
      )
      return result(
        policies.length > 0 && uncovered.length === 0,
        `MFA required at sign-in for admins by ${policies.map((p) => p.name).join(", ")}`,
        "no enabled blocking policy requires MFA for the admin role",
        {
          policies: policies.map((p) => ({ id: p.id, name: p.name })),
          uncoveredAdmins: uncovered.map((a) => a.username)
        }
      )
    },
    "password-policy": () => {
      const platform = signals.platform
      if (!platform) return notEvaluable("the password policy")
      const { minScore, minLength } = platform.passwordPolicy
      const ok = minScore >= 3 && minLength >= 10
      return result(
        ok,
        `new passwords need a strength score of ${minScore}/4 and ${minLength}+ characters`,
        `password policy is weaker than strength score 3/4 and 10 characters (score ${minScore}, length ${minLength})`,
        { minScore, minLength }
      )
    },
    "audit-retention": () => {
      const platform = signals.platform
      if (!platform) return notEvaluable("the audit log retention setting")
      const required = check.params?.days ?? 365
      const days = platform.auditRetentionDays
      // null: kept forever.
      return result(
        days === null || days >= required,
        `audit log kept ${days ?? "forever"} days (≥ ${required})`,
        `audit log kept ${days} days, ${required} required`,
        { retentionDays: days, requiredDays: required }
      )
    },
    "secrets-sealed": () => {
      const platform = signals.platform
      if (!platform) return notEvaluable("how integration and webhook secrets are stored")
      const { unsealed, keyConfigured } = platform.secrets
      return result(
        unsealed === 0,
        keyConfigured
          ? "secrets are sealed at rest with a configured key"
          : "secrets are sealed at rest (the key is kept in the database: configure secretsKey)",
        `${unsealed} stored secrets are not sealed`,
        { unsealed, keyConfigured }
      )
    },
    "idle-timeout": () => {
      const platform = signals.platform
      if (!platform) return notEvaluable("the session idle timeout")
      const minutes = platform.idleTimeoutMinutes
      return result(
        minutes > 0 && minutes <= 60,
        `idle sessions hibernate after ${minutes} minutes`,
        `idle sessions hibernate after ${minutes} minutes (want 1–60)`,
        { idleTimeoutMinutes: minutes }
      )
    },
    "stale-accounts": () => {
      const platform = signals.platform
      if (!platform) return notEvaluable("users' last sign-in times")
      const days = check.params?.days ?? 90
      const cutoff = signals.now.getTime() - days * day
      const stale = platform.lastLogins
        .filter((u) => (u.lastLogin ?? u.createdAt).getTime() < cutoff)
        .map((u) => u.username)
      return result(
        stale.length === 0,
        `no account unused for ${days} days`,
        `accounts unused for ${days}+ days: ${stale.join(", ")}`,
        { staleAccounts: stale, days }
      )
    },
    "api-key-expiry": () => {
      const platform = signals.platform
      if (!platform) return notEvaluable("API keys' expiry")
      const keys = platform.apiKeysWithoutExpiry
      return result(keys.length === 0, "every active API key expires", `${keys.length} active API keys never expire`, {
        keyIds: keys.map((k) => k.id)
      })
    },
    "plugin-roles-confined": () => {
      const platform = signals.platform
      if (!platform) return notEvaluable("plugin database role grants")
      const loose = platform.pluginRoles.filter((r) => r.coreTables > 0)
      return result(
        loose.length === 0,
        `the ${platform.pluginRoles.length} plugin roles have no rights on core tables`,
        `plugin roles with rights on core tables: ${loose.map((r) => `${r.plugin} (${r.coreTables})`).join(", ")}`,
        { pluginRoles: platform.pluginRoles }
      )
    },
    "admin-count": () => {
      const max = check.params?.max ?? 5
      const n = signals.admins.length
      return result(n >= 1 && n <= max, `${n} administrators (1–${max})`, `${n} administrators (want 1–${max})`, {
        admins: signals.admins.map((a) => a.username),
        max
      })
    },
    "dlp-file-inspection": () => {
      const policies = signals.policies.filter(
        (p) =>
          coversEveryone(p) &&
          p.rules.files?.inspect !== undefined &&
          p.rules.files.inspect.patterns.some((id) => id === "credit-card" || id === "us-ssn" || id === "iban")
      )
      return result(
        policies.length > 0,
        `file transfers inspected by ${policies.map((p) => p.name).join(", ")}`,
        "no warning or blocking policy for everyone inspects files for card numbers, IBANs or SSNs",
        {
          policies: policies.map((p) => ({
            id: p.id,
            name: p.name,
            enforcement: p.enforcement,
            action: p.rules.files?.inspect?.action
          }))
        }
      )
    },
    "violations-triaged": () => {
      const days = check.params?.days ?? 7
      const cutoff = signals.now.getTime() - days * day
      const late = signals.openViolations.filter(
        (v) => (v.severity === "high" || v.severity === "critical") && v.createdAt.getTime() < cutoff
      )
      return result(
        late.length === 0,
        `no high or critical violation open for more than ${days} days`,
        `${late.length} high or critical violations open for more than ${days} days`,
        {
          violationIds: late.map((v) => v.id),
          days
        }
      )
    },
    "session-limits": () => {
      const policies = signals.policies.filter(
        (p) =>
          coversEveryone(p) &&
          (p.rules.session?.maxDurationMinutes !== undefined || p.rules.session?.maxConcurrent !== undefined)
      )
      return result(
        policies.length > 0,
        `sessions limited by ${policies.map((p) => p.name).join(", ")}`,
        "no policy for everyone limits session duration or concurrency",
        {
          policies: policies.map((p) => ({ id: p.id, name: p.name }))
        }
      )
    },
    "recording-privileged": () =>
      signals.recorderEnabled
        ? notEvaluable("the session recorder's policies (no method to read them yet)")
        : {
            status: "fail",
            summary: "the session recorder plugin is not enabled",
            evidence: { recorderEnabled: false }
          },
    "data-retention-configured": () =>
      result(
        signals.retentionDays > 0 && signals.retentionDays <= 3650,
        `compliance data kept ${signals.retentionDays} days`,
        "no retention period for compliance data",
        { retentionDays: signals.retentionDays }
      )
  }
  return checks[check.id]()
}
