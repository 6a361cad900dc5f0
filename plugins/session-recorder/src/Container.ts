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

export type { Kind, MessageType, RecordEntry } from "../format/Records.ts"
export { decode as decodeRecords, encode as encodeRecords, messageTypes } from "../format/Records.ts"

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

export class ContainerError extends Error {}

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
