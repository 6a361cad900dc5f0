/**
 * The DLP pattern library: named, versioned detectors. Each built-in is a
 * linear-time regular expression (no nested quantifiers, no backreferences)
 * plus, where the format has one, a checksum that must hold for a match to
 * count: Luhn for card numbers, ISO 7064 mod 97 for IBANs, the SSA's rules
 * for US SSNs. Entropy flags long random-looking tokens next to secret-ish
 * words. Text is scanned in windows of at most `windowChars`, so a match
 * longer than that is not found (none of the built-ins can be).
 */

export const libraryVersion = "2026.11.1"

export type Severity = "low" | "medium" | "high" | "critical"

export interface Finding {
  readonly pattern: string
  readonly severity: Severity
  /** Character offsets in the scanned text. */
  readonly start: number
  readonly end: number
}

export interface BuiltinPattern {
  readonly id: string
  readonly name: string
  readonly version: number
  readonly severity: Severity
  readonly description: string
  readonly regex: RegExp
  readonly validate?: (match: string) => boolean
}

const digitsOf = (s: string) => s.replace(/[^0-9]/g, "")

/** Luhn (mod 10) over the digits of `s`. */
export const luhn = (s: string): boolean => {
  const digits = digitsOf(s)
  if (digits.length < 12 || digits.length > 19) return false
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return sum % 10 === 0
}

const ibanLengths: Record<string, number> = {
  AD: 24,
  AT: 20,
  BE: 16,
  BG: 22,
  CH: 21,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  EE: 20,
  ES: 24,
  FI: 18,
  FR: 27,
  GB: 22,
  GR: 27,
  HR: 21,
  HU: 28,
  IE: 22,
  IS: 26,
  IT: 27,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MT: 31,
  NL: 18,
  NO: 15,
  PL: 28,
  PT: 25,
  RO: 24,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27
}

/** ISO 13616: the country's length and the mod-97 check of the rearranged number. */
export const ibanValid = (s: string): boolean => {
  const iban = s.replace(/\s/g, "").toUpperCase()
  const expected = ibanLengths[iban.slice(0, 2)]
  if (expected === undefined || iban.length !== expected || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false
  const rearranged = iban.slice(4) + iban.slice(0, 4)
  let remainder = 0
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0)
    const value = code >= 65 ? String(code - 55) : ch
    for (const digit of value) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97
  }
  return remainder === 1
}

/** SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000. */
export const ssnValid = (s: string): boolean => {
  const d = digitsOf(s)
  if (d.length !== 9) return false
  const area = d.slice(0, 3)
  return area !== "000" && area !== "666" && area[0] !== "9" && d.slice(3, 5) !== "00" && d.slice(5) !== "0000"
}

/** Shannon entropy in bits per character. */
export const entropy = (s: string): number => {
  if (s.length === 0) return 0
  const counts = new Map<string, number>()
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1)
  let bits = 0
  for (const n of counts.values()) {
    const p = n / s.length
    bits -= p * Math.log2(p)
  }
  return bits
}

export const builtins: ReadonlyArray<BuiltinPattern> = [
  {
    id: "us-ssn",
    name: "US Social Security number",
    version: 1,
    severity: "high",
    description: "123-45-6789 (dashes or spaces), valid area/group/serial",
    regex: /(?<![\d-])\d{3}[- ]\d{2}[- ]\d{4}(?![\d-])/g,
    validate: ssnValid
  },
  {
    id: "credit-card",
    name: "Payment card number",
    version: 1,
    severity: "critical",
    description: "13–19 digits, optionally grouped by spaces or dashes, passing the Luhn check",
    regex: /(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)/g,
    validate: luhn
  },
  {
    id: "iban",
    name: "IBAN",
    version: 1,
    severity: "high",
    description: "International bank account number with a valid mod-97 checksum",
    regex: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g,
    validate: ibanValid
  },
  {
    id: "aws-access-key",
    name: "AWS access key id",
    version: 1,
    severity: "critical",
    description: "AKIA/ASIA followed by 16 upper-case letters or digits",
    regex: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g
  },
  {
    id: "github-token",
    name: "GitHub token",
    version: 1,
    severity: "critical",
    description: "ghp_/gho_/ghu_/ghs_/ghr_ tokens and fine-grained github_pat_ tokens",
    regex: /\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\b/g
  },
  {
    id: "slack-token",
    name: "Slack token",
    version: 1,
    severity: "critical",
    description: "xoxb-/xoxp-/xoxa-/xoxr-/xoxs- tokens",
    regex: /\bxox[baprs]-[A-Za-z0-9-]{10,72}\b/g
  },
  {
    id: "private-key",
    name: "Private key block",
    version: 1,
    severity: "critical",
    description: "-----BEGIN … PRIVATE KEY-----",
    regex: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----/g
  },
  {
    id: "jwt",
    name: "JSON Web Token",
    version: 1,
    severity: "high",
    description: "three base64url segments, the first decoding to a JSON header",
    regex: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g
  },
  {
    id: "email",
    name: "E-mail address",
    version: 1,
    severity: "low",
    description: "local@domain.tld",
    regex: /\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b/g
  },
  {
    id: "phone",
    name: "Phone number",
    version: 1,
    severity: "low",
    description: "E.164 (+ and 8–15 digits) or North American (NNN) NNN-NNNN",
    regex: /(?:\+\d{8,15}\b|\(\d{3}\) ?\d{3}-\d{4}\b)/g
  },
  {
    id: "high-entropy-secret",
    name: "High-entropy secret",
    version: 1,
    severity: "high",
    description: "a token of 20+ characters with ≥ 4 bits of entropy per character after secret/token/password/api_key",
    regex: /\b(?:secret|token|passwd|password|api[_-]?key)["']?\s{0,3}[:=]\s{0,3}["']?[A-Za-z0-9+/_=-]{20,200}/gi,
    validate: (m) => {
      const value = /[A-Za-z0-9+/_=-]{20,200}$/.exec(m)?.[0] ?? ""
      return entropy(value) >= 4
    }
  }
]

export const builtinIds: ReadonlyArray<string> = builtins.map((b) => b.id)

/** Scans `text` in windows (overlapping by `overlap` characters) with the given built-ins. */
export const scanBuiltins = (
  text: string,
  ids: ReadonlyArray<string>,
  options: { readonly windowChars?: number; readonly overlap?: number; readonly maxFindings?: number } = {}
): ReadonlyArray<Finding> => {
  const windowChars = options.windowChars ?? 65_536
  const overlap = options.overlap ?? 512
  const maxFindings = options.maxFindings ?? 100
  const selected = builtins.filter((b) => ids.includes(b.id))
  const findings: Array<Finding> = []
  const seen = new Set<string>()
  for (let offset = 0; offset < text.length; offset += windowChars - overlap) {
    const window = text.slice(offset, offset + windowChars)
    for (const pattern of selected) {
      const regex = new RegExp(pattern.regex.source, pattern.regex.flags)
      for (const match of window.matchAll(regex)) {
        if (pattern.validate && !pattern.validate(match[0])) continue
        const start = offset + (match.index ?? 0)
        const key = `${pattern.id}:${start}`
        if (seen.has(key)) continue
        seen.add(key)
        findings.push({ pattern: pattern.id, severity: pattern.severity, start, end: start + match[0].length })
        if (findings.length >= maxFindings) return findings
      }
    }
    if (offset + windowChars >= text.length) break
  }
  return findings
}

/** Replaces each finding's characters with `[REDACTED:<pattern>]`. */
export const redact = (text: string, findings: ReadonlyArray<Finding>): string => {
  const sorted = [...findings].sort((a, b) => a.start - b.start)
  let out = ""
  let at = 0
  for (const f of sorted) {
    if (f.start < at) continue
    out += `${text.slice(at, f.start)}[REDACTED:${f.pattern}]`
    at = f.end
  }
  return out + text.slice(at)
}
