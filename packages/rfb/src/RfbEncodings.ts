/**
 * Encodings and pseudo-encodings a client lists in SetEncodings, and the
 * rewrite that keeps a connection within what the parser accepts: a client
 * lists a pseudo-encoding to learn whether the server supports an extension,
 * and sends that extension's messages only once the server confirmed it.
 * Removing the pseudo-encodings of refused extensions from SetEncodings keeps
 * standard clients (noVNC, TigerVNC) from ever sending those messages.
 */

export const raw = 0
export const copyRect = 1
export const desktopSize = -223
export const cursor = -239

/** Pseudo-encodings whose extensions add client messages (or unbounded ClientCutText) the parser refuses. */
export const refusedPseudoEncodings: ReadonlyMap<number, string> = new Map([
  [-258, "QEMU Extended Key Event"],
  [-259, "QEMU Audio"],
  [-305, "gii"],
  [-308, "ExtendedDesktopSize"],
  [-309, "xvp"],
  [-312, "Fence"],
  [-313, "ContinuousUpdates"],
  [0xc0a1e5ce | 0, "Extended Clipboard"]
])

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

/** `message` (a SetEncodings) without the refused pseudo-encodings; the same bytes when it lists none. */
export const withoutRefused = (message: Uint8Array): Uint8Array => {
  const encodings = decode(message)
  const kept = encodings.filter((e) => !refusedPseudoEncodings.has(e))
  return kept.length === encodings.length ? message : encode(kept)
}
