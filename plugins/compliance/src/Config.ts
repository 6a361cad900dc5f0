import { Schema } from "effect"

export const FrameworkId = Schema.Literal("SOC2", "HIPAA", "GDPR", "ISO27001")

export const ComplianceConfig = Schema.Struct({
  enabledFrameworks: Schema.optionalWith(Schema.Array(FrameworkId).pipe(Schema.maxItems(4)), {
    default: () => ["SOC2" as const]
  }),
  /** Run the automated checks every `checkInterval` hours. */
  autoCheck: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  checkInterval: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 168)), { default: () => 24 }),
  /** Days resolved violations, check history and reports are kept (legal holds keep a user's violations). */
  retentionDays: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 3650)), { default: () => 365 }),
  /** How many first bytes of a file are inspected (sniffing and DLP patterns). */
  inspectBytes: Schema.optionalWith(Schema.Int.pipe(Schema.between(1024, 64 * 1024 * 1024)), {
    default: () => 8 * 1024 * 1024
  }),
  /** Deadline for custom patterns over one file or clipboard text; over it, a blocking policy refuses. */
  customPatternDeadlineMs: Schema.optionalWith(Schema.Int.pipe(Schema.between(10, 5000)), { default: () => 250 }),
  /** How often the maximum-duration job looks at running sessions. */
  durationCheckMinutes: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 60)), { default: () => 5 }),
  /** A blocked critical violation (no second factor, card numbers, keys) hibernates the user's running sessions. */
  suspendOnCritical: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** Days an attestation stays valid. */
  attestationDays: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 730)), { default: () => 365 })
})
export type ComplianceConfig = typeof ComplianceConfig.Type
