/**
 * Which events an integration notifies about, and for whom: the `events`
 * and `filters` fields every notification integration's config has. Filters
 * of different kinds must all match; within a kind any value matches.
 */
import { Schema } from "effect"
import type { Notice } from "./Notice.ts"

export const defaultEvents: ReadonlyArray<string> = ["session.created", "user.created", "quota.exceeded"]

const EventType = Schema.String.pipe(
  Schema.pattern(/^(\*|[a-z0-9][a-z0-9_-]*(\.[a-z0-9_*-]+)+)$/, {
    message: () => "an event type such as session.created, a plugin event such as billing.invoice.generated, or *"
  })
)

const Names = Schema.Array(Schema.String.pipe(Schema.minLength(1)))

export const Filters = Schema.Struct({
  /** Usernames or user ids. */
  users: Schema.optional(Names),
  /** Group names (case-insensitive). */
  groups: Schema.optional(Names),
  /** Template names or ids. */
  templates: Schema.optional(Names)
})
export type Filters = typeof Filters.Type

/** The selection fields, with the default events of the provider. */
export const fields = (events: ReadonlyArray<string> = defaultEvents) => ({
  events: Schema.optionalWith(Schema.Array(EventType).pipe(Schema.minItems(1)), { default: () => [...events] }),
  filters: Schema.optionalWith(Filters, { default: () => ({}) })
})

export interface Selection {
  readonly events: ReadonlyArray<string>
  readonly filters: Filters
}

const eventMatches = (pattern: string, type: string) =>
  pattern === "*" || pattern === type || (pattern.endsWith(".*") && type.startsWith(pattern.slice(0, -1)))

/** Whether the notice passes the filters (the user, group and template it concerns). */
export const passesFilters = (filters: Filters, notice: Notice) => {
  const lower = (xs: ReadonlyArray<string>) => xs.map((x) => x.toLowerCase())
  if (filters.users && filters.users.length > 0) {
    if (
      !notice.user ||
      !lower(filters.users).some(
        (u) => u === notice.user!.username.toLowerCase() || u === notice.user!.id.toLowerCase()
      )
    )
      return false
  }
  if (filters.groups && filters.groups.length > 0) {
    if (!notice.user || !lower(filters.groups).some((g) => lower(notice.user!.groups).includes(g))) return false
  }
  if (filters.templates && filters.templates.length > 0) {
    if (
      !notice.template ||
      !lower(filters.templates).some(
        (t) => t === notice.template!.name.toLowerCase() || t === notice.template!.id.toLowerCase()
      )
    )
      return false
  }
  return true
}

export const selects = (selection: Selection, notice: Notice) =>
  selection.events.some((pattern) => eventMatches(pattern, notice.type)) && passesFilters(selection.filters, notice)
