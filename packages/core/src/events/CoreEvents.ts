/**
 * The core event catalog (DESIGN.md): each event type with the Schema of its
 * payload. Every event also carries an id, a timestamp and the acting user
 * (the envelope). Plugins add their own types with their own Schemas.
 */
import { Schema } from "effect"

export const SessionEvent = Schema.Struct({
  sessionId: Schema.String,
  userId: Schema.String,
  templateId: Schema.String,
  state: Schema.String,
  reason: Schema.optional(Schema.String)
})

export const UserEvent = Schema.Struct({
  userId: Schema.String,
  username: Schema.String
})

export const FileEvent = Schema.Struct({
  fileId: Schema.String,
  userId: Schema.String,
  sessionId: Schema.NullOr(Schema.String),
  name: Schema.String,
  size: Schema.Number
})

export const QuotaEvent = Schema.Struct({
  userId: Schema.String,
  scope: Schema.Literal("user", "group"),
  scopeId: Schema.String,
  limit: Schema.String,
  max: Schema.Number,
  requested: Schema.Number
})

export const catalog = {
  "session.created": SessionEvent,
  "session.started": SessionEvent,
  "session.stopped": SessionEvent,
  "session.hibernated": SessionEvent,
  "session.woken": SessionEvent,
  "session.deleted": SessionEvent,
  "session.failed": SessionEvent,
  "user.created": UserEvent,
  "user.login": UserEvent,
  "user.logout": UserEvent,
  "file.uploaded": FileEvent,
  "quota.exceeded": QuotaEvent
} as const

export type CoreEventType = keyof typeof catalog
export type CoreEventPayload<T extends CoreEventType> = typeof catalog[T]["Type"]

export const coreEventTypes = Object.keys(catalog) as ReadonlyArray<CoreEventType>

export const isCoreEventType = (type: string): type is CoreEventType => type in catalog

/** The envelope every subscriber receives. */
export const EventEnvelope = Schema.Struct({
  id: Schema.String,
  position: Schema.String,
  type: Schema.String,
  source: Schema.String,
  payload: Schema.Unknown,
  actorId: Schema.NullOr(Schema.String),
  occurredAt: Schema.DateFromSelf
})
export type EventEnvelope = typeof EventEnvelope.Type
