/**
 * The player's records of `streamspace-rfb/1` (the plaintext the
 * `/recordings/:id/stream` route answers, read with the recorder's own
 * format/Records.ts) split into connections: each `connected` record starts
 * one, with the handshake that follows it, so each plays back on its own.
 */

import {
  decode,
  type Kind,
  type MessageType,
  messageTypes,
  type RecordEntry,
  RecordsError
} from "../../format/Records.ts"

export { decode, type Kind, type MessageType, messageTypes, RecordsError }
export type PlayerRecord = RecordEntry

/** One recorded connection: what the desktop sent it (handshake first), and when it started and ended. */
export interface Connection {
  readonly index: number
  readonly start: number
  /** The time of its `disconnected` record, or of its last record when the recording ended first. */
  readonly end: number
  /** Server → client messages in order (ProtocolVersion … ServerInit, then ServerData and ServerCutText). */
  readonly server: ReadonlyArray<PlayerRecord>
  /** The pixel format the recorded client asked for (SetPixelFormat), when it asked. */
  readonly pixelFormat: Uint8Array | undefined
  /** Times of the recorder's full-update requests (keyframes) on this connection, ascending. */
  readonly keyframes: ReadonlyArray<number>
}

/**
 * The connections of a recording. Records before the first `connected`
 * (none, as the recorder writes them) are ignored; a connection whose
 * handshake is incomplete (no ServerInit) cannot be decoded and is left out.
 */
export const connections = (records: ReadonlyArray<PlayerRecord>): Array<Connection> => {
  const out: Array<Connection> = []
  let current: {
    start: number
    end: number
    server: Array<PlayerRecord>
    pixelFormat: Uint8Array | undefined
    keyframes: Array<number>
  } | null = null
  const close = () => {
    if (current && current.server.some((r) => r.type === "ServerInit")) out.push({ index: out.length, ...current })
    current = null
  }
  for (const r of records) {
    if (r.kind === "connected") {
      close()
      current = { start: r.t, end: r.t, server: [], pixelFormat: undefined, keyframes: [] }
      continue
    }
    if (!current) continue
    current.end = Math.max(current.end, r.t)
    if (r.kind === "disconnected") {
      close()
      continue
    }
    if (r.kind === "keyframe") {
      current.keyframes.push(r.t)
      continue
    }
    if (r.kind !== "message") continue
    if (r.direction === "server") current.server.push(r)
    else if (r.type === "SetPixelFormat") current.pixelFormat = r.bytes.subarray(4, 20)
  }
  close()
  return out
}

/** How long after its request a keyframe's full update counts as drawn (a 1280 × 800 desktop answers in well under this). */
export const keyframeSettleMs = 1000

/**
 * Where a seek to `target` starts drawing on `c`: the latest keyframe whose full update has had time to arrive
 * (`keyframeSettleMs`) before the target, or the connection's start (its first update is a full one).
 */
export const seekStart = (c: Connection, target: number): number => {
  let from = c.start
  for (const k of c.keyframes) if (k + keyframeSettleMs <= target) from = k
  return from
}

/** noVNC's pixel format (32 bpp, depth 24, little-endian, true colour, red/green/blue shifts 0/8/16). */
const novncFormat = Uint8Array.of(32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16)

/**
 * Whether the recorded client's pixels are what noVNC decodes: it asked for
 * noVNC's own format (the console's viewer always does), or the desktop's
 * native one is it. Otherwise colours come out wrong (not the timing).
 */
export const decodableFormat = (c: Connection): boolean => {
  const serverInit = c.server.find((r) => r.type === "ServerInit")
  const format = c.pixelFormat ?? serverInit?.bytes.subarray(4, 20)
  return format !== undefined && novncFormat.every((b, i) => format[i] === b)
}
