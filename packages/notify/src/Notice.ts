/**
 * A notice: an event described for people — title, one line of text,
 * severity, labelled fields — plus what filters and addressing need (the
 * user and template it concerns) and what it is about (`subject`, e.g.
 * `quota:<userId>`), so that incident tools can group and resolve.
 * Providers render notices; they never read raw event payloads.
 */
import { CoreEvents, Directory } from "@streamspace/core"
import { Effect, Option } from "effect"

export type Severity = "info" | "warning" | "error" | "critical"

export interface Field {
  readonly label: string
  readonly value: string
}

export interface Notice {
  readonly eventId: string
  readonly type: string
  readonly source: string
  readonly occurredAt: Date
  readonly title: string
  readonly text: string
  readonly severity: Severity
  readonly fields: ReadonlyArray<Field>
  readonly user: Directory.DirectoryUser | null
  readonly template: Directory.DirectoryTemplate | null
  /** What the notice is about: `session:<id>`, `quota:<userId>`, `user:<id>`, `file:<id>`, or `event:<type>`. */
  readonly subject: string
  /** Subjects whose earlier condition this notice ends (a session of a user over quota was created: the quota is clear). */
  readonly clears: ReadonlyArray<string>
}

const who = (user: Directory.DirectoryUser | null, fallback: string) =>
  user ? user.displayName || user.username : fallback

const formatBytes = (n: number) => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"]
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`
}

const sessionTitles: Record<CoreEvents.SessionEventType, readonly [string, string, Severity]> = {
  "session.created": ["Session created", "created a session of", "info"],
  "session.started": ["Session running", "is now running", "info"],
  "session.stopped": ["Session stopped", "stopped", "info"],
  "session.hibernated": ["Session hibernated", "hibernated", "info"],
  "session.woken": ["Session woken", "woke", "info"],
  "session.deleted": ["Session deleted", "deleted", "info"],
  "session.failed": ["Session failed", "failed", "error"]
}

const userTitles: Record<CoreEvents.UserEventType, (username: string) => readonly [string, string]> = {
  "user.created": (u) => ["User created", `${u} has an account now`],
  "user.login": (u) => ["User signed in", `${u} signed in`],
  "user.logout": (u) => ["User signed out", `${u} signed out`]
}

/** Primitive top-level values of a payload, as fields (plugin events have no description of their own). */
const payloadFields = (payload: unknown): ReadonlyArray<Field> =>
  typeof payload === "object" && payload !== null
    ? Object.entries(payload)
        .filter(([, v]) => ["string", "number", "boolean"].includes(typeof v))
        .slice(0, 10)
        .map(([k, v]) => ({ label: k, value: String(v) }))
    : []

/**
 * Describes an outbox event, looking up its user and template in the directory. Core events are read
 * with their catalogue Schemas; a payload that does not match (or a plugin event) gets a generic notice.
 */
export const describe = (event: CoreEvents.EventEnvelope) =>
  Effect.gen(function* () {
    const directory = yield* Directory.Directory
    const base = {
      eventId: event.id,
      type: event.type,
      source: event.source,
      occurredAt: event.occurredAt,
      clears: [] as ReadonlyArray<string>
    }
    const userOf = (id: string) => Effect.map(directory.user(id), Option.getOrNull)
    const core = CoreEvents.read(event)
    if (Option.isNone(core)) {
      return {
        ...base,
        title: event.type,
        text: `${event.type} from ${event.source}`,
        severity: "info",
        user: null,
        template: null,
        subject: `event:${event.type}`,
        fields: payloadFields(event.payload)
      } satisfies Notice
    }
    const e = core.value
    switch (e.type) {
      case "session.created":
      case "session.started":
      case "session.stopped":
      case "session.hibernated":
      case "session.woken":
      case "session.deleted":
      case "session.failed": {
        const p = e.payload
        const [title, verb, severity] = sessionTitles[e.type]
        const user = yield* userOf(p.userId)
        const template = Option.getOrNull(yield* directory.template(p.templateId))
        const app = template?.displayName ?? p.templateId
        const name = who(user, p.userId)
        const text =
          e.type === "session.created"
            ? `${name} ${verb} ${app}`
            : e.type === "session.failed"
              ? `${app} session of ${name} failed${p.reason ? `: ${p.reason}` : ""}`
              : `${app} session of ${name} ${verb}`
        const clears =
          e.type === "session.created"
            ? [`quota:${p.userId}`]
            : e.type === "session.deleted"
              ? [`session:${p.sessionId}`]
              : []
        return {
          ...base,
          title,
          text,
          severity,
          user,
          template,
          subject: `session:${p.sessionId}`,
          clears,
          fields: [
            { label: "User", value: user?.username ?? p.userId },
            { label: "App", value: app },
            { label: "Session", value: p.sessionId },
            { label: "State", value: p.state },
            ...(p.reason ? [{ label: "Reason", value: p.reason }] : [])
          ]
        } satisfies Notice
      }
      case "user.created":
      case "user.login":
      case "user.logout": {
        const p = e.payload
        const user = yield* userOf(p.userId)
        const [title, text] = userTitles[e.type](p.username)
        return {
          ...base,
          title,
          text,
          severity: "info",
          user,
          template: null,
          subject: `user:${p.userId}`,
          fields: [
            { label: "User", value: p.username },
            ...(user?.email ? [{ label: "Email", value: user.email }] : [])
          ]
        } satisfies Notice
      }
      case "file.uploaded":
      case "file.deleted": {
        const p = e.payload
        const user = yield* userOf(p.userId)
        const uploaded = e.type === "file.uploaded"
        return {
          ...base,
          title: uploaded ? "File uploaded" : "File deleted",
          text: `${who(user, p.userId)} ${uploaded ? "uploaded" : "deleted"} ${p.name} (${formatBytes(p.size)})`,
          severity: "info",
          user,
          template: null,
          subject: `file:${p.fileId}`,
          fields: [
            { label: "User", value: user?.username ?? p.userId },
            { label: "File", value: p.name },
            { label: "Size", value: formatBytes(p.size) },
            ...(p.sessionId ? [{ label: "Session", value: p.sessionId }] : [])
          ]
        } satisfies Notice
      }
      case "quota.exceeded": {
        const p = e.payload
        const user = yield* userOf(p.userId)
        return {
          ...base,
          title: "Quota exceeded",
          text: `${who(user, p.userId)} hit the ${p.scope} limit on ${p.limit}: ${p.requested} requested, ${p.max} allowed`,
          severity: "warning",
          user,
          template: null,
          subject: `quota:${p.userId}`,
          fields: [
            { label: "User", value: user?.username ?? p.userId },
            { label: "Limit", value: `${p.limit} (${p.scope})` },
            { label: "Allowed", value: String(p.max) },
            { label: "Requested", value: String(p.requested) }
          ]
        } satisfies Notice
      }
      case "plugin.installed":
      case "plugin.enabled":
      case "plugin.disabled":
      case "plugin.uninstalled":
      case "plugin.configured": {
        const step = e.type.slice("plugin.".length)
        return {
          ...base,
          title: `Plugin ${step}`,
          text: `plugin ${e.payload.plugin} was ${step}`,
          severity: "info",
          user: null,
          template: null,
          subject: `plugin:${e.payload.plugin}`,
          fields: [{ label: "Plugin", value: e.payload.plugin }]
        } satisfies Notice
      }
    }
  })

/** A notice another plugin wrote (the `notify` method): its words, no user or template. */
export const custom = (
  input: {
    readonly key: string
    readonly title: string
    readonly text: string
    readonly severity: Severity
    readonly fields: ReadonlyArray<Field>
    readonly event: string
    readonly subject?: string | undefined
  },
  at: Date
): Notice => ({
  eventId: `notify:${input.key}`,
  type: input.event,
  source: "notify",
  occurredAt: at,
  title: input.title,
  text: input.text,
  severity: input.severity,
  fields: input.fields,
  user: null,
  template: null,
  subject: input.subject ?? `notify:${input.key}`,
  clears: []
})

/** The notice a "send test notification" request sends. */
export const test = (message: string | undefined, at: Date): Notice => ({
  eventId: `test-${crypto.randomUUID()}`,
  type: "streamspace.test",
  source: "streamspace",
  occurredAt: at,
  title: "Test notification",
  text: message ?? "StreamSpace can reach this destination.",
  severity: "info",
  fields: [{ label: "Sent at", value: at.toISOString() }],
  user: null,
  template: null,
  subject: "test",
  clears: []
})
