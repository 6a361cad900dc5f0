/**
 * The core event catalogue (docs/architecture.md "Core events"): every event the core
 * publishes, defined once with the Schema of its payload and a line saying
 * when it happens. Every event also carries an id, a timestamp and the
 * acting user (the envelope; `actorId` is null when the platform itself
 * acted, e.g. the session orchestrator). Plugins add their own types with
 * their own definitions (`Events.define` in the kernel).
 */
import { Option, Schema } from "effect"
import { define, type Event, type EventDefinition, type EventOf } from "./EventDefinition.ts"

export * from "./EventDefinition.ts"

export const SessionEvent = Schema.Struct({
  sessionId: Schema.String,
  userId: Schema.String,
  templateId: Schema.String,
  state: Schema.String,
  reason: Schema.optional(Schema.String),
  /** The session's size (millicores, MiB), for metering; absent from events written before it was added. */
  cpu: Schema.optional(Schema.Number),
  memory: Schema.optional(Schema.Number),
  /** When the change happened on the platform's clock (ISO 8601); absent from events written before it was added. */
  at: Schema.optional(Schema.String)
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
  size: Schema.Number,
  /** When the bytes were stored or removed, on the platform's clock (ISO 8601); absent from older events. */
  at: Schema.optional(Schema.String)
})

export const QuotaEvent = Schema.Struct({
  userId: Schema.String,
  scope: Schema.Literal("user", "group"),
  scopeId: Schema.String,
  limit: Schema.String,
  max: Schema.Number,
  requested: Schema.Number
})

/** A plugin's lifecycle step, named by the plugin's id. */
export const PluginEvent = Schema.Struct({
  plugin: Schema.String
})

export const SessionCreated = define(
  "session.created",
  SessionEvent,
  "A user launched a session from a template; it is pending until its workload runs. Actor: the user."
)
export const SessionStarted = define(
  "session.started",
  SessionEvent,
  "A pending session's workload is running and reachable. Actor: the platform."
)
export const SessionStopped = define(
  "session.stopped",
  SessionEvent,
  "A session ended without being asked to: the runtime reported its workload gone (`reason`). Actor: the platform."
)
export const SessionHibernated = define(
  "session.hibernated",
  SessionEvent,
  "A running session was scaled to zero, asked for or idle past the timeout; its home is kept. Actor: the platform."
)
export const SessionWoken = define(
  "session.woken",
  SessionEvent,
  "A hibernated session is running again. Actor: the platform."
)
export const SessionDeleted = define(
  "session.deleted",
  SessionEvent,
  "A session its user (or an admin) deleted is gone: its workload was removed. Actor: the platform."
)
export const SessionFailed = define(
  "session.failed",
  SessionEvent,
  "A session failed: runtime errors after retries, a start timeout, a refused placement (`reason` says which). Actor: the platform."
)
export const UserCreated = define(
  "user.created",
  UserEvent,
  "A user account was created, by an admin or as the first-boot admin (actor null)."
)
export const UserLogin = define(
  "user.login",
  UserEvent,
  "A user signed in with a password (and second factor). Actor: the user."
)
export const UserLogout = define(
  "user.logout",
  UserEvent,
  "A user signed out; the refresh tokens of that login (or all) are revoked. Actor: the user."
)
export const FileUploaded = define(
  "file.uploaded",
  FileEvent,
  "A file was uploaded to a session's storage. Actor: the uploader."
)
export const FileDeleted = define(
  "file.deleted",
  FileEvent,
  "A file was deleted from a session's storage (its bytes are gone). Actor: the deleter."
)
export const QuotaExceeded = define(
  "quota.exceeded",
  QuotaEvent,
  "A request was refused because it would exceed a user or group quota (the request rolled back, the event stays). Actor: the requester."
)

export const PluginInstalled = define(
  "plugin.installed",
  PluginEvent,
  "A plugin was installed: its schema, role and permissions exist; it is not running yet. Actor: the admin (null at first boot)."
)
export const PluginEnabled = define(
  "plugin.enabled",
  PluginEvent,
  "A plugin was enabled: its routes, subscriptions, jobs and UI pages are live. Actor: the admin."
)
export const PluginDisabled = define(
  "plugin.disabled",
  PluginEvent,
  "An enabled plugin was disabled (or stopped before its uninstall): its routes, jobs and UI pages are gone. Actor: the admin."
)
export const PluginUninstalled = define(
  "plugin.uninstalled",
  PluginEvent,
  "A plugin was uninstalled: its permissions are gone, its schema and role too unless its data was kept. Actor: the admin."
)
export const PluginConfigured = define(
  "plugin.configured",
  PluginEvent,
  "A plugin's config was replaced (an enabled plugin restarts with it). Actor: the admin."
)

/** Every core event, in catalogue order. */
export const definitions = [
  SessionCreated,
  SessionStarted,
  SessionStopped,
  SessionHibernated,
  SessionWoken,
  SessionDeleted,
  SessionFailed,
  UserCreated,
  UserLogin,
  UserLogout,
  FileUploaded,
  FileDeleted,
  QuotaExceeded,
  PluginInstalled,
  PluginEnabled,
  PluginDisabled,
  PluginUninstalled,
  PluginConfigured
] as const

export type CoreEventDefinition = (typeof definitions)[number]

/** Core event type → payload Schema. */
export const catalog = {
  [SessionCreated.type]: SessionCreated.schema,
  [SessionStarted.type]: SessionStarted.schema,
  [SessionStopped.type]: SessionStopped.schema,
  [SessionHibernated.type]: SessionHibernated.schema,
  [SessionWoken.type]: SessionWoken.schema,
  [SessionDeleted.type]: SessionDeleted.schema,
  [SessionFailed.type]: SessionFailed.schema,
  [UserCreated.type]: UserCreated.schema,
  [UserLogin.type]: UserLogin.schema,
  [UserLogout.type]: UserLogout.schema,
  [FileUploaded.type]: FileUploaded.schema,
  [FileDeleted.type]: FileDeleted.schema,
  [QuotaExceeded.type]: QuotaExceeded.schema,
  [PluginInstalled.type]: PluginInstalled.schema,
  [PluginEnabled.type]: PluginEnabled.schema,
  [PluginDisabled.type]: PluginDisabled.schema,
  [PluginUninstalled.type]: PluginUninstalled.schema,
  [PluginConfigured.type]: PluginConfigured.schema
} as const

export type CoreEventType = keyof typeof catalog
export type CoreEventPayload<T extends CoreEventType> = (typeof catalog)[T]["Type"]
export type SessionEventType = Extract<CoreEventType, `session.${string}`>
export type UserEventType = Extract<CoreEventType, `user.${string}`>
export type PluginEventType = Extract<CoreEventType, `plugin.${string}`>
/** A core event with its decoded payload; `switch (event.type)` narrows the payload. */
export type CoreEvent = EventOf<CoreEventDefinition>

export const coreEventTypes: ReadonlyArray<CoreEventType> = definitions.map((d) => d.type)

export const isCoreEventType = (type: string): type is CoreEventType => type in catalog

/** The definition of a core event type. */
export const definitionOf = (type: CoreEventType): CoreEventDefinition => definitions.find((d) => d.type === type)!

const reader = <T extends CoreEventType, A, I>(definition: EventDefinition<T, A, I>) => {
  const decode = Schema.decodeUnknownOption(definition.schema)
  return (event: Event): Option.Option<Event<T, A>> =>
    Option.map(decode(event.payload), (payload) => ({ ...event, type: definition.type, payload }))
}

const readers: { readonly [T in CoreEventType]: (event: Event) => Option.Option<CoreEvent> } = {
  [SessionCreated.type]: reader(SessionCreated),
  [SessionStarted.type]: reader(SessionStarted),
  [SessionStopped.type]: reader(SessionStopped),
  [SessionHibernated.type]: reader(SessionHibernated),
  [SessionWoken.type]: reader(SessionWoken),
  [SessionDeleted.type]: reader(SessionDeleted),
  [SessionFailed.type]: reader(SessionFailed),
  [UserCreated.type]: reader(UserCreated),
  [UserLogin.type]: reader(UserLogin),
  [UserLogout.type]: reader(UserLogout),
  [FileUploaded.type]: reader(FileUploaded),
  [FileDeleted.type]: reader(FileDeleted),
  [QuotaExceeded.type]: reader(QuotaExceeded),
  [PluginInstalled.type]: reader(PluginInstalled),
  [PluginEnabled.type]: reader(PluginEnabled),
  [PluginDisabled.type]: reader(PluginDisabled),
  [PluginUninstalled.type]: reader(PluginUninstalled),
  [PluginConfigured.type]: reader(PluginConfigured)
}

/** An envelope as a typed core event; none for other events and for a payload its Schema refuses. */
export const read = (event: Event): Option.Option<CoreEvent> =>
  isCoreEventType(event.type) ? readers[event.type](event) : Option.none()

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
