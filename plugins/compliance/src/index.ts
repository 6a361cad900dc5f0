/**
 * Compliance with DLP: framework catalogues (SOC 2, HIPAA, GDPR, ISO 27001)
 * with automated control checks that store evidence, policies enforced at
 * the core's hooks (sign-in, session launch, file upload and download) and
 * at the VNC proxy (clipboard pastes, through the stream tap),
 * content inspection (a versioned pattern library with checksums, custom
 * patterns in a worker with a deadline), violations with a remediation
 * workflow and `compliance.violation.created` events, retention of its own
 * data with legal holds, reports with their SHA-256. See
 * docs/plugins/compliance.md.
 */
import { definePlugin, Events, PluginConfig, Scheduler } from "@streamspace/kernel"
import { Effect, Layer } from "effect"
import schema from "../migrations/0001_compliance.sql" with { type: "text" }
import { guardClipboard } from "./ClipboardGuard.ts"
import { ComplianceConfig } from "./Config.ts"
import { ChecksCompleted, makeEngine, ViolationCreated } from "./Engine.ts"
import { makeHttp } from "./Http.ts"

export * as Checks from "./Checks.ts"
export * as CustomRegex from "./dlp/CustomRegex.ts"
export * as Patterns from "./dlp/Patterns.ts"
export * as SafeRegex from "./dlp/SafeRegex.ts"
export * as Sniff from "./dlp/Sniff.ts"
export * as Evaluate from "./Evaluate.ts"
export * as Frameworks from "./Frameworks.ts"
export * as Policy from "./Policy.ts"
export { ChecksCompleted, ComplianceConfig, ViolationCreated }

const build = Effect.gen(function* () {
  const config = yield* PluginConfig.get(ComplianceConfig)
  const engine = yield* makeEngine(config)
  yield* engine.registerHooks
  yield* engine.trackSessions
  yield* guardClipboard(engine)
  yield* makeHttp(engine, config)
  const scheduler = yield* Scheduler
  if (config.autoCheck)
    yield* scheduler.schedule(
      "run-checks",
      { every: `${config.checkInterval} hours` },
      engine.runChecks(config.enabledFrameworks)
    )
  yield* scheduler.schedule(
    "session-duration",
    { every: `${config.durationCheckMinutes} minutes` },
    engine.enforceDuration
  )
  yield* scheduler.schedule("retention", { cron: "30 2 * * *" }, engine.purge)
})

const ComplianceLive = Layer.scopedDiscard(build)

export default definePlugin({
  id: "compliance",
  name: "Compliance",
  version: "1.0.0",
  type: "extension",
  category: "security",
  description:
    "Frameworks and automated control checks, policies enforced at sign-in, launch and file transfer, DLP, violations and reports",
  permissions: [
    {
      name: "compliance:read",
      description: "Read frameworks, checks, policies, violations and reports (auditors)",
      roles: ["operator"]
    },
    { name: "compliance:write", description: "Work violations, attest controls, run checks, generate reports" },
    { name: "compliance:admin", description: "Manage policies, DLP patterns, template classifications and legal holds" }
  ],
  grants: ["sessions", "vnc", "posture"],
  config: ComplianceConfig,
  migrations: [{ id: 1, name: "compliance", sql: schema }],
  events: Events.declare(ViolationCreated, ChecksCompleted),
  layer: ComplianceLive,
  ui: [
    {
      kind: "widget",
      id: "compliance-status",
      title: "Compliance status",
      component: "ui/StatusWidget.tsx",
      width: "medium",
      permissions: ["compliance:read"]
    },
    {
      kind: "page",
      id: "compliance",
      title: "Compliance",
      path: "overview",
      nav: "admin",
      permissions: ["compliance:read"],
      component: "ui/CompliancePage.tsx"
    }
  ]
})
