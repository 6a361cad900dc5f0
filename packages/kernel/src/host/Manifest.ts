/**
 * Checks a plugin definition before the host accepts it; problems name the
 * plugin and the field. Declared events must be namespaced by the plugin id
 * and have a payload Schema with a JSON form; methods are declared under
 * their own names.
 */
import type { FieldError } from "@streamspace/core"
import { JSONSchema, Schema } from "effect"
import * as Semver from "./Semver.ts"
import type { PluginDefinition } from "../Plugin.ts"
import { platformGrants } from "../Platform.ts"

export const ID = /^[a-z][a-z0-9-]{1,39}$/
/** A UI extension's module: a file directly in the plugin's `ui/` folder. */
export const UI_COMPONENT = /^ui\/[A-Za-z0-9_-]+\.(tsx|ts|jsx|js)$/
/** An event type: `<id>.<part>[.<part>…]`. */
export const EVENT_TYPE = /^[a-z][a-z0-9-]*(\.[a-z0-9_-]+)+$/

export const validate = (def: PluginDefinition): ReadonlyArray<FieldError> => {
  const errors: Array<FieldError> = []
  const at = (path: string, message: string) => errors.push({ path: `${def.id ?? "?"}.${path}`, message })
  if (!ID.test(def.id ?? "")) at("id", "2–40 characters: lowercase letters, digits and '-', starting with a letter")
  if (!def.name) at("name", "required")
  if (!Semver.parse(def.version ?? "")) at("version", `not a semantic version: ${JSON.stringify(def.version)}`)
  if (!["extension", "integration", "theme"].includes(def.type)) at("type", "one of extension, integration, theme")
  ;(def.permissions ?? []).forEach((p, i) => {
    const name = typeof p === "string" ? p : p.name
    if (!name.startsWith(`${def.id}:`)) at(`permissions.${i}`, `must be namespaced "${def.id}:…", got ${name}`)
  })
  ;(def.grants ?? []).forEach((g, i) => {
    if (!platformGrants.includes(g)) at(`grants.${i}`, `one of ${platformGrants.join(", ")}, got ${String(g)}`)
  })
  ;(def.dependsOn ?? []).forEach((d, i) => {
    if (!ID.test(d.id)) at(`dependsOn.${i}.id`, "not a plugin id")
    if (d.id === def.id) at(`dependsOn.${i}.id`, "a plugin cannot depend on itself")
    if (Semver.satisfies("1.0.0", d.version) === undefined)
      at(`dependsOn.${i}.version`, `not a version range: ${d.version}`)
  })
  let previous = 0
  ;(def.migrations ?? []).forEach((m, i) => {
    if (m.id <= previous) at(`migrations.${i}`, `migration ${m.id}_${m.name} is not numbered above ${previous}`)
    // The host keeps its own tables in the plugin's schema (PluginInstaller): their names are reserved.
    if (/_streamspace_/i.test(m.sql))
      at(
        `migrations.${i}`,
        `migration ${m.id}_${m.name} uses a name beginning _streamspace_, which the host reserves for its tables`
      )
    previous = m.id
  })
  Object.entries(def.events ?? {}).forEach(([type, schema]) => {
    if (!type.startsWith(`${def.id}.`)) at(`events.${type}`, `must be namespaced "${def.id}.…", got ${type}`)
    else if (!EVENT_TYPE.test(type))
      at(`events.${type}`, "dot-separated parts of lowercase letters, digits, '-' and '_'")
    if (!Schema.isSchema(schema)) {
      at(`events.${type}`, "not a Schema")
      return
    }
    try {
      JSONSchema.make(schema)
    } catch (e) {
      at(
        `events.${type}`,
        `the payload must have a JSON form (events are stored as JSON): ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`
      )
    }
  })
  Object.entries(def.methods ?? {}).forEach(([key, m]) => {
    // A caller names the method by the value's `name` (`plugins.call(id, greet, …)`), so the key must be that name.
    if (m?._tag !== "PluginMethod")
      at(`methods.${key}`, "not a method (make it with method(name, { input, output, handler }))")
    else if (m.name !== key)
      at(`methods.${key}`, `the method is named ${JSON.stringify(m.name)}: declare it under its name`)
  })
  const uiIds = new Set<string>()
  ;(def.ui ?? []).forEach((ext, i) => {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(ext.id ?? "")) at(`ui.${i}.id`, "lowercase letters, digits and '-'")
    else if (uiIds.has(ext.id)) at(`ui.${i}.id`, `${ext.id} is used twice`)
    uiIds.add(ext.id)
    // The console bundles the file named here from the plugin's folder (`@streamspace/web`'s PluginUiBuild).
    if (!UI_COMPONENT.test(ext.component ?? ""))
      at(`ui.${i}.component`, `a file directly in the plugin's ui/ folder, e.g. "ui/Page.tsx", got ${ext.component}`)
    if (ext.kind === "page" && !/^[a-z0-9-]+(\/[a-z0-9-]+)*$/.test(ext.path ?? ""))
      at(`ui.${i}.path`, `lowercase path segments (the page lives at /plugins/${def.id}/<path>), got ${ext.path}`)
  })
  if (!def.layer) at("layer", "required")
  return errors
}

/** Schema and role names; roles are cluster-wide on PostgreSQL, so they carry the database too. */
export const schemaOf = (id: string) => `plugin_${id.replaceAll("-", "_")}`
export const roleOf = (id: string, database: string) => {
  let h = 0
  for (const ch of database) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0
  return `ssp_${(h >>> 0).toString(36)}_${id.replaceAll("-", "_")}`
}
