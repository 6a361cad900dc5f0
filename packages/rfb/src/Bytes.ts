/** Byte helpers shared by the parser, the stand-in server, the proxy, the tap and tests. */

/** A big-endian unsigned 32-bit value, as RFB writes lengths and results. */
export const u32 = (value: number): Uint8Array => {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setUint32(0, value)
  return bytes
}

/** One array holding `parts` end to end. */
export const concat = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/**
 * Writes queued chunks to a TCP socket until it takes less than offered
 * (Bun's `write` returns what it took; the rest waits for the `drain`
 * callback, which calls this again). Mutates `unsent`.
 */
export const writeQueued = (socket: { write: (bytes: Uint8Array) => number }, unsent: Array<Uint8Array>): void => {
  while (unsent.length > 0) {
    const next = unsent[0]!
    const written = socket.write(next)
    if (written < next.length) {
      unsent[0] = next.subarray(Math.max(0, written))
      return
    }
    unsent.shift()
  }
}

/** `text` as Latin-1, the clipboard's encoding in RFB (characters above U+00FF become "?"). */
export const latin1 = (text: string): Uint8Array => {
  const bytes = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    bytes[i] = code > 0xff ? 0x3f : code
  }
  return bytes
}

/** Latin-1 bytes as a string. */
export const latin1Text = (bytes: Uint8Array): string => {
  let text = ""
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192))
  return text
}

/** A ClientCutText (6) or ServerCutText (3): the type, three bytes of padding, the length, the Latin-1 text. */
export const cutText = (type: 3 | 6, text: string): Uint8Array => {
  const bytes = new Uint8Array(8 + text.length)
  bytes[0] = type
  new DataView(bytes.buffer).setUint32(4, text.length)
  bytes.set(latin1(text), 8)
  return bytes
}
