/**
 * Bytes received in chunks, read as one sequence: peek at offsets, take a
 * prefix. Each chunk keeps the time it arrived, so a message taken from the
 * queue is stamped with the arrival of its last byte.
 */
interface Chunk {
  readonly bytes: Uint8Array
  readonly at: number
}

export class ByteQueue {
  private chunks: Array<Chunk> = []
  /** Bytes of `chunks[0]` already taken. */
  private offset = 0
  private size = 0

  get length(): number {
    return this.size
  }

  /** Keeps a copy of `bytes` (callers may reuse their buffer). */
  push(bytes: Uint8Array, at: number): void {
    if (bytes.length === 0) return
    this.chunks.push({ bytes: bytes.slice(), at })
    this.size += bytes.length
  }

  /** The byte at `index` (0 = the oldest byte not taken); the caller checks `length` first. */
  byteAt(index: number): number {
    let i = index + this.offset
    for (const chunk of this.chunks) {
      if (i < chunk.bytes.length) return chunk.bytes[i]!
      i -= chunk.bytes.length
    }
    throw new RangeError(`byte ${index} of ${this.size}`)
  }

  u16At(index: number): number {
    return (this.byteAt(index) << 8) | this.byteAt(index + 1)
  }

  u32At(index: number): number {
    return this.u16At(index) * 0x10000 + this.u16At(index + 2)
  }

  /** Removes the first `n` bytes; `at` is when the last of them arrived. */
  take(n: number): { readonly bytes: Uint8Array; readonly at: number } {
    if (n > this.size) throw new RangeError(`take ${n} of ${this.size}`)
    const first = this.chunks[0]
    if (first && first.bytes.length - this.offset >= n) {
      const bytes = first.bytes.subarray(this.offset, this.offset + n)
      this.advance(n)
      return { bytes, at: first.at }
    }
    const bytes = new Uint8Array(n)
    let filled = 0
    let at = 0
    while (filled < n) {
      const chunk = this.chunks[0]!
      const part = Math.min(n - filled, chunk.bytes.length - this.offset)
      bytes.set(chunk.bytes.subarray(this.offset, this.offset + part), filled)
      filled += part
      at = chunk.at
      this.advance(part)
    }
    return { bytes, at }
  }

  private advance(n: number): void {
    this.size -= n
    this.offset += n
    while (this.chunks.length > 0 && this.offset >= this.chunks[0]!.bytes.length) {
      this.offset -= this.chunks[0]!.bytes.length
      this.chunks.shift()
    }
  }
}
