/**
 * Encodings and pseudo-encodings a client lists in SetEncodings, and the
 * rewrite that keeps a connection within what the parser can follow.
 *
 * A server uses only encodings its client listed, and a client uses an
 * extension only once the server confirmed its pseudo-encoding. So
 * SetEncodings is cut down to an allow-list (`withoutRefused`): the
 * encodings and pseudo-encodings whose server data the server framer splits
 * (`framed`), plus the pseudo-encodings that only tune the server's encoder
 * (`isSetting`: quality, compression, subsampling). Everything else — H.264,
 * JPEG, the VMware cursor, extensions that add client messages (Fence,
 * ContinuousUpdates, ExtendedDesktopSize, Extended Clipboard, extended mouse
 * buttons …), anything unknown — is removed, so standard clients (noVNC,
 * TigerVNC) never receive data the parser cannot split nor send messages it
 * refuses.
 */

export const raw = 0
export const copyRect = 1
export const rre = 2
export const hextile = 5
export const zlib = 6
export const tight = 7
export const zrle = 16
export const tightPng = -260
export const desktopSize = -223
export const lastRect = -224
export const cursor = -239
export const xCursor = -240
export const qemuLedState = -261
export const desktopName = -307

/** What the server framer splits, by name. */
export const framed: ReadonlyMap<number, string> = new Map([
  [raw, "Raw"],
  [copyRect, "CopyRect"],
  [rre, "RRE"],
  [hextile, "Hextile"],
  [zlib, "Zlib"],
  [tight, "Tight"],
  [zrle, "ZRLE"],
  [tightPng, "TightPNG"],
  [desktopSize, "DesktopSize"],
  [lastRect, "LastRect"],
  [cursor, "Cursor"],
  [xCursor, "XCursor"],
  [qemuLedState, "QEMU LED state"],
  [desktopName, "DesktopName"]
])

/** Names of encodings clients commonly list that are removed, for error messages. */
export const refusedNames: ReadonlyMap<number, string> = new Map([
  [4, "CoRRE"],
  [21, "JPEG"],
  [50, "H.264"],
  [-258, "QEMU Extended Key Event"],
  [-259, "QEMU Audio"],
  [-305, "gii"],
  [-308, "ExtendedDesktopSize"],
  [-309, "xvp"],
  [-312, "Fence"],
  [-313, "ContinuousUpdates"],
  [-316, "ExtendedMouseButtons"],
  [0x574d5664, "VMware Cursor"],
  [0xc0a1e5ce | 0, "Extended Clipboard"]
])

/**
 * Pseudo-encodings that only tune the server's encoder and bring no data:
 * JPEG quality (-32…-23), compression level (-256…-247), TigerVNC's fine
 * quality (-512…-412) and subsampling (-768…-763).
 */
export const isSetting = (encoding: number): boolean =>
  (encoding >= -32 && encoding <= -23) ||
  (encoding >= -256 && encoding <= -247) ||
  (encoding >= -512 && encoding <= -412) ||
  (encoding >= -768 && encoding <= -763)

/** Whether SetEncodings may keep `encoding`. */
export const isAllowed = (encoding: number): boolean => framed.has(encoding) || isSetting(encoding)

/** A printable name: "Tight (7)", "H.264 (50)", "encoding 99". */
export const describe = (encoding: number): string => {
  const name = framed.get(encoding) ?? refusedNames.get(encoding)
  return name === undefined ? `encoding ${encoding}` : `${name} (${encoding})`
}

/** The encodings of a SetEncodings message (signed 32-bit values, the client's order of preference). */
export const decode = (message: Uint8Array): ReadonlyArray<number> => {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength)
  const count = view.getUint16(2)
  return Array.from({ length: count }, (_, i) => view.getInt32(4 + 4 * i))
}

/** A SetEncodings message listing `encodings`. */
export const encode = (encodings: ReadonlyArray<number>): Uint8Array => {
  const bytes = new Uint8Array(4 + 4 * encodings.length)
  const view = new DataView(bytes.buffer)
  view.setUint8(0, 2)
  view.setUint16(2, encodings.length)
  encodings.forEach((encoding, i) => view.setInt32(4 + 4 * i, encoding))
  return bytes
}

/** `message` (a SetEncodings) with only the allowed encodings, in order; the same bytes when it lists no other. */
export const withoutRefused = (message: Uint8Array): Uint8Array => {
  const encodings = decode(message)
  const kept = encodings.filter(isAllowed)
  return kept.length === encodings.length ? message : encode(kept)
}
