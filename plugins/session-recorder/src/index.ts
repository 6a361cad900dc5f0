/**
 * Session recorder: records sessions' RFB streams at the VNC proxy (the
 * `vnc` grant's stream tap) into encrypted, chunked, compressed recordings
 * in the platform's blob storage (the `blobs` grant), by policy at session
 * start or by hand, and streams them back for the console's player.
 * Container format: Container.ts; the recording loop: Recorder.ts;
 * docs/plugins/session-recorder.md.
 */
import {
  Actor,
  Conflict,
  CoreEvents,
  Directory,
  Forbidden,
  HttpRoute,
  NotFound,
  NotImplemented,
  Timestamps,
  ValidationError
} from "@streamspace/core"
import {
  definePlugin,
  Events,
  method,
  PluginBlobs,
  PluginConfig,
  PluginSql,
  Routes,
  Scheduler,
  VncTap
} from "@streamspace/kernel"
import { Deferred, Effect, FiberMap, Layer, Option, Schema } from "effect"
import recordingsSql from "../migrations/0001_recordings.sql" with { type: "text" }
import consentNoticeSql from "../migrations/0002_consent_notice.sql" with { type: "text" }
import * as Container from "./Container.ts"

/** The recording container (format, records, chunks), for players and tools. */
export * as RecordingContainer from "./Container.ts"
import * as Recorder from "./Recorder.ts"
import * as Retention from "./Retention.ts"

export const RecorderConfig = Schema.Struct({
  keyframeSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 600)), { default: () => 10 }),
  maxBufferedBytes: Schema.optionalWith(Schema.Int.pipe(Schema.between(64, 256 * 1024 * 1024)), {
    default: () => 8 * 1024 * 1024
  }),
  chunkBytes: Schema.optionalWith(Schema.Int.pipe(Schema.between(4096, 64 * 1024 * 1024)), {
    default: () => 1024 * 1024
  }),
  chunkSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 600)), { default: () => 5 })
})

const READ = "session-recorder:read"
const WRITE = "session-recorder:write"
const ADMIN = "session-recorder:admin"

const Recording = Schema.Struct({
  id: Schema.String,
  sessionId: Schema.String,
  ownerId: Schema.NullOr(Schema.String),
  status: Schema.String,
  reason: Schema.NullOr(Schema.String),
  isAutomatic: Schema.Boolean,
  allowUserPlayback: Schema.Boolean,
  allowUserDownload: Schema.Boolean,
  retentionDays: Schema.Number,
  chunks: Schema.Number,
  sizeBytes: Schema.Number,
  durationMs: Schema.Number,
  error: Schema.NullOr(Schema.String),
  legalHold: Schema.Boolean,
  startedAt: Schema.String,
  endedAt: Schema.NullOr(Schema.String)
})

interface RecordingRow {
  readonly id: string
  readonly session_id: string
  readonly owner_id: string | null
  readonly status: string
  readonly reason: string | null
  readonly is_automatic: boolean
  readonly allow_user_playback: boolean
  readonly allow_user_download: boolean
  readonly retention_days: number
  readonly chunks: number
  readonly size_bytes: number | string
  readonly duration_ms: number | string
  readonly error: string | null
  readonly legal_hold: boolean
  readonly started_at: Date | string
  readonly ended_at: Date | string | null
  readonly sealed_key: string
  readonly manifest_sha256: string | null
  readonly consent_notice: boolean
}

const iso = (d: Date | string) => (d instanceof Date ? d : new Date(d)).toISOString()
const toRecording = (r: RecordingRow): typeof Recording.Type => ({
  id: r.id,
  sessionId: r.session_id,
  ownerId: r.owner_id,
  status: r.status,
  reason: r.reason,
  isAutomatic: r.is_automatic,
  allowUserPlayback: r.allow_user_playback,
  allowUserDownload: r.allow_user_download,
  retentionDays: r.retention_days,
  chunks: r.chunks,
  sizeBytes: Number(r.size_bytes),
  durationMs: Number(r.duration_ms),
  error: r.error,
  legalHold: r.legal_hold,
  startedAt: iso(r.started_at),
  endedAt: r.ended_at === null ? null : iso(r.ended_at)
})

const Policy = Schema.Struct({
  name: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)),
  priority: Schema.optionalWith(Schema.Int, { default: () => 0 }),
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  autoRecord: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  requireReason: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** The viewer shows the user a notice that the session is recorded, to acknowledge. */
  consentNotice: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  allowUserPlayback: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  allowUserDownload: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  retentionDays: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 36500)), { default: () => 30 }),
  users: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  groups: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  roles: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  templates: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })
})
const StoredPolicy = Schema.extend(Policy, Schema.Struct({ id: Schema.Number }))

interface PolicyRow {
  readonly id: number
  readonly name: string
  readonly priority: number
  readonly enabled: boolean
  readonly auto_record: boolean
  readonly require_reason: boolean
  readonly consent_notice: boolean
  readonly allow_user_playback: boolean
  readonly allow_user_download: boolean
  readonly retention_days: number
  readonly users: unknown
  readonly groups: unknown
  readonly roles: unknown
  readonly templates: unknown
}
const list = (v: unknown): ReadonlyArray<string> =>
  (typeof v === "string" ? (JSON.parse(v) as unknown) : v) instanceof Array
    ? ((typeof v === "string" ? JSON.parse(v) : v) as Array<unknown>).filter((x): x is string => typeof x === "string")
    : []
const toPolicy = (r: PolicyRow): typeof StoredPolicy.Type => ({
  id: r.id,
  name: r.name,
  priority: r.priority,
  enabled: r.enabled,
  autoRecord: r.auto_record,
  requireReason: r.require_reason,
  consentNotice: r.consent_notice,
  allowUserPlayback: r.allow_user_playback,
  allowUserDownload: r.allow_user_download,
  retentionDays: r.retention_days,
  users: list(r.users),
  groups: list(r.groups),
  roles: list(r.roles),
  templates: list(r.templates)
})

/** The policy for a session: the highest-priority enabled one whose non-empty lists all match (empty = anyone). */
export const policyFor = (
  policies: ReadonlyArray<typeof StoredPolicy.Type>,
  who: { readonly userId: string; readonly roles: ReadonlyArray<string>; readonly groups: ReadonlyArray<string> },
  templateId: string
) =>
  [...policies]
    .filter((p) => p.enabled)
    .sort((a, b) => b.priority - a.priority || a.id - b.id)
    .find(
      (p) =>
        (p.users.length === 0 || p.users.includes(who.userId)) &&
        (p.roles.length === 0 || p.roles.some((r) => who.roles.includes(r))) &&
        (p.groups.length === 0 || p.groups.some((g) => who.groups.includes(g))) &&
        (p.templates.length === 0 || p.templates.includes(templateId))
    )

/**
 * For the compliance plugin: deletes a user's recordings, or the given ones, optionally only those started
 * before a time; recordings under legal hold (and running ones) are kept and counted.
 */
export const purge = method("purge", {
  input: Schema.Struct({
    userId: Schema.optional(Schema.String.pipe(Schema.minLength(1))),
    recordingIds: Schema.optional(Schema.Array(Schema.String)),
    startedBefore: Schema.optional(Schema.DateFromString)
  }).pipe(
    Schema.filter((i) => i.userId !== undefined || i.recordingIds !== undefined || "name userId or recordingIds")
  ),
  output: Schema.Struct({ purged: Schema.Array(Schema.String), held: Schema.Number }),
  handler: (input) =>
    Effect.gen(function* () {
      return yield* Retention.purgeMatching(yield* PluginSql, yield* PluginBlobs, input)
    })
})

/** For billing: stored recording bytes per owner (all owners, or one). */
export const storageBytes = method("storageBytes", {
  input: Schema.Struct({ userId: Schema.optional(Schema.String) }),
  output: Schema.Struct({
    items: Schema.Array(
      Schema.Struct({ userId: Schema.NullOr(Schema.String), bytes: Schema.Number, recordings: Schema.Number })
    )
  }),
  handler: (input) =>
    Effect.map(
      Effect.flatMap(PluginSql, (sql) => Retention.storageByUser(sql, input.userId)),
      (items) => ({ items })
    )
})

const IdParams = Schema.Struct({ id: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)) })

const RecorderLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    const config = yield* PluginConfig.get(RecorderConfig)
    const sql = yield* PluginSql
    const blobs = yield* PluginBlobs
    const tap = yield* VncTap
    const events = yield* Events
    const routes = yield* Routes
    const directory = yield* Directory.Directory
    const running = yield* FiberMap.make<string>()
    const handles = new Map<string, Recorder.RecordingHandle>()

    // Recordings a previous process left running cannot continue (their key and buffers were in memory):
    // they end as failed, with what their manifest lists kept. (One server per database for now.)
    yield* sql`UPDATE recordings SET status = 'failed', error = 'the server stopped while recording',
      ended_at = ${yield* Timestamps.now} WHERE status = 'recording'`

    const policies = Effect.map(sql<PolicyRow>`SELECT * FROM policies ORDER BY priority DESC, id`, (rows) =>
      rows.map(toPolicy)
    )

    const start = (
      sessionId: string,
      options: {
        readonly ownerId: string | null
        readonly startedBy: string | null
        readonly reason: string | null
        readonly automatic: boolean
        readonly policy: typeof StoredPolicy.Type | undefined
      }
    ) =>
      Effect.gen(function* () {
        if (handles.has(sessionId)) return yield* new Conflict({ message: "this session is already being recorded" })
        const id = crypto.randomUUID()
        const key = Container.newKey()
        const sealed = yield* blobs.seal(Buffer.from(key).toString("base64"))
        const p = options.policy
        yield* sql`INSERT INTO recordings (id, session_id, owner_id, started_by, reason, is_automatic, policy_id,
          allow_user_playback, allow_user_download, retention_days, consent_notice, sealed_key, started_at)
          VALUES (${id}, ${sessionId}, ${options.ownerId}, ${options.startedBy}, ${options.reason}, ${options.automatic},
          ${p?.id ?? null}, ${p?.allowUserPlayback ?? true}, ${p?.allowUserDownload ?? true}, ${p?.retentionDays ?? 30},
          ${p?.consentNotice ?? false}, ${sealed}, ${yield* Timestamps.now})`
        const handle: Recorder.RecordingHandle = { id, sessionId, stop: yield* Deferred.make<void>() }
        handles.set(sessionId, handle)
        yield* FiberMap.run(
          running,
          id,
          Recorder.run(handle, key, config, { sql, blobs, tap }).pipe(
            Effect.ensuring(Effect.sync(() => handles.delete(sessionId))),
            Effect.catchAllCause((cause) => Effect.logError("recording ended with an error", cause))
          )
        )
        return id
      })

    const stop = (sessionId: string) =>
      Effect.gen(function* () {
        const handle = handles.get(sessionId)
        if (!handle) return false
        yield* Deferred.succeed(handle.stop, undefined)
        const fiber = yield* FiberMap.get(running, handle.id).pipe(Effect.option)
        if (Option.isSome(fiber)) yield* fiber.value.await
        return true
      })

    yield* events.subscribe({ name: "session-start", event: CoreEvents.SessionCreated }, (event) =>
      Effect.gen(function* () {
        const { sessionId, userId, templateId } = event.payload
        yield* sql`INSERT INTO sessions_seen (session_id, user_id, template_id) VALUES (${sessionId}, ${userId}, ${templateId})
          ON CONFLICT (session_id) DO NOTHING`
        const user = yield* directory.user(userId)
        const who = Option.match(user, {
          onNone: () => ({ userId, roles: [], groups: [] }),
          onSome: (u) => ({ userId, roles: u.roles, groups: u.groups })
        })
        const policy = policyFor(yield* policies, who, templateId)
        if (policy?.autoRecord && !handles.has(sessionId))
          yield* start(sessionId, {
            ownerId: userId,
            startedBy: null,
            reason: `policy: ${policy.name}`,
            automatic: true,
            policy
          }).pipe(Effect.catchTag("Conflict", () => Effect.void))
      })
    )
    yield* events.subscribe(
      { name: "session-end", events: [CoreEvents.SessionDeleted, CoreEvents.SessionStopped] },
      (event) => Effect.asVoid(stop(event.payload.sessionId))
    )

    const isAdmin = (actor: Actor.Actor) => Actor.hasPermission(actor, ADMIN)

    const recordingFor = (id: string, actor: Actor.Actor, right: "playback" | "download" | "view") =>
      Effect.gen(function* () {
        const rows = yield* sql<RecordingRow>`SELECT * FROM recordings WHERE id = ${id}`
        const row = rows[0]
        const mine = row !== undefined && row.owner_id !== null && row.owner_id === Actor.actorId(actor)
        if (!row || (!isAdmin(actor) && !mine)) return yield* new NotFound({ resource: "recording", id })
        if (!isAdmin(actor) && right === "playback" && !row.allow_user_playback)
          return yield* new Forbidden({
            message: "the recording policy does not allow playback by its user",
            permission: ADMIN
          })
        if (!isAdmin(actor) && right === "download" && !row.allow_user_download)
          return yield* new Forbidden({
            message: "the recording policy does not allow download by its user",
            permission: ADMIN
          })
        return row
      })

    const logAccess = (id: string, actor: Actor.Actor, action: string, info: Actor.RequestInfo) =>
      Effect.gen(function* () {
        yield* sql`INSERT INTO access_log (recording_id, user_id, action, ip, user_agent, at)
          VALUES (${id}, ${Actor.actorId(actor)}, ${action}, ${info.ip}, ${info.userAgent.slice(0, 500)}, ${yield* Timestamps.now})`
      })

    /** The manifest, checked against the hash kept in the row. */
    const manifestOf = (row: RecordingRow) =>
      Effect.gen(function* () {
        if (row.manifest_sha256 === null) return Option.none<Container.Manifest>()
        const blob = yield* blobs.get(`${row.id}/manifest.json`)
        const bytes = new Uint8Array(yield* Effect.promise(() => blob.arrayBuffer()))
        if (Container.sha256(bytes) !== row.manifest_sha256)
          return yield* Effect.fail(new Container.ContainerError("the manifest does not match its recorded SHA-256"))
        return Option.some(JSON.parse(new TextDecoder().decode(bytes)) as Container.Manifest)
      })

    /** Every record, decrypted and verified chunk by chunk; the first mismatch fails the whole read. */
    const recordsOf = (row: RecordingRow) =>
      Effect.gen(function* () {
        const manifest = yield* manifestOf(row)
        if (Option.isNone(manifest)) return new Uint8Array()
        const key = new Uint8Array(Buffer.from(yield* blobs.open(row.sealed_key), "base64"))
        const parts: Array<Uint8Array> = []
        for (const chunk of manifest.value.chunks) {
          const blob = yield* blobs.get(chunk.key)
          const stored = new Uint8Array(yield* Effect.promise(() => blob.arrayBuffer()))
          parts.push(
            yield* Effect.try({
              try: () => Container.openChunk(key, row.id, chunk, stored),
              catch: (e) => (e instanceof Container.ContainerError ? e : new Container.ContainerError(String(e)))
            })
          )
        }
        return new Uint8Array(Buffer.concat(parts))
      })

    const integrityProblem = (e: unknown) =>
      new Conflict({
        message: `the recording failed its integrity check: ${e instanceof Error ? e.message : String(e)}`,
        code: "recording_tampered"
      })

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/recordings",
        summary: "Recordings: all for recording admins, else the caller's own",
        permission: READ,
        query: Schema.Struct({ sessionId: Schema.optional(Schema.String.pipe(Schema.maxLength(100))) }),
        response: Schema.Struct({ items: Schema.Array(Recording) }),
        handler: ({ actor, query }) =>
          Effect.gen(function* () {
            const admin = isAdmin(actor)
            const me = Actor.actorId(actor)
            const rows = yield* sql<RecordingRow>`SELECT * FROM recordings
              WHERE (${admin} OR owner_id = ${me}) AND (${query.sessionId ?? null}::text IS NULL OR session_id = ${query.sessionId ?? null})
              ORDER BY started_at DESC LIMIT 500`
            return { items: rows.map(toRecording) }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/recordings/:id",
        summary: "One recording with its timeline (keyframes, input activity)",
        permission: READ,
        params: IdParams,
        errors: [NotFound, Forbidden, Conflict],
        response: Schema.Struct({
          recording: Recording,
          keyframes: Schema.Array(Schema.Number),
          input: Schema.Array(Schema.Tuple(Schema.Number, Schema.String))
        }),
        handler: ({ actor, params, info }) =>
          Effect.gen(function* () {
            const row = yield* recordingFor(params.id, actor, "view")
            const manifest = yield* manifestOf(row).pipe(Effect.mapError(integrityProblem))
            yield* logAccess(row.id, actor, "view", info)
            const chunks = Option.match(manifest, { onNone: () => [], onSome: (m) => m.chunks })
            return {
              recording: toRecording(row),
              keyframes: chunks.flatMap((c) => c.keyframes),
              input: chunks.flatMap((c) => c.input.map(([t, k]) => [t, k] as const))
            }
          })
      })
    )
    const streamRoute = (path: string, action: "playback" | "download", summary: string) =>
      HttpRoute.make({
        method: "GET",
        path,
        summary,
        permission: READ,
        params: IdParams,
        errors: [NotFound, Forbidden, Conflict],
        handler: ({ actor, params, info }) =>
          Effect.gen(function* () {
            const row = yield* recordingFor(params.id, actor, action)
            const bytes = yield* recordsOf(row).pipe(Effect.mapError(integrityProblem))
            yield* logAccess(row.id, actor, action, info)
            return new Response(bytes, {
              headers: {
                "content-type": "application/vnd.streamspace.rfb-records",
                "cache-control": "no-store",
                ...(action === "download"
                  ? { "content-disposition": `attachment; filename="recording-${row.id}.ssrec"` }
                  : {})
              }
            })
          })
      })
    yield* routes.add(
      streamRoute(
        "/recordings/:id/stream",
        "playback",
        "The recording's records, decrypted and verified, for the player"
      )
    )
    yield* routes.add(
      streamRoute("/recordings/:id/download", "download", "The recording's records as a file (decrypted, verified)")
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/recordings/:id/export",
        summary: "Export a recording to WebM through ffmpeg (not built yet: answers 501 saying what is missing)",
        permission: READ,
        params: IdParams,
        body: Schema.Struct({ format: Schema.Literal("webm") }),
        errors: [NotFound, Forbidden, NotImplemented],
        handler: ({ actor, params }) =>
          Effect.gen(function* () {
            yield* recordingFor(params.id, actor, "download")
            // Frames for ffmpeg need the RFB stream decoded on the server (Tight/ZRLE, JPEG): not written yet.
            return yield* new NotImplemented({
              feature: Bun.which("ffmpeg")
                ? "WebM export (ffmpeg is installed; server-side decoding of the recorded RFB stream into frames)"
                : "WebM export (it needs ffmpeg on the server's PATH, which is not installed)"
            })
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/recordings/:id/access-log",
        summary: "Who viewed, played or downloaded the recording",
        permission: READ,
        params: IdParams,
        errors: [NotFound],
        response: Schema.Struct({
          items: Schema.Array(
            Schema.Struct({
              userId: Schema.NullOr(Schema.String),
              action: Schema.String,
              ip: Schema.String,
              userAgent: Schema.String,
              at: Schema.String
            })
          )
        }),
        handler: ({ actor, params }) =>
          Effect.gen(function* () {
            const row = yield* recordingFor(params.id, actor, "view")
            const rows = yield* sql<{
              user_id: string | null
              action: string
              ip: string
              user_agent: string
              at: Date | string
            }>`
              SELECT user_id, action, ip, user_agent, at FROM access_log WHERE recording_id = ${row.id} ORDER BY id`
            return {
              items: rows.map((r) => ({
                userId: r.user_id,
                action: r.action,
                ip: r.ip,
                userAgent: r.user_agent,
                at: iso(r.at)
              }))
            }
          })
      })
    )

    /** The session's owner as the recorder learned it (session.created), for owner-or-admin checks. */
    const ownerOf = (sessionId: string) =>
      Effect.map(
        sql<{ user_id: string }>`SELECT user_id FROM sessions_seen WHERE session_id = ${sessionId}`,
        (rows) => rows[0]?.user_id ?? null
      )
    const mayControl = (sessionId: string, actor: Actor.Actor) =>
      Effect.gen(function* () {
        const owner = yield* ownerOf(sessionId)
        if (isAdmin(actor) || (owner !== null && owner === Actor.actorId(actor))) return owner
        return yield* new NotFound({ resource: "session", id: sessionId })
      })

    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/sessions/:id/recording/start",
        summary: "Start recording a session (its owner or a recording admin)",
        permission: WRITE,
        params: IdParams,
        body: Schema.Struct({
          reason: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(500)))
        }),
        errors: [NotFound, Conflict, ValidationError],
        successStatus: 201,
        transactional: false,
        response: Schema.Struct({ id: Schema.String }),
        handler: ({ actor, params, body }) =>
          Effect.gen(function* () {
            const owner = yield* mayControl(params.id, actor)
            const seen = yield* sql<{
              user_id: string
              template_id: string
            }>`SELECT user_id, template_id FROM sessions_seen WHERE session_id = ${params.id}`
            const user = owner === null ? Option.none() : yield* directory.user(owner)
            const policy = seen[0]
              ? policyFor(
                  yield* policies,
                  Option.match(user, {
                    onNone: () => ({ userId: seen[0]!.user_id, roles: [], groups: [] }),
                    onSome: (u) => ({ userId: u.id, roles: u.roles, groups: u.groups })
                  }),
                  seen[0].template_id
                )
              : undefined
            if (policy?.requireReason && body.reason === undefined)
              return yield* new ValidationError({
                message: "body.reason: the recording policy requires a reason",
                errors: [{ path: "body.reason", message: "the recording policy requires a reason" }]
              })
            const id = yield* start(params.id, {
              ownerId: owner,
              startedBy: Actor.actorId(actor),
              reason: body.reason ?? null,
              automatic: false,
              policy
            }).pipe(Effect.catchTag("PlatformAccessDenied", Effect.die))
            return { id }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/sessions/:id/recording/stop",
        summary: "Stop recording a session; answers when the recording is closed",
        permission: WRITE,
        params: IdParams,
        errors: [NotFound],
        transactional: false,
        response: Schema.Struct({ stopped: Schema.Boolean }),
        handler: ({ actor, params }) =>
          Effect.gen(function* () {
            yield* mayControl(params.id, actor)
            return { stopped: yield* stop(params.id) }
          })
      })
    )
    // Retention: once an hour (once per tick across replicas), recordings past their policy's days go.
    yield* (yield* Scheduler).schedule(
      "retention",
      { every: "1 hour" },
      Effect.gen(function* () {
        const result = yield* Retention.purgeExpired(sql, blobs, yield* Timestamps.now)
        if (result.purged.length > 0 || result.held > 0)
          yield* Effect.logInfo("recording retention", { purged: result.purged.length, held: result.held })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/sessions/:id/recording",
        summary: "Whether the session is being recorded now (for the viewer's indicator)",
        permission: READ,
        params: IdParams,
        errors: [NotFound],
        response: Schema.Struct({
          recording: Schema.Boolean,
          recordingId: Schema.NullOr(Schema.String),
          startedAt: Schema.NullOr(Schema.String),
          reason: Schema.NullOr(Schema.String),
          isAutomatic: Schema.Boolean,
          consentNotice: Schema.Boolean
        }),
        handler: ({ actor, params }) =>
          Effect.gen(function* () {
            yield* mayControl(params.id, actor)
            const rows = yield* sql<RecordingRow>`SELECT * FROM recordings WHERE session_id = ${params.id}
              AND status = 'recording' ORDER BY started_at DESC LIMIT 1`
            const row = rows[0]
            return row
              ? {
                  recording: true,
                  recordingId: row.id,
                  startedAt: iso(row.started_at),
                  reason: row.reason,
                  isAutomatic: row.is_automatic,
                  consentNotice: row.consent_notice
                }
              : {
                  recording: false,
                  recordingId: null,
                  startedAt: null,
                  reason: null,
                  isAutomatic: false,
                  consentNotice: false
                }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "PUT",
        path: "/recordings/:id/legal-hold",
        summary: "Place or lift a legal hold: a held recording is never deleted (retention, purges)",
        permission: ADMIN,
        params: IdParams,
        body: Schema.Struct({ hold: Schema.Boolean }),
        errors: [NotFound, Conflict],
        response: Schema.Struct({ id: Schema.String, legalHold: Schema.Boolean }),
        handler: ({ params, body }) =>
          Effect.gen(function* () {
            const rows = yield* sql<{ status: string }>`SELECT status FROM recordings WHERE id = ${params.id}`
            if (!rows[0]) return yield* new NotFound({ resource: "recording", id: params.id })
            const updated = yield* sql`UPDATE recordings SET legal_hold = ${body.hold}
              WHERE id = ${params.id} AND status <> 'purging' RETURNING id`
            if (updated.length === 0)
              return yield* new Conflict({ message: "the recording is being deleted", code: "recording_purging" })
            return { id: params.id, legalHold: body.hold }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/policies",
        summary: "Recording policies",
        permission: ADMIN,
        response: Schema.Struct({ items: Schema.Array(StoredPolicy) }),
        handler: () => Effect.map(policies, (items) => ({ items }))
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/policies",
        summary: "Add a recording policy (evaluated at session start, highest priority first)",
        permission: ADMIN,
        body: Policy,
        successStatus: 201,
        response: StoredPolicy,
        handler: ({ body: b }) =>
          Effect.gen(function* () {
            const rows = yield* sql<{
              id: number
            }>`INSERT INTO policies (name, priority, enabled, auto_record, require_reason, consent_notice,
              allow_user_playback, allow_user_download, retention_days, users, groups, roles, templates)
              VALUES (${b.name}, ${b.priority}, ${b.enabled}, ${b.autoRecord}, ${b.requireReason}, ${b.consentNotice}, ${b.allowUserPlayback},
              ${b.allowUserDownload}, ${b.retentionDays}, ${JSON.stringify(b.users)}::jsonb, ${JSON.stringify(b.groups)}::jsonb,
              ${JSON.stringify(b.roles)}::jsonb, ${JSON.stringify(b.templates)}::jsonb) RETURNING id`
            return { ...b, id: rows[0]!.id }
          })
      })
    )
  })
)

export default definePlugin({
  id: "session-recorder",
  name: "Session recorder",
  version: "1.0.0",
  type: "extension",
  category: "security",
  description: "Records sessions' RFB streams (encrypted, chunked) and plays them back in the console",
  permissions: [
    { name: READ, description: "See and play one's own recordings", roles: ["user", "operator"] },
    { name: WRITE, description: "Start and stop recording one's own sessions", roles: ["user", "operator"] },
    { name: ADMIN, description: "All recordings, policies" }
  ],
  grants: ["vnc", "blobs"],
  config: RecorderConfig,
  migrations: [
    { id: 1, name: "recordings", sql: recordingsSql },
    { id: 2, name: "consent-notice", sql: consentNoticeSql }
  ],
  layer: RecorderLive,
  methods: { purge, storageBytes },
  ui: [
    {
      kind: "page",
      id: "recordings",
      title: "Recordings",
      path: "recordings",
      nav: "portal",
      permissions: [READ],
      component: "ui/RecordingsPage.tsx"
    }
  ]
})
