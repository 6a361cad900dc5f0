/**
 * The plaintext of a `streamspace-rfb/1` chunk: records of 16-byte headers
 * (kind, direction, message type, time in ms as float64, length) each
 * followed by the message's bytes. Shared by the recorder (src/Container.ts
 * seals chunks of it) and the browser player (ui/player), so no Node module
 * here.
 */
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
  "ServerData",
  // Appended: the indices above are in recordings already written.
  "ServerCutText"
] as const
export type MessageType = (typeof messageTypes)[number]

export type Kind = "message" | "connected" | "disconnected" | "keyframe"
const kinds: ReadonlyArray<Kind | undefined> = [undefined, "message", "connected", "disconnected", "keyframe"]
const kindCode: Record<Kind, number> = { message: 1, connected: 2, disconnected: 3, keyframe: 4 }

export interface RecordEntry {
  readonly kind: Kind
  readonly direction: "client" | "server"
  readonly type: MessageType
  /** ms since the recording started. */
  readonly t: number
  readonly bytes: Uint8Array
}

const HEADER = 16

export const encode = (records: ReadonlyArray<RecordEntry>): Uint8Array => {
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

export class RecordsError extends Error {
  override readonly name = "RecordsError"
}

export const decode = (bytes: Uint8Array): Array<RecordEntry> => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: Array<RecordEntry> = []
  let at = 0
  while (at < bytes.length) {
    if (at + HEADER > bytes.length) throw new RecordsError(`truncated record header at byte ${at}`)
    const kind = kinds[view.getUint8(at)]
    const type = messageTypes[view.getUint8(at + 2)]
    const n = view.getUint32(at + 12)
    if (kind === undefined || type === undefined || at + HEADER + n > bytes.length)
      throw new RecordsError(`malformed record at byte ${at}`)
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
