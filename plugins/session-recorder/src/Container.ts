/**
 * The recording container, `streamspace-rfb/1`: an RFB conversation as the
 * VNC proxy's stream tap saw it, in chunks.
 *
 * Records (plaintext), big-endian, one after another:
 *
 *     u8 kind   1 message · 2 connected · 3 disconnected · 4 keyframe request
 *     u8 dir    0 client → server · 1 server → client
 *     u8 type   index into `messageTypes`
 *     u8 0
 *     f64 t     ms since the recording started (monotonic clock)
 *     u32 n     bytes that follow
 *     n bytes   the message exactly as relayed (kind 2: the connection info as JSON)
 *
 * A connection's handshake (its preamble) follows its `connected` record,
 * so each connection decodes on its own.
 *
 * Chunk (a blob `<recording>/chunk-<index>.bin`): 12-byte IV ‖ AES-256-GCM
 * ciphertext of deflate-raw(records) ‖ 16-byte tag, with the additional
 * data `<recording id>:<index>` (a chunk moved to another place or
 * recording does not open). Each chunk's SHA-256 (of the stored bytes) is in
 * the manifest; the manifest's own SHA-256 is kept in the database row.
 * The key is 32 random bytes per recording, kept only sealed with the
 * platform secret.
 *
 * Compression: deflate (raw, level 6). It is in Bun and every browser
 * (`DecompressionStream("deflate-raw")`), needs no dependency, and RFB's
 * Raw/Hextile rectangles and input events shrink 5–20×; Tight/ZRLE data is
 * already compressed and passes nearly unchanged at little CPU cost.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto"

export const format = "streamspace-rfb/1"

export const messageTypes = [
  "ProtocolVersion",
  "SecurityType",
  "VncAuthResponse",
  "ClientInit",
  "SetPixelFormat",
  "SetEncodings",
  "FramebufferUpdateRequest",
  "KeyEvent",
  "PointerEvent",
  "ClientCutText",
  "SecurityTypes",
  "VncAuthChallenge",
  "SecurityResult",
  "ServerInit",
  "ServerData"
] as const
export type MessageType = (typeof messageTypes)[number]

export type Kind = "message" | "connected" | "disconnected" | "keyframe"
const kinds: ReadonlyArray<Kind> = ["message", "message", "connected", "disconnected", "keyframe"]
const kindCode: Record<Kind, number> = { message: 1, connected: 2, disconnected: 3, keyframe: 4 }

export interface RecordEntry {
  readonly kind: Kind
  readonly direction: "client" | "server"
  readonly type: MessageType
  /** ms since the recording started. */
  readonly t: number
  readonly bytes: Uint8Array
}

export interface ChunkInfo {
  readonly index: number
  readonly key: string
  readonly firstT: number
  readonly lastT: number
  readonly records: number
  /** Stored (encrypted) bytes and their SHA-256. */
  readonly size: number
  readonly sha256: string
  /** Times of the keyframe requests in this chunk. */
  readonly keyframes: ReadonlyArray<number>
  /** Input events (key, pointer, clipboard) in this chunk, for the timeline: [t, kind]. */
  readonly input: ReadonlyArray<readonly [number, "key" | "pointer" | "clipboard"]>
}

export interface Manifest {
  readonly format: typeof format
  readonly recordingId: string
  readonly sessionId: string
  readonly compression: "deflate-raw"
  readonly cipher: "aes-256-gcm"
  readonly startedAt: string
  readonly durationMs: number
  readonly chunks: ReadonlyArray<ChunkInfo>
}

const HEADER = 16

export const encodeRecords = (records: ReadonlyArray<RecordEntry>): Uint8Array => {
  const size = records.reduce((n, r) => n + HEADER + r.bytes.length, 0)
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let at = 0
  for (const r of records) {
    view.setUint8(at, kindCode[r.kind])
    view.setUint8(at + 1, r.direction === "client" ? 0 : 1)
    view.setUint8(at + 2, Math.max(0, messageTypes.indexOf(r.type)))
    view.setFloat64(at + 4, r.t)
    view.setUint32(at + 12, r.bytes.length)
    out.set(r.bytes, at + HEADER)
    at += HEADER + r.bytes.length
  }
  return out
}

export class ContainerError extends Error {}

export const decodeRecords = (bytes: Uint8Array): Array<RecordEntry> => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: Array<RecordEntry> = []
  let at = 0
  while (at < bytes.length) {
    if (at + HEADER > bytes.length) throw new ContainerError(`truncated record header at ${at}`)
    const kind = kinds[view.getUint8(at)]
    const type = messageTypes[view.getUint8(at + 2)]
    const n = view.getUint32(at + 12)
    if (kind === undefined || type === undefined || at + HEADER + n > bytes.length)
      throw new ContainerError(`malformed record at ${at}`)
    out.push({
      kind,
      direction: view.getUint8(at + 1) === 0 ? "client" : "server",
      type,
      t: view.getFloat64(at + 4),
      bytes: bytes.subarray(at + HEADER, at + HEADER + n)
    })
    at += HEADER + n
  }
  return out
}

export const newKey = (): Uint8Array => new Uint8Array(randomBytes(32))

const aad = (recordingId: string, index: number) => Buffer.from(`${recordingId}:${index}`)

export const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

/** Compresses and encrypts one chunk of records. */
export const sealChunk = (key: Uint8Array, recordingId: string, index: number, plain: Uint8Array): Uint8Array => {
  const iv = randomBytes(12)
  const cipher = createCipheriv("aes-256-gcm", key, iv)
  cipher.setAAD(aad(recordingId, index))
  const body = Buffer.concat([cipher.update(Bun.deflateSync(new Uint8Array(plain), { level: 6 })), cipher.final()])
  return new Uint8Array(Buffer.concat([iv, body, cipher.getAuthTag()]))
}

/** Checks the hash, decrypts and decompresses one chunk; throws ContainerError when anything does not match. */
export const openChunk = (
  key: Uint8Array,
  recordingId: string,
  info: Pick<ChunkInfo, "index" | "sha256">,
  stored: Uint8Array
): Uint8Array => {
  if (sha256(stored) !== info.sha256)
    throw new ContainerError(`chunk ${info.index}: SHA-256 does not match the manifest`)
  if (stored.length < 28) throw new ContainerError(`chunk ${info.index}: too short`)
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, stored.subarray(0, 12))
    decipher.setAAD(aad(recordingId, info.index))
    decipher.setAuthTag(stored.subarray(stored.length - 16))
    const deflated = Buffer.concat([decipher.update(stored.subarray(12, stored.length - 16)), decipher.final()])
    return new Uint8Array(Bun.inflateSync(deflated))
  } catch (e) {
    throw new ContainerError(`chunk ${info.index}: does not decrypt (${e instanceof Error ? e.message : String(e)})`)
  }
}

export const encodeManifest = (manifest: Manifest): Uint8Array => new TextEncoder().encode(JSON.stringify(manifest))
