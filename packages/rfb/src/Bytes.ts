/** Byte helpers shared by the parser, the stand-in server, the proxy and tests. */

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
