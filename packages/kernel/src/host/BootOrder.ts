/**
 * The order plugins are enabled in at start-up: level by level of the
 * dependency graph, a plugin's dependencies in earlier levels, the plugins
 * of one level side by side. A cycle is cut (its plugins fail their
 * dependency check when enabled, with the cycle named).
 */
import type { PluginDefinition } from "../Plugin.ts"

export const levels = (
  wanted: ReadonlySet<string>,
  available: ReadonlyMap<string, PluginDefinition>
): ReadonlyArray<ReadonlyArray<string>> => {
  const known = new Map<string, number>()
  const levelOf = (id: string, path: ReadonlyArray<string>): number => {
    const level = known.get(id)
    if (level !== undefined) return level
    if (path.includes(id)) return 0
    const deps = (available.get(id)?.dependsOn ?? []).filter((d) => wanted.has(d.id) && available.has(d.id))
    const computed = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((d) => levelOf(d.id, [...path, id])))
    known.set(id, computed)
    return computed
  }
  for (const id of wanted) if (available.has(id)) levelOf(id, [])
  const out: Array<Array<string>> = []
  for (const [id, level] of known) (out[level] ??= []).push(id)
  return out.map((level) => level ?? [])
}
