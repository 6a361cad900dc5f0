/** The DLP pieces on their own: checksums, the pattern library, sniffing, regex admission and the worker deadline, clipboard policy. */
import { describe, expect, test } from "bun:test"
import { Effect, Either } from "effect"
import { CustomRegex, Evaluate, Patterns, Policy as Policies, SafeRegex, Sniff } from "@streamspace/plugin-compliance"

const { makeRunner } = CustomRegex
const { entropy, ibanValid, luhn, redact, scanBuiltins, ssnValid } = Patterns
const { checkRegex } = SafeRegex
const { sniff } = Sniff
const { evaluateClipboard, inRanges, withinHours } = Evaluate
const { decide, ordered } = Policies
type Policy = Policies.Policy

const policy = (over: Partial<Policy> & Pick<Policy, "rules">): Policy => ({
  id: over.id ?? crypto.randomUUID(),
  name: over.name ?? "p",
  enabled: true,
  priority: over.priority ?? 0,
  enforcement: over.enforcement ?? "blocking",
  appliesTo: over.appliesTo ?? { all: true, users: [], groups: [], roles: [], templates: [] },
  rules: over.rules
})
const subject = { userId: "u1", roles: ["user"], groups: ["Finance"] }

describe("checksums", () => {
  test("Luhn accepts test card numbers and refuses a changed digit", () => {
    expect(luhn("4111 1111 1111 1111")).toBe(true)
    expect(luhn("5500-0000-0000-0004")).toBe(true)
    expect(luhn("4111 1111 1111 1112")).toBe(false)
    expect(luhn("1234")).toBe(false)
  })
  test("IBAN mod 97 and country length", () => {
    expect(ibanValid("DE89 3704 0044 0532 0130 00")).toBe(true)
    expect(ibanValid("GB82WEST12345698765432")).toBe(true)
    expect(ibanValid("DE89 3704 0044 0532 0130 01")).toBe(false)
    expect(ibanValid("DE89 3704 0044 0532 0130")).toBe(false)
  })
  test("SSN area, group and serial rules", () => {
    expect(ssnValid("123-45-6789")).toBe(true)
    expect(ssnValid("000-45-6789")).toBe(false)
    expect(ssnValid("666-45-6789")).toBe(false)
    expect(ssnValid("923-45-6789")).toBe(false)
    expect(ssnValid("123-00-6789")).toBe(false)
  })
  test("entropy separates random tokens from words", () => {
    expect(entropy("aaaaaaaaaaaaaaaaaaaa")).toBe(0)
    expect(entropy("q8Zr2LwP0vXk7NcT4mYb")).toBeGreaterThan(4)
  })
})

describe("pattern library", () => {
  const all = [
    "us-ssn",
    "credit-card",
    "iban",
    "aws-access-key",
    "github-token",
    "slack-token",
    "private-key",
    "jwt",
    "email",
    "phone",
    "high-entropy-secret"
  ]
  const kinds = (text: string) => scanBuiltins(text, all).map((f) => f.pattern)
  test("a valid card number is found; a 16-digit number failing Luhn is not", () => {
    expect(kinds("pay with 4111 1111 1111 1111 today")).toEqual(["credit-card"])
    expect(kinds("order 4111 1111 1111 1112 shipped")).toEqual([])
  })
  test("secrets, identifiers and contact data", () => {
    expect(kinds("ssn 123-45-6789")).toEqual(["us-ssn"])
    expect(kinds("AKIAIOSFODNN7EXAMPLE")).toEqual(["aws-access-key"])
    expect(kinds(`ghp_${"a1B2".repeat(9)}`)).toEqual(["github-token"])
    expect(kinds("-----BEGIN RSA PRIVATE KEY-----")).toEqual(["private-key"])
    expect(kinds("iban DE89 3704 0044 0532 0130 00")).toEqual(["iban"])
    expect(kinds("mail ada@example.org")).toEqual(["email"])
    expect(kinds("api_key=q8Zr2LwP0vXk7NcT4mYbH3sJ")).toEqual(["high-entropy-secret"])
    expect(kinds("password=aaaaaaaaaaaaaaaaaaaaaaaa")).toEqual([])
  })
  test("a match across a window boundary is found once", () => {
    const text = `${"x".repeat(65_530)} 4111 1111 1111 1111`
    expect(scanBuiltins(text, ["credit-card"])).toHaveLength(1)
  })
  test("redaction replaces matches, never leaving the digits", () => {
    const text = "card 4111 1111 1111 1111 and 123-45-6789"
    const out = redact(text, scanBuiltins(text, all))
    expect(out).toBe("card [REDACTED:credit-card] and [REDACTED:us-ssn]")
  })
})

describe("content sniffing", () => {
  const bytes = (...b: number[]) => new Uint8Array(b)
  test("magic bytes decide, not the name", () => {
    expect(sniff(new TextEncoder().encode("%PDF-1.7\n"))).toBe("pdf")
    expect(sniff(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0))).toBe("png")
    expect(sniff(bytes(0x4d, 0x5a, 0x90, 0x00))).toBe("exe")
    expect(sniff(bytes(0x7f, 0x45, 0x4c, 0x46, 2))).toBe("elf")
    expect(sniff(bytes(0x1f, 0x8b, 8))).toBe("gzip")
    expect(sniff(new TextEncoder().encode("hello, wörld\n"))).toBe("text")
    expect(sniff(bytes(0x00, 0x01, 0x02, 0xff))).toBe("binary")
    expect(sniff(new Uint8Array())).toBe("empty")
  })
})

describe("custom regexes", () => {
  test("admission refuses catastrophic shapes, backreferences and lookarounds", () => {
    expect(checkRegex("(a+)+$")?.message).toContain("catastrophic")
    expect(checkRegex("(a|aa)*b")?.message).toContain("catastrophic")
    expect(checkRegex("(\\w+\\s?)*$")?.message).toContain("catastrophic")
    expect(checkRegex("(a)\\1")?.message).toContain("backreferences")
    expect(checkRegex("(?=a)")?.message).toContain("lookahead")
    expect(checkRegex("a*a*a*a*a*b")?.message).toContain("unbounded")
    expect(checkRegex("[")?.message).toContain("not a valid")
    expect(checkRegex("PROJ-[0-9]{4,6}")).toBeNull()
    expect(checkRegex("(?:ab){2}[x-z]+", "i")).toBeNull()
  })
  test("a pathological regex that got past admission is cut off at the deadline, and the worker recovers", async () => {
    const runner = makeRunner()
    try {
      const started = performance.now()
      const result = await Effect.runPromise(
        Effect.either(
          runner.scan([{ id: "evil", source: "(a+)+$", flags: "" }], `${"a".repeat(40)}!`, { deadlineMs: 200 })
        )
      )
      expect(Either.isLeft(result) && result.left._tag).toBe("InspectionTimeout")
      expect(performance.now() - started).toBeLessThan(2000)
      const after = await Effect.runPromise(
        runner.scan([{ id: "proj", source: "PROJ-[0-9]{4}", flags: "" }], "see PROJ-1234")
      )
      expect(after).toEqual([{ pattern: "proj", start: 4, end: 13 }])
    } finally {
      runner.close()
    }
  })
})

describe("rules", () => {
  test("IP ranges, v4 and v6, and IPv4-mapped addresses", () => {
    expect(inRanges("10.1.2.3", ["10.0.0.0/8"])).toBe(true)
    expect(inRanges("::ffff:10.1.2.3", ["10.0.0.0/8"])).toBe(true)
    expect(inRanges("192.168.1.1", ["10.0.0.0/8"])).toBe(false)
    expect(inRanges("2001:db8::1", ["2001:db8::/32"])).toBe(true)
    expect(inRanges("unknown", ["10.0.0.0/8"])).toBe(false)
  })
  test("allowed hours in a time zone, including windows over midnight", () => {
    const at = new Date("2026-12-01T08:30:00Z") // a Tuesday; 09:30 in Paris
    expect(withinHours(at, { from: "09:00", to: "17:00", timeZone: "Europe/Paris" })).toBe(true)
    expect(withinHours(at, { from: "09:00", to: "17:00", timeZone: "UTC" })).toBe(false)
    expect(withinHours(at, { from: "22:00", to: "09:00", timeZone: "UTC" })).toBe(true)
    expect(withinHours(at, { from: "00:00", to: "23:59", days: [6, 7], timeZone: "UTC" })).toBe(false)
  })
  test("precedence: priority, then the most restrictive, then name", () => {
    const a = policy({ name: "a", priority: 1, enforcement: "advisory", rules: {} })
    const b = policy({ name: "b", priority: 5, enforcement: "warning", rules: {} })
    const c = policy({ name: "c", priority: 5, enforcement: "blocking", rules: {} })
    const d = policy({ name: "d", priority: 1, enforcement: "advisory", rules: {} })
    expect(ordered([d, a, b, c]).map((p) => p.name)).toEqual(["c", "b", "a", "d"])
    const finding = (p: Policy) => ({
      policy: p,
      type: "mfa_violation" as const,
      severity: "low" as const,
      message: p.name,
      details: {}
    })
    const lowBlocking = policy({ name: "low", priority: 0, enforcement: "blocking", rules: {} })
    const highBlocking = policy({ name: "high", priority: 9, enforcement: "blocking", rules: {} })
    expect(decide([finding(lowBlocking), finding(b), finding(highBlocking)]).blockedBy?.policy.name).toBe("high")
    expect(decide([finding(b)]).blockedBy).toBeNull()
  })
})

describe("clipboard policy (pure; the proxy filter is in clipboard.test.ts)", () => {
  const ssn = "my ssn is 123-45-6789"
  const inspect = (action: "block" | "redact" | "log") => ({ patterns: ["us-ssn"], action })
  test("direction: from_session only refuses pastes into the desktop", () => {
    const p = [policy({ rules: { clipboard: { direction: "from_session" } } })]
    expect(evaluateClipboard(p, subject, { direction: "to_session", text: "hi", template: null }).outcome).toBe("block")
    expect(evaluateClipboard(p, subject, { direction: "from_session", text: "hi", template: null }).outcome).toBe(
      "allow"
    )
  })
  test("size limit in UTF-8 bytes", () => {
    const p = [policy({ rules: { clipboard: { direction: "bidirectional", maxBytes: 4 } } })]
    expect(evaluateClipboard(p, subject, { direction: "to_session", text: "éé", template: null }).outcome).toBe("allow")
    expect(evaluateClipboard(p, subject, { direction: "to_session", text: "ééé", template: null }).outcome).toBe(
      "block"
    )
  })
  test("an SSN is blocked, redacted or logged as the inspection says", () => {
    const run = (action: "block" | "redact" | "log", enforcement: Policy["enforcement"] = "blocking") =>
      evaluateClipboard(
        [policy({ enforcement, rules: { clipboard: { direction: "bidirectional", inspect: inspect(action) } } })],
        subject,
        {
          direction: "from_session",
          text: ssn,
          template: null
        }
      )
    const blocked = run("block")
    expect(blocked.outcome).toBe("block")
    expect(blocked.text).toBeNull()
    expect(blocked.decision.findings[0]?.type).toBe("clipboard_violation")
    const redacted = run("redact")
    expect(redacted.outcome).toBe("redact")
    expect(redacted.text).toBe("my ssn is [REDACTED:us-ssn]")
    expect(redacted.decision.findings).toHaveLength(1)
    const logged = run("log")
    expect(logged.outcome).toBe("allow")
    expect(logged.text).toBe(ssn)
    expect(logged.decision.findings).toHaveLength(1)
    expect(run("block", "warning").outcome).toBe("allow")
    expect(evaluateClipboard([], subject, { direction: "from_session", text: ssn, template: null }).outcome).toBe(
      "allow"
    )
  })
  test("a policy scoped to a group leaves other users alone", () => {
    const p = [
      policy({
        appliesTo: { all: false, users: [], groups: ["finance"], roles: [], templates: [] },
        rules: { clipboard: { direction: "disabled" } }
      })
    ]
    expect(evaluateClipboard(p, subject, { direction: "to_session", text: "x", template: null }).outcome).toBe("block")
    expect(
      evaluateClipboard(p, { ...subject, groups: ["Sales"] }, { direction: "to_session", text: "x", template: null })
        .outcome
    ).toBe("allow")
  })
})
