/**
 * Files in a user's storage, uploaded into a session. Contents stream to
 * the BlobStore (size limit, storage quota, `file.beforeUpload` hook), the
 * `file.inspectUpload` hook sees the stored bytes, then the row and its
 * `file.uploaded` event commit together. Downloads pass the
 * `file.beforeDownload` hook. Only the session's owner (or
 * `sessions:admin`) sees them; anyone else gets 404.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Schema } from "effect"
import { type Actor, CurrentActor, hasPermission } from "../Actor.ts"
import { type Forbidden, NotFound, type PayloadTooLarge, type QuotaExceeded, Unauthorized } from "../Errors.ts"
import { EventOutbox } from "../events/EventOutbox.ts"
import { HookRunner } from "../hooks/HookRunner.ts"
import { storageRoom } from "../quotas/QuotaPolicy.ts"
import { Quotas } from "../quotas/Quotas.ts"
import { ServerConfig } from "../ServerConfig.ts"
import { BlobStore } from "./BlobStore.ts"
import { now } from "../Timestamps.ts"

export class StoredFile extends Schema.Class<StoredFile>("StoredFile")({
  id: Schema.String,
  userId: Schema.String,
  sessionId: Schema.NullOr(Schema.String),
  name: Schema.String,
  contentType: Schema.String,
  size: Schema.Number,
  sha256: Schema.String,
  createdAt: Schema.Date
}) {}

interface FileRow {
  readonly id: string
  readonly user_id: string
  readonly session_id: string | null
  readonly name: string
  readonly content_type: string
  readonly size: string | number
  readonly blob_key: string
  readonly sha256: string
  readonly created_at: Date
}

const toFile = (r: FileRow) =>
  new StoredFile({
    id: r.id,
    userId: r.user_id,
    sessionId: r.session_id,
    name: r.name,
    contentType: r.content_type,
    size: Number(r.size),
    sha256: r.sha256,
    createdAt: r.created_at
  })

export interface UploadInput {
  readonly sessionId: string
  readonly name: string
  readonly contentType: string
  readonly declaredSize: number | null
  readonly body: ReadableStream<Uint8Array>
}

type Failure = NotFound | Unauthorized | SqlError

export class Files extends Context.Tag("@streamspace/core/Files")<
  Files,
  {
    readonly upload: (
      input: UploadInput
    ) => Effect.Effect<StoredFile, Failure | Forbidden | QuotaExceeded | PayloadTooLarge, CurrentActor>
    readonly list: (sessionId: string) => Effect.Effect<ReadonlyArray<StoredFile>, Failure, CurrentActor>
    readonly download: (
      sessionId: string,
      fileId: string
    ) => Effect.Effect<{ readonly file: StoredFile; readonly blob: Blob }, Failure | Forbidden, CurrentActor>
    readonly delete: (sessionId: string, fileId: string) => Effect.Effect<void, Failure, CurrentActor>
  }
>() {}

export const FilesLive = Layer.effect(
  Files,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const blobs = yield* BlobStore
    const quotas = yield* Quotas
    const hooks = yield* HookRunner
    const outbox = yield* EventOutbox
    const config = yield* ServerConfig

    /** The session's owner (files belong to them); 404 unless the caller owns it or administers sessions. */
    const ownerOf = (actor: Actor, sessionId: string) =>
      Effect.gen(function* () {
        if (actor._tag !== "User") return yield* new Unauthorized({ message: "a user is required" })
        const rows = yield* sql<{ user_id: string }>`SELECT user_id FROM sessions WHERE id = ${sessionId}`
        const owner = rows[0]?.user_id
        if (!owner || (owner !== actor.userId && !hasPermission(actor, "sessions:admin"))) {
          return yield* new NotFound({ resource: "session", id: sessionId })
        }
        return owner
      })
    const find = (sessionId: string, fileId: string) =>
      Effect.flatMap(sql<FileRow>`SELECT * FROM files WHERE id = ${fileId} AND session_id = ${sessionId}`, (rows) =>
        rows[0] ? Effect.succeed(rows[0]) : Effect.fail(new NotFound({ resource: "file", id: fileId }))
      )

    /** The first bytes of a stored blob, read only when a content hook asks for them. */
    const headOf =
      (key: string) =>
      (maxBytes: number): Effect.Effect<Uint8Array> =>
        Effect.orDie(
          Effect.flatMap(blobs.get(key), (blob) =>
            Effect.promise(async () => new Uint8Array(await blob.slice(0, Math.max(0, maxBytes)).arrayBuffer()))
          )
        )

    return {
      upload: (input) =>
        Effect.gen(function* () {
          const actor = yield* CurrentActor
          const userId = yield* ownerOf(actor, input.sessionId)
          yield* hooks.run("file.beforeUpload", {
            userId,
            sessionId: input.sessionId,
            name: input.name,
            size: input.declaredSize,
            contentType: input.contentType
          })
          const usage = yield* quotas.usage(userId)
          const storageLimit = (yield* quotas.get("user", userId)).maxStorage
          // A declared size over the limit is refused before reading a byte; otherwise the stream stops at the limit.
          if (input.declaredSize !== null)
            yield* quotas.check(userId, { sessions: 0, cpu: 0, memory: 0, storage: input.declaredSize })
          const room = storageRoom(storageLimit, usage.storage)
          const id = crypto.randomUUID()
          const key = `users/${userId}/${id}`
          const stored = yield* blobs.put(key, input.body, Math.min(config.storage.maxUploadBytes, room)).pipe(
            // A failing blob store is the infrastructure's failure, not the request's: a defect (500).
            Effect.catchTag("BlobError", Effect.die),
            // When the storage quota, not the upload limit, stopped the stream, say so (403 naming the limit).
            Effect.catchTag("PayloadTooLarge", (e) =>
              room < config.storage.maxUploadBytes
                ? Effect.zipRight(
                    quotas.check(userId, { sessions: 0, cpu: 0, memory: 0, storage: room + 1 }),
                    Effect.fail(e)
                  )
                : Effect.fail(e)
            )
          )
          // The bytes are stored: content hooks inspect them before the row exists; a veto removes them.
          yield* hooks
            .run("file.inspectUpload", {
              userId: actor._tag === "User" ? actor.userId : userId,
              ownerId: userId,
              sessionId: input.sessionId,
              fileId: id,
              name: input.name,
              size: stored.size,
              contentType: input.contentType,
              sha256: stored.sha256,
              head: headOf(key)
            })
            .pipe(Effect.tapError(() => Effect.ignore(blobs.delete(key))))
          const at = yield* now
          const row = yield* sql
            .withTransaction(
              Effect.gen(function* () {
                const rows = yield* sql<FileRow>`INSERT INTO files ${sql.insert({
                  id,
                  user_id: userId,
                  session_id: input.sessionId,
                  name: input.name,
                  content_type: input.contentType,
                  size: stored.size,
                  blob_key: key,
                  sha256: stored.sha256,
                  created_at: at
                })} RETURNING *`
                yield* outbox.publish("file.uploaded", {
                  fileId: id,
                  userId,
                  sessionId: input.sessionId,
                  name: input.name,
                  size: stored.size,
                  at: at.toISOString()
                })
                return rows[0]!
              })
            )
            .pipe(Effect.tapErrorCause(() => Effect.ignore(blobs.delete(key))))
          return toFile(row)
        }),
      list: (sessionId) =>
        Effect.gen(function* () {
          yield* ownerOf(yield* CurrentActor, sessionId)
          const rows = yield* sql<FileRow>`SELECT * FROM files WHERE session_id = ${sessionId} ORDER BY created_at DESC`
          return rows.map(toFile)
        }),
      download: (sessionId, fileId) =>
        Effect.gen(function* () {
          const actor = yield* CurrentActor
          yield* ownerOf(actor, sessionId)
          const row = yield* find(sessionId, fileId)
          yield* hooks.run("file.beforeDownload", {
            userId: actor._tag === "User" ? actor.userId : row.user_id,
            ownerId: row.user_id,
            sessionId: row.session_id,
            fileId: row.id,
            name: row.name,
            size: Number(row.size),
            contentType: row.content_type,
            sha256: row.sha256,
            head: headOf(row.blob_key)
          })
          return { file: toFile(row), blob: yield* Effect.orDie(blobs.get(row.blob_key)) }
        }),
      delete: (sessionId, fileId) =>
        Effect.gen(function* () {
          yield* ownerOf(yield* CurrentActor, sessionId)
          const row = yield* find(sessionId, fileId)
          yield* sql`DELETE FROM files WHERE id = ${fileId}`
          yield* outbox.publish("file.deleted", {
            fileId,
            userId: row.user_id,
            sessionId: row.session_id,
            name: row.name,
            size: Number(row.size),
            at: (yield* now).toISOString()
          })
          yield* Effect.orDie(blobs.delete(row.blob_key))
        })
    }
  })
)
