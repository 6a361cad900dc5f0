/**
 * One running recording: subscribes to the session's stream tap, writes
 * chunks (Container.ts) through the plugin's blob storage, asks for a full
 * framebuffer update every `keyframeSeconds`, and ends as `completed`
 * (stopped), or `failed` (the tap dropped it for falling behind, the
 * plugin was disabled, or writing failed) with what was written so far
 * kept and listed in the manifest.
 */
import type { SqlClient } from "@effect/sql"
import { Timestamps } from "@streamspace/core"
import type { PluginBlobs, VncTap } from "@streamspace/kernel"
import { ClientMessages, RfbTap } from "@streamspace/rfb"
import { Deferred, Effect, Exit } from "effect"
import * as Container from "./Container.ts"

export interface RecorderSettings {
  readonly keyframeSeconds: number
  readonly maxBufferedBytes: number
  readonly chunkBytes: number
  readonly chunkSeconds: number
}

export interface RecordingHandle {
  readonly id: string
  readonly sessionId: string
  /** Completed when the recording loop should stop and finalise. */
  readonly stop: Deferred.Deferred<void>
}

/** How long the recorder lets the tap's buffer fill between reads. */
const pollMs = 50

const inputKind = (type: string) =>
  type === "KeyEvent" ? "key" : type === "PointerEvent" ? "pointer" : type === "ClientCutText" ? "clipboard" : undefined

/** Width and height from a ServerInit. */
const sizeOf = (serverInit: Uint8Array) => {
  const view = new DataView(serverInit.buffer, serverInit.byteOffset, serverInit.byteLength)
  return { width: view.getUint16(0), height: view.getUint16(2) }
}

export const run = (
  handle: RecordingHandle,
  key: Uint8Array,
  settings: RecorderSettings,
  services: {
    readonly sql: SqlClient.SqlClient
    readonly blobs: PluginBlobs["Type"]
    readonly tap: VncTap["Type"]
  }
) =>
  Effect.gen(function* () {
    const { sql, blobs, tap } = services
    const t0 = RfbTap.now()
    const startedAt = yield* Timestamps.now
    const chunks: Array<Container.ChunkInfo> = []
    let pending: Array<Container.RecordEntry> = []
    let pendingBytes = 0
    let lastFlush = t0
    let lastKeyframe = t0
    let failure: string | undefined
    const sizes = new Map<string, { width: number; height: number }>()

    const push = (entry: Container.RecordEntry) => {
      pending.push(entry)
      pendingBytes += entry.bytes.length + 16
    }

    const writeManifest = (durationMs: number) =>
      Effect.gen(function* () {
        const manifest: Container.Manifest = {
          format: Container.format,
          recordingId: handle.id,
          sessionId: handle.sessionId,
          compression: "deflate-raw",
          cipher: "aes-256-gcm",
          startedAt: startedAt.toISOString(),
          durationMs,
          chunks
        }
        const bytes = Container.encodeManifest(manifest)
        yield* blobs.put(`${handle.id}/manifest.json`, bytes)
        const size = chunks.reduce((n, c) => n + c.size, 0) + bytes.length
        yield* sql`UPDATE recordings SET manifest_sha256 = ${Container.sha256(bytes)}, chunks = ${chunks.length},
          size_bytes = ${size}, duration_ms = ${Math.round(durationMs)} WHERE id = ${handle.id}`
      })

    const flush = Effect.gen(function* () {
      lastFlush = RfbTap.now()
      if (pending.length === 0) return
      const records = pending
      pending = []
      pendingBytes = 0
      const index = chunks.length
      const stored = Container.sealChunk(key, handle.id, index, Container.encodeRecords(records))
      const name = `${handle.id}/chunk-${String(index).padStart(6, "0")}.bin`
      yield* blobs.put(name, stored)
      chunks.push({
        index,
        key: name,
        firstT: records[0]!.t,
        lastT: records[records.length - 1]!.t,
        records: records.length,
        size: stored.length,
        sha256: Container.sha256(stored),
        keyframes: records.filter((r) => r.kind === "keyframe").map((r) => r.t),
        input: records.flatMap((r) => {
          const kind = r.kind === "message" ? inputKind(r.type) : undefined
          return kind ? [[r.t, kind] as const] : []
        })
      })
      yield* writeManifest(records[records.length - 1]!.t)
    })

    const keyframe = (subscription: RfbTap.TapSubscription) => {
      lastKeyframe = RfbTap.now()
      for (const info of subscription.connections()) {
        const size = sizes.get(info.connectionId)
        if (!size) continue
        const request = ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, ...size })
        if (subscription.inject(request) > 0)
          push({
            kind: "keyframe",
            direction: "client",
            type: "FramebufferUpdateRequest",
            t: lastKeyframe - t0,
            bytes: request
          })
      }
    }

    const loop = Effect.gen(function* () {
      const subscription = yield* tap.subscribe({
        sessionId: handle.sessionId,
        maxBufferedBytes: settings.maxBufferedBytes,
        name: `recording ${handle.id}`
      })
      let gathered = false
      let waiting: Promise<ReadonlyArray<RfbTap.TapEvent>> | undefined
      for (;;) {
        if (yield* Deferred.isDone(handle.stop)) return
        // After a batch, messages are left to gather in the tap's buffer for `pollMs`: one wake-up per interval,
        // not one per relayed message, keeps the recorder's turns off the user's stream (bench recorder); the
        // buffer bound still applies. Real time, like the 250 ms wait: tap times are the monotonic clock's.
        const gather = gathered ? pollMs : 0
        const batch = yield* Effect.promise(async () => {
          await Bun.sleep(gather)
          // One `next()` at a time, kept across the 250 ms waits: an abandoned one would still take the events
          // that arrive next, and they would be lost to the recording.
          waiting ??= subscription.next()
          return Promise.race([waiting, Bun.sleep(250).then(() => undefined)])
        })
        if (batch !== undefined) waiting = undefined
        gathered = batch !== undefined && batch.length > 0
        if (batch !== undefined && batch.length === 0 && subscription.state() !== "open") {
          failure = "the stream tap ended the subscription"
          return
        }
        let wantKeyframe = false
        for (const event of batch ?? []) {
          switch (event._tag) {
            case "Connected": {
              push({
                kind: "connected",
                direction: "server",
                type: "ServerInit",
                t: event.t - t0,
                bytes: new TextEncoder().encode(JSON.stringify(event.info))
              })
              for (const m of event.preamble) {
                push({ kind: "message", direction: m.direction, type: m.type, t: event.t - t0, bytes: m.bytes })
                if (m.type === "ServerInit") sizes.set(event.info.connectionId, sizeOf(m.bytes))
              }
              // Joined mid-connection: a full update right away, so playback has a picture to start from.
              if (event.preamble.length > 0) wantKeyframe = true
              break
            }
            case "Message": {
              const m = event.message
              push({ kind: "message", direction: m.direction, type: m.type, t: m.t - t0, bytes: m.bytes })
              if (m.type === "ServerInit") sizes.set(event.connectionId, sizeOf(m.bytes))
              break
            }
            case "Disconnected":
              sizes.delete(event.connectionId)
              push({
                kind: "disconnected",
                direction: "server",
                type: "ServerData",
                t: event.t - t0,
                bytes: new Uint8Array()
              })
              break
            case "Dropped":
              failure = `recording failed: ${event.reason}`
              return
          }
        }
        const now = RfbTap.now()
        if (wantKeyframe || now - lastKeyframe >= settings.keyframeSeconds * 1000) keyframe(subscription)
        if (pendingBytes >= settings.chunkBytes || now - lastFlush >= settings.chunkSeconds * 1000) yield* flush
      }
    }).pipe(Effect.scoped)

    const exit = yield* Effect.exit(Effect.interruptible(loop))
    if (Exit.isFailure(exit))
      failure = Exit.isInterrupted(exit)
        ? "recording interrupted (plugin disabled or server stopping)"
        : "recording failed"
    // What was captured is kept either way; an unwritable tail makes the recording failed.
    const written = yield* Effect.exit(Effect.zipRight(flush, writeManifest(RfbTap.now() - t0)))
    if (Exit.isFailure(written)) failure ??= "writing the recording failed"
    const endedAt = yield* Timestamps.now
    yield* sql`UPDATE recordings SET status = ${failure ? "failed" : "completed"}, error = ${failure ?? null},
      ended_at = ${endedAt} WHERE id = ${handle.id}`
  }).pipe(Effect.uninterruptible)
