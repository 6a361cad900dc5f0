/**
 * Server → client messages as bytes (RFC 6143 §7.6): for the stand-in
 * server, test peers, and the tap's replacement of clipboard text.
 */
import * as Bytes from "./Bytes.ts"
import * as PixelFormat from "./PixelFormat.ts"

/** ServerInit (§7.3.2): the framebuffer's size, the server's pixel format and the desktop's name (Latin-1). */
export const serverInit = (options: {
  readonly width: number
  readonly height: number
  readonly format?: PixelFormat.PixelFormat
  readonly name: string
}): Uint8Array => {
  const size = new Uint8Array(4)
  new DataView(size.buffer).setUint16(0, options.width)
  new DataView(size.buffer).setUint16(2, options.height)
  const name = Bytes.latin1(options.name)
  return Bytes.concat(size, PixelFormat.encode(options.format ?? PixelFormat.rgb888), Bytes.u32(name.length), name)
}

/** Tight's compact length of `n` (< 2^22): 7 bits a byte while the high bit is set, the third byte whole. */
export const tightLength = (n: number): Uint8Array =>
  n < 0x80
    ? Uint8Array.of(n)
    : n < 0x4000
      ? Uint8Array.of((n & 0x7f) | 0x80, n >> 7)
      : Uint8Array.of((n & 0x7f) | 0x80, ((n >> 7) & 0x7f) | 0x80, n >> 14)

export interface Rectangle {
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
  /** A signed 32-bit encoding or pseudo-encoding (RfbEncodings). */
  readonly encoding: number
  /** What follows the rectangle's header, already encoded. */
  readonly data?: Uint8Array
}

/** A FramebufferUpdate of `rectangles`; `count` overrides the announced number (0xffff with a LastRect). */
export const framebufferUpdate = (rectangles: ReadonlyArray<Rectangle>, count = rectangles.length): Uint8Array => {
  const parts = rectangles.flatMap((r) => {
    const header = new Uint8Array(12)
    const view = new DataView(header.buffer)
    view.setUint16(0, r.x)
    view.setUint16(2, r.y)
    view.setUint16(4, r.width)
    view.setUint16(6, r.height)
    view.setInt32(8, r.encoding)
    return r.data ? [header, r.data] : [header]
  })
  const head = new Uint8Array(4)
  new DataView(head.buffer).setUint16(2, count)
  return Bytes.concat(head, ...parts)
}

/** SetColourMapEntries from `first`: 16-bit red, green, blue per colour. */
export const setColourMapEntries = (
  first: number,
  colours: ReadonlyArray<readonly [number, number, number]>
): Uint8Array => {
  const bytes = new Uint8Array(6 + 6 * colours.length)
  const view = new DataView(bytes.buffer)
  view.setUint8(0, 1)
  view.setUint16(2, first)
  view.setUint16(4, colours.length)
  colours.forEach(([r, g, b], i) => {
    view.setUint16(6 + 6 * i, r)
    view.setUint16(8 + 6 * i, g)
    view.setUint16(10 + 6 * i, b)
  })
  return bytes
}

export const bell = (): Uint8Array => Uint8Array.of(2)

/** The desktop's clipboard text, Latin-1 (characters above U+00FF become "?"). */
export const serverCutText = (text: string): Uint8Array => Bytes.cutText(3, text)
