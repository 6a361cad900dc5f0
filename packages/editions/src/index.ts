/**
 * Editions: which plugin modules a build contains. Which of them run is
 * decided at runtime by the admin (and `plugins.enabled` on first boot).
 * `STREAMSPACE_EDITION` picks one for `bun start` (default community).
 * Plugins not yet written are simply absent from the lists.
 */
import type { PluginDefinition } from "@streamspace/kernel"

export const community: ReadonlyArray<PluginDefinition> = []

export const enterprise: ReadonlyArray<PluginDefinition> = [...community]

export const editions = { community, enterprise } as const

export const selected = (name = process.env["STREAMSPACE_EDITION"] ?? "community"): ReadonlyArray<PluginDefinition> => {
  const edition = editions[name as keyof typeof editions]
  if (!edition) throw new Error(`unknown edition ${name}; known: ${Object.keys(editions).join(", ")}`)
  return edition
}
