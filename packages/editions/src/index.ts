/**
 * Editions: which plugin modules a build contains. Which of them run is
 * decided at runtime by the admin (and `plugins.enabled` on first boot).
 * `STREAMSPACE_EDITION` picks one for `bun start` (default community); a
 * compiled executable carries the edition it was built for.
 * Plugins not yet written are simply absent from the lists.
 */
import type { PluginDefinition } from "@streamspace/kernel/host"
import billing from "@streamspace/plugin-billing"
import calendar from "@streamspace/plugin-calendar"
import compliance from "@streamspace/plugin-compliance"
import discord from "@streamspace/plugin-discord"
import emailSmtp from "@streamspace/plugin-email-smtp"
import multiMonitor from "@streamspace/plugin-multi-monitor"
import nodeManager from "@streamspace/plugin-node-manager"
import pagerduty from "@streamspace/plugin-pagerduty"
import sessionRecorder from "@streamspace/plugin-session-recorder"
import slack from "@streamspace/plugin-slack"
import teams from "@streamspace/plugin-teams"
import workflows from "@streamspace/plugin-workflows"

/** The kernel and the core services only: plugins come from `plugins.dir` if at all. */
export const core: ReadonlyArray<PluginDefinition> = []

/** Notifications, the calendar and multi-monitor. */
export const community: ReadonlyArray<PluginDefinition> = [
  slack,
  teams,
  discord,
  pagerduty,
  emailSmtp,
  calendar,
  multiMonitor
]

export const enterprise: ReadonlyArray<PluginDefinition> = [
  ...community,
  billing,
  compliance,
  nodeManager,
  sessionRecorder,
  workflows
]

export const editions = { core, community, enterprise } as const

/** Set by `bun run build:edition` (`--define`): a compiled executable carries its edition. */
declare const STREAMSPACE_BUILD_EDITION: string | undefined
const built = typeof STREAMSPACE_BUILD_EDITION === "string" ? STREAMSPACE_BUILD_EDITION : undefined

/** The edition this process runs as: the one it was built for, else `STREAMSPACE_EDITION`, else community. */
export const selectedName = (): string => built ?? process.env["STREAMSPACE_EDITION"] ?? "community"

export const selected = (name = selectedName()): ReadonlyArray<PluginDefinition> => {
  const edition = editions[name as keyof typeof editions]
  if (!edition) throw new Error(`unknown edition ${name}; known: ${Object.keys(editions).join(", ")}`)
  return edition
}
