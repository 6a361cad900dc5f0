/**
 * What each rule says about one action: pure functions from policies and
 * the action's facts to findings (Policy.ts decides). The clipboard
 * evaluation is here too, ready for the VNC proxy's stream tap.
 */
import ipaddr from "ipaddr.js"
import { type Finding as PatternFinding, redact, scanBuiltins } from "./dlp/Patterns.ts"
import {
  applies,
  type Decision,
  decide,
  type Finding,
  type Inspection,
  type Policy,
  severityFor,
  type Subject
} from "./Policy.ts"

type Address = ipaddr.IPv4 | ipaddr.IPv6

const parseIp = (ip: string): Address | undefined => {
  const bare = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip
  if (!ipaddr.isValid(bare)) return undefined
  return ipaddr.process(bare)
}

const cidrs = new Map<string, readonly [Address, number] | null>()
const cidrOf = (range: string) => {
  let parsed = cidrs.get(range)
  if (parsed === undefined) {
    parsed = ipaddr.isValidCIDR(range) ? ipaddr.parseCIDR(range) : null
    // Ranges come from validated policies; the cache is bounded all the same.
    if (cidrs.size < 10_000) cidrs.set(range, parsed)
  }
  return parsed
}

const inParsedRanges = (address: Address | undefined, ranges: ReadonlyArray<string>) =>
  address !== undefined &&
  ranges.some((range) => {
    const cidr = cidrOf(range)
    return cidr !== null && cidr[0].kind() === address.kind() && address.match(cidr[0], cidr[1])
  })

export const inRanges = (ip: string, ranges: ReadonlyArray<string>): boolean => inParsedRanges(parseIp(ip), ranges)

const formats = new Map<string, Intl.DateTimeFormat>()
const formatFor = (timeZone: string) => {
  let format = formats.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hour12: false,
      hour: "2-digit",
      minute: "2-digit",
      weekday: "short"
    })
    // Time zones are validated names; a few hundred at most.
    if (formats.size < 1000) formats.set(timeZone, format)
  }
  return format
}

/** Minutes since midnight and ISO weekday of `at` in `timeZone`. */
export const localTime = (at: Date, timeZone: string) => {
  const parts = formatFor(timeZone).formatToParts(at)
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? ""
  const days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
  return { minutes: (Number(get("hour")) % 24) * 60 + Number(get("minute")), weekday: days.indexOf(get("weekday")) + 1 }
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

/** `from` ≤ now < `to`; a window that wraps midnight (22:00–06:00) too. */
export const withinHours = (
  at: Date,
  hours: { from: string; to: string; days?: ReadonlyArray<number> | undefined; timeZone: string },
  local: (timeZone: string) => { minutes: number; weekday: number } = (tz) => localTime(at, tz)
) => {
  const { minutes, weekday } = local(hours.timeZone)
  if (hours.days && hours.days.length > 0 && !hours.days.includes(weekday)) return false
  const from = toMinutes(hours.from)
  const to = toMinutes(hours.to)
  return from <= to ? minutes >= from && minutes < to : minutes >= from || minutes < to
}

const finding = (
  policy: Policy,
  type: Finding["type"],
  message: string,
  details: Record<string, unknown>,
  severity = severityFor(policy.enforcement)
): Finding => ({ policy, type, message, details, severity })

export interface LoginFacts {
  readonly ip: string
  /** Absent: the core did not report it; a requireMfa rule is then not evaluated (see docs). */
  readonly mfa: boolean | undefined
  readonly at: Date
}

export const evaluateLogin = (policies: ReadonlyArray<Policy>, subject: Subject, facts: LoginFacts): Decision => {
  const findings: Array<Finding> = []
  // Parsed once per sign-in: the address, and the local time per time zone.
  const address = parseIp(facts.ip)
  const locals = new Map<string, { minutes: number; weekday: number }>()
  const local = (timeZone: string) => {
    let l = locals.get(timeZone)
    if (!l) {
      l = localTime(facts.at, timeZone)
      locals.set(timeZone, l)
    }
    return l
  }
  for (const policy of policies) {
    const rule = policy.rules.login
    if (!rule || !applies(policy, subject, null)) continue
    if (rule.requireMfa && facts.mfa === false)
      findings.push(finding(policy, "mfa_violation", "a second factor is required", {}, "critical"))
    if (rule.allowedIpRanges && rule.allowedIpRanges.length > 0 && !inParsedRanges(address, rule.allowedIpRanges))
      findings.push(
        finding(policy, "ip_restriction_violation", `sign-in from ${facts.ip} is outside the allowed ranges`, {
          ip: facts.ip
        })
      )
    if (rule.allowedHours && !withinHours(facts.at, rule.allowedHours, local))
      findings.push(
        finding(
          policy,
          "access_hours_violation",
          `sign-in outside the allowed hours (${rule.allowedHours.from}–${rule.allowedHours.to} ${rule.allowedHours.timeZone})`,
          {
            at: facts.at.toISOString()
          }
        )
      )
  }
  return decide(findings)
}

export interface SessionFacts {
  readonly template: { readonly id: string; readonly name: string }
  readonly classification: string | null
  /** Sessions of the user that are pending, running or waking (hibernated ones do not count). */
  readonly active: number
  /** Absent: the core did not pass a reason through (see docs). */
  readonly reason: string | null | undefined
}

export const evaluateSession = (policies: ReadonlyArray<Policy>, subject: Subject, facts: SessionFacts): Decision => {
  const findings: Array<Finding> = []
  for (const policy of policies) {
    const rule = policy.rules.session
    if (!rule || !applies(policy, subject, facts.template)) continue
    if (rule.maxConcurrent !== undefined && facts.active + 1 > rule.maxConcurrent)
      findings.push(
        finding(
          policy,
          "session_limit_violation",
          `at most ${rule.maxConcurrent} concurrent sessions (${facts.active} active)`,
          {
            active: facts.active,
            max: rule.maxConcurrent
          }
        )
      )
    if (rule.requireReason && facts.reason !== undefined && (facts.reason ?? "").trim() === "")
      findings.push(finding(policy, "session_reason_violation", "a reason is required to start a session", {}))
    if (rule.allowedClassifications && !rule.allowedClassifications.includes(facts.classification ?? "unclassified"))
      findings.push(
        finding(
          policy,
          "classification_violation",
          `template ${facts.template.name} is classified ${facts.classification ?? "unclassified"}, not one of ${rule.allowedClassifications.join(", ")}`,
          { template: facts.template.name, classification: facts.classification }
        )
      )
  }
  return decide(findings)
}

/** The union of the patterns the inspections of applicable policies name. */
export const patternsOf = (inspections: ReadonlyArray<Inspection | undefined>): ReadonlyArray<string> => [
  ...new Set(inspections.flatMap((i) => i?.patterns ?? []))
]

export interface FileFacts {
  readonly direction: "upload" | "download"
  readonly template: { readonly id: string; readonly name: string } | null
  readonly name: string
  readonly size: number
  readonly type: string
  /** Pattern findings over the inspected bytes (the union of the policies' patterns). */
  readonly content: ReadonlyArray<PatternFinding>
  /** True when only the first bytes were inspected. */
  readonly truncated: boolean
  /**
   * `meta`: before the bytes are read (transfer allowed, declared size);
   * `content`: after an upload's bytes are stored (size, type, content);
   * `all`: a download, everything at once.
   */
  readonly stage: "meta" | "content" | "all"
}

const contentFindings = (
  policy: Policy,
  inspection: Inspection,
  content: ReadonlyArray<PatternFinding>,
  type: Finding["type"],
  what: string
): ReadonlyArray<Finding> => {
  const hits = content.filter((c) => inspection.patterns.includes(c.pattern))
  if (hits.length === 0) return []
  const counts: Record<string, number> = {}
  for (const h of hits) counts[h.pattern] = (counts[h.pattern] ?? 0) + 1
  const worst = hits.some((h) => h.severity === "critical")
    ? "critical"
    : hits.some((h) => h.severity === "high")
      ? "high"
      : "medium"
  return [
    {
      policy,
      type,
      severity: worst,
      action: inspection.action,
      message: `${what} contains ${Object.keys(counts).join(", ")}`,
      // Which patterns and how often; never the matched text.
      details: { patterns: counts }
    }
  ]
}

export const evaluateFile = (policies: ReadonlyArray<Policy>, subject: Subject, facts: FileFacts): Decision => {
  const findings: Array<Finding> = []
  for (const policy of policies) {
    const rule = policy.rules.files
    if (!rule || !applies(policy, subject, facts.template)) continue
    const details = { name: facts.name, size: facts.size, type: facts.type, direction: facts.direction }
    const meta = facts.stage !== "content"
    const content = facts.stage !== "meta"
    if (
      meta &&
      ((facts.direction === "upload" && !rule.uploads) || (facts.direction === "download" && !rule.downloads))
    )
      findings.push(finding(policy, "file_transfer_violation", `file ${facts.direction}s are not allowed`, details))
    if (rule.maxBytes !== undefined && facts.size > rule.maxBytes)
      findings.push(
        finding(policy, "file_size_violation", `${facts.size} bytes is over the limit of ${rule.maxBytes}`, details)
      )
    if (!content) continue
    if (rule.denyTypes?.includes(facts.type))
      findings.push(finding(policy, "file_type_violation", `files of type ${facts.type} are not allowed`, details))
    else if (rule.allowTypes && rule.allowTypes.length > 0 && !rule.allowTypes.includes(facts.type))
      findings.push(
        finding(policy, "file_type_violation", `files of type ${facts.type} are not in the allowed types`, details)
      )
    if (rule.inspect)
      findings.push(
        ...contentFindings(policy, rule.inspect, facts.content, "dlp_content_violation", `the file ${facts.name}`).map(
          (f) => ({ ...f, details: { ...f.details, ...details, truncated: facts.truncated } })
        )
      )
  }
  return decide(findings)
}

export interface ClipboardTransfer {
  /** `to_session`: the viewer pastes into the desktop; `from_session`: the desktop's clipboard goes to the viewer. */
  readonly direction: "to_session" | "from_session"
  readonly text: string
  readonly template: { readonly id: string; readonly name: string } | null
}

export interface ClipboardOutcome {
  readonly outcome: "allow" | "block" | "redact"
  /** What may cross: the text, the redacted text, or null when blocked. */
  readonly text: string | null
  readonly decision: Decision
}

/**
 * The clipboard policy for one transfer: direction, size (UTF-8 bytes),
 * content. `scan` finds patterns (the built-ins by default; the plugin
 * passes one that also runs custom patterns). A blocking finding blocks;
 * a `redact` inspection under a warning or blocking policy replaces the
 * matches; `log` and advisory policies only record.
 */
export const evaluateClipboard = (
  policies: ReadonlyArray<Policy>,
  subject: Subject,
  transfer: ClipboardTransfer,
  scan: (text: string, patterns: ReadonlyArray<string>) => ReadonlyArray<PatternFinding> = scanBuiltins
): ClipboardOutcome => {
  const findings: Array<Finding> = []
  const applicable = policies.filter((p) => p.rules.clipboard && applies(p, subject, transfer.template))
  const content = scan(transfer.text, patternsOf(applicable.map((p) => p.rules.clipboard?.inspect)))
  const bytes = new TextEncoder().encode(transfer.text).length
  const redactWith: Array<PatternFinding> = []
  for (const policy of applicable) {
    const rule = policy.rules.clipboard!
    const details = { direction: transfer.direction, bytes }
    if (rule.direction === "disabled" || (rule.direction !== "bidirectional" && rule.direction !== transfer.direction))
      findings.push(
        finding(
          policy,
          "clipboard_violation",
          `clipboard ${transfer.direction.replace("_", " ")} is not allowed`,
          details
        )
      )
    if (rule.maxBytes !== undefined && bytes > rule.maxBytes)
      findings.push(
        finding(
          policy,
          "clipboard_violation",
          `${bytes} bytes is over the clipboard limit of ${rule.maxBytes}`,
          details
        )
      )
    if (rule.inspect) {
      const hits = contentFindings(policy, rule.inspect, content, "clipboard_violation", "the clipboard")
      const inspect = rule.inspect
      if (inspect.action === "redact" && policy.enforcement !== "advisory" && hits.length > 0)
        redactWith.push(...content.filter((c) => inspect.patterns.includes(c.pattern)))
      // A redacted transfer is let through with the matches replaced: only `block` refuses it.
      findings.push(
        ...hits.map((f) => ({
          ...f,
          details: { ...f.details, ...details },
          action: inspect.action === "redact" ? ("log" as const) : inspect.action
        }))
      )
    }
  }
  const decision = decide(findings)
  if (decision.blockedBy) return { outcome: "block", text: null, decision }
  if (redactWith.length > 0) return { outcome: "redact", text: redact(transfer.text, redactWith), decision }
  return { outcome: "allow", text: transfer.text, decision }
}
