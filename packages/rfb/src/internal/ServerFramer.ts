/**
 * Splits the server → client stream after ServerInit into messages
 * (RFC 6143 §7.6) without holding it back: FramebufferUpdate (rectangle by
 * rectangle, in the encodings of `RfbEncodings.framed`), SetColourMapEntries,
 * Bell and ServerCutText.
 *
 * Only lengths are read: the framer walks each message's headers to learn
 * how many payload bytes follow, then skips them without looking. Every
 * chunk leaves as soon as it arrived, as one `ServerData` (a view of the
 * chunk, no copy) — unless a ServerCutText starts in it: that message is
 * collected whole (it is the clipboard, for DLP filters) and yielded as
 * `ServerCutText` between the `ServerData` before and after it. A header
 * cut by a chunk boundary is read from a copy of its first bytes (at most
 * 11), which have left already. So the work per chunk is O(1) plus O(1)
 * per header in it (a rectangle, a Hextile tile), never per payload byte.
 *
 * Pixel sizes come from the pixel format in force: ServerInit's, then the
 * client's SetPixelFormat from the next server message on (clients change
 * it only while no update is outstanding). Anything the framer cannot
 * measure — an unknown message type or encoding, a Tight mode the encoding
 * does not have, a ServerCutText with an extended-clipboard (negative)
 * length — is an RfbProtocolError: nothing after it could be split. A
 * ServerCutText over `maxServerCutText` is dropped whole, header included:
 * the viewer never sees it (a copy too large to inspect cannot pass a DLP
 * filter) and the connection goes on; `droppedCutTexts` counts them.
 */
import type { PixelFormat } from "../PixelFormat.ts"
import * as RfbEncodings from "../RfbEncodings.ts"
import type { RfbMessage } from "../RfbMessage.ts"
import { RfbProtocolError } from "../RfbProtocolError.ts"

export interface ServerFramer {
  /** Server bytes (kept by reference: never reuse the buffer) that arrived at `at`; throws RfbProtocolError. */
  readonly push: (chunk: Uint8Array, at: number) => Array<RfbMessage>
  /** The client's SetPixelFormat: in force from the next server message. */
  readonly setPixelFormat: (format: PixelFormat) => void
  /** Rectangles framed so far, per encoding. */
  readonly rectangles: () => ReadonlyMap<number, number>
  /** ServerCutTexts dropped for being over `maxServerCutText`, so far. */
  readonly droppedCutTexts: () => number
}

type State =
  | "message"
  | "rectangle"
  | "rre"
  | "hextile"
  | "length32"
  | "tightControl"
  | "tightFilter"
  | "tightPalette"
  | "tightData"
  | "tightLength"

/** Server message types after the handshake that need an extension the proxy refuses, by name. */
const extensionMessages: ReadonlyMap<number, string> = new Map([
  [150, "EndOfContinuousUpdates"],
  [248, "ServerFence"],
  [250, "xvp"],
  [252, "tight"],
  [253, "gii"],
  [255, "QEMU server message"]
])

const empty = new Uint8Array(0)

/**
 * Tight's TPIXEL: 3 bytes for 32-bit true colour of depth 24 with 8-bit
 * channels on byte boundaries (TigerVNC's `is888`), else a whole pixel.
 */
const tightPixelSize = (f: PixelFormat) =>
  f.trueColour &&
  f.bitsPerPixel === 32 &&
  f.depth === 24 &&
  f.redMax === 255 &&
  f.greenMax === 255 &&
  f.blueMax === 255 &&
  f.redShift % 8 === 0 &&
  f.greenShift % 8 === 0 &&
  f.blueShift % 8 === 0
    ? 3
    : f.bitsPerPixel / 8

export const make = (initial: PixelFormat, maxServerCutText: number): ServerFramer => {
  let pixel = initial.bitsPerPixel / 8
  let tpixel = tightPixelSize(initial)
  let pending: PixelFormat | undefined

  let state: State = "message"
  /** Payload bytes to pass before the next header. */
  let skip = 0
  /** Rectangles left in the current FramebufferUpdate. */
  let rects = 0
  let width = 0
  let height = 0
  let encoding = 0
  let tilesX = 0
  let tiles = 0
  let tile = 0
  /** Tight basic compression: the data's uncompressed size. */
  let tightSize = 0
  /** A ServerCutText being collected (its header first, then the whole message) and how much of it came. */
  let cut: Uint8Array | undefined
  let cutFilled = 0
  /** Bytes of a dropped ServerCutText still to come (passed over, never yielded). */
  let discard = 0
  let dropped = 0
  const counts = new Map<number, number>()

  // The bytes a step reads: `carry` (a header's start from the previous chunk), then `chunk` from `pos`.
  let carry: Uint8Array = empty
  let chunk: Uint8Array = empty
  let pos = 0

  const fail = (message: string): never => {
    throw new RfbProtocolError({ direction: "server", message })
  }
  const available = () => carry.length + chunk.length - pos
  const byte = (i: number) => (i < carry.length ? carry[i]! : chunk[pos + i - carry.length]!)
  const u16 = (i: number) => (byte(i) << 8) | byte(i + 1)
  const u32 = (i: number) => u16(i) * 0x10000 + u16(i + 2)

  const endRectangle = () => {
    state = rects > 0 ? "rectangle" : "message"
  }

  /** A rectangle's header read: where its data goes. */
  const startRectangle = () => {
    switch (encoding) {
      case RfbEncodings.raw:
        skip = width * height * pixel
        return endRectangle()
      case RfbEncodings.copyRect:
        skip = 4
        return endRectangle()
      case RfbEncodings.rre:
        state = "rre"
        return
      case RfbEncodings.hextile:
        tilesX = Math.ceil(width / 16)
        tiles = tilesX * Math.ceil(height / 16)
        tile = 0
        state = "hextile"
        return
      case RfbEncodings.zlib:
        // noVNC reads no length for an empty Zlib rectangle, and servers send none.
        if (width * height === 0) return endRectangle()
        state = "length32"
        return
      case RfbEncodings.zrle:
      case RfbEncodings.desktopName:
        state = "length32"
        return
      case RfbEncodings.tight:
      case RfbEncodings.tightPng:
        state = "tightControl"
        return
      case RfbEncodings.cursor:
        skip = width * height * pixel + Math.ceil(width / 8) * height
        return endRectangle()
      case RfbEncodings.xCursor:
        skip = width * height > 0 ? 6 + 2 * Math.ceil(width / 8) * height : 0
        return endRectangle()
      case RfbEncodings.qemuLedState:
        skip = 1
        return endRectangle()
      case RfbEncodings.desktopSize:
        return endRectangle()
      case RfbEncodings.lastRect:
        rects = 0
        return endRectangle()
      default:
        return fail(`sent a rectangle in ${RfbEncodings.describe(encoding)}, which the proxy cannot frame`)
    }
  }

  /**
   * One header, or a state change that reads nothing: the bytes it took
   * (0 … 12), or undefined when it needs more than are available. It only
   * reads what it takes, so the same step runs again with more bytes.
   */
  const step = (): number | undefined => {
    const have = available()
    switch (state) {
      case "message": {
        if (pending) {
          pixel = pending.bitsPerPixel / 8
          tpixel = tightPixelSize(pending)
          pending = undefined
        }
        if (have < 1) return undefined
        const type = byte(0)
        switch (type) {
          case 0:
            if (have < 4) return undefined
            rects = u16(2)
            endRectangle()
            return 4
          case 1:
            // SetColourMapEntries: padding, first colour, count, then 6 bytes per colour.
            if (have < 6) return undefined
            skip = 6 * u16(4)
            return 6
          case 2:
            return 1
          case 3:
            // ServerCutText: collected whole from its first byte (the loop takes over).
            cut = new Uint8Array(8)
            cutFilled = 0
            return 0
          default: {
            const extension = extensionMessages.get(type)
            return fail(
              extension === undefined
                ? `sent unknown message type ${type}`
                : `sent the extension message ${extension} (type ${type}), which the proxy refuses`
            )
          }
        }
      }
      case "rectangle": {
        if (have < 12) return undefined
        width = u16(4)
        height = u16(6)
        encoding = u32(8) | 0
        rects--
        counts.set(encoding, (counts.get(encoding) ?? 0) + 1)
        startRectangle()
        return 12
      }
      case "rre": {
        // Number of subrectangles, background pixel, then a pixel and x, y, w, h (u16) per subrectangle.
        if (have < 4 + pixel) return undefined
        skip = u32(0) * (pixel + 8)
        endRectangle()
        return 4 + pixel
      }
      case "hextile": {
        if (tile === tiles) {
          endRectangle()
          return 0
        }
        if (have < 1) return undefined
        const flags = byte(0)
        if (flags > 31) return fail(`sent a Hextile tile with subencoding ${flags}`)
        let taken = 1
        let data = 0
        if (flags & 1) {
          // Raw: the tile's pixels, whatever the other bits say.
          const tw = Math.min(16, width - (tile % tilesX) * 16)
          const th = Math.min(16, height - Math.floor(tile / tilesX) * 16)
          data = tw * th * pixel
        } else {
          // Background and foreground pixels, then a count of subrectangles (each with a pixel when coloured).
          taken += (flags & 2 ? pixel : 0) + (flags & 4 ? pixel : 0) + (flags & 8 ? 1 : 0)
          if (have < taken) return undefined
          if (flags & 8) data = byte(taken - 1) * (flags & 16 ? pixel + 2 : 2)
        }
        tile++
        skip = data
        return taken
      }
      case "length32": {
        // ZRLE and Zlib data, a DesktopName: a u32 length, then that many bytes.
        if (have < 4) return undefined
        skip = u32(0)
        endRectangle()
        return 4
      }
      case "tightControl": {
        if (have < 1) return undefined
        // The low four bits reset zlib streams; the high four choose the compression.
        const control = byte(0) >> 4
        if (control === 8) {
          skip = tpixel
          endRectangle()
        } else if (control === 9 || (control === 10 && encoding === RfbEncodings.tightPng)) {
          state = "tightLength"
        } else if (control < 8 && encoding === RfbEncodings.tight) {
          if (control & 4) state = "tightFilter"
          else {
            tightSize = width * height * tpixel
            state = "tightData"
          }
        } else {
          return fail(`sent a ${RfbEncodings.describe(encoding)} rectangle with compression control ${control}`)
        }
        return 1
      }
      case "tightFilter": {
        if (have < 1) return undefined
        const filter = byte(0)
        if (filter === 1) state = "tightPalette"
        else if (filter === 0 || filter === 2) {
          tightSize = width * height * tpixel
          state = "tightData"
        } else return fail(`sent a Tight rectangle with filter ${filter}`)
        return 1
      }
      case "tightPalette": {
        if (have < 1) return undefined
        const colours = byte(0) + 1
        skip = colours * tpixel
        // Two colours: a bit per pixel, rows padded to a byte; more: a byte per pixel.
        tightSize = (colours <= 2 ? Math.ceil(width / 8) : width) * height
        state = "tightData"
        return 1
      }
      case "tightData": {
        // Under 12 bytes the data is sent as is; otherwise zlib-compressed, after its compact length.
        if (tightSize >= 12) state = "tightLength"
        else {
          skip = tightSize
          endRectangle()
        }
        return 0
      }
      case "tightLength": {
        // Compact length: 7 bits per byte while the high bit is set, the third byte whole (22 bits at most).
        if (have < 1) return undefined
        const b0 = byte(0)
        if (!(b0 & 0x80)) {
          skip = b0
          endRectangle()
          return 1
        }
        if (have < 2) return undefined
        const b1 = byte(1)
        if (!(b1 & 0x80)) {
          skip = (b0 & 0x7f) | (b1 << 7)
          endRectangle()
          return 2
        }
        if (have < 3) return undefined
        skip = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (byte(2) << 14)
        endRectangle()
        return 3
      }
    }
  }

  /**
   * Copies ServerCutText bytes from the chunk: its 8-byte header, then the whole message. The message once
   * complete, `"more"` while it needs more bytes, `"dropped"` when its header says it is too long.
   */
  const collect = (at: number): RfbMessage | "more" | "dropped" => {
    for (;;) {
      const target = cut!
      const take = Math.min(target.length - cutFilled, chunk.length - pos)
      target.set(chunk.subarray(pos, pos + take), cutFilled)
      cutFilled += take
      pos += take
      if (cutFilled < target.length) return "more"
      const length = new DataView(target.buffer).getUint32(4)
      if (target.length === 8 + length) {
        cut = undefined
        return { direction: "server", type: "ServerCutText", bytes: target, at }
      }
      if (length > maxServerCutText) {
        // Negative as a signed length: the extended clipboard, which the proxy never lets a server announce.
        if (length >= 0x80000000) return fail(`sent ServerCutText of ${length} bytes (at most ${maxServerCutText})`)
        cut = undefined
        discard = length
        dropped += 1
        return "dropped"
      }
      cut = new Uint8Array(8 + length)
      cut.set(target)
    }
  }

  return {
    push: (bytes, at) => {
      const out: Array<RfbMessage> = []
      chunk = bytes
      pos = 0
      /** Where the chunk's bytes not yet yielded start. */
      let from = 0
      const yieldData = () => {
        if (pos > from) out.push({ direction: "server", type: "ServerData", bytes: chunk.subarray(from, pos), at })
        from = pos
      }
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.length - pos)
          pos += n
          skip -= n
          if (skip > 0) break
        } else if (discard > 0) {
          const n = Math.min(discard, chunk.length - pos)
          pos += n
          discard -= n
          from = pos
          if (discard > 0) break
        } else if (cut) {
          const message = collect(at)
          if (message === "more") break
          if (message !== "dropped") out.push(message)
          from = pos
        } else {
          const taken = step()
          if (taken === undefined) {
            // Too few bytes for the header: keep its start (a few bytes) for the next chunk.
            if (pos < chunk.length) {
              const joined = new Uint8Array(carry.length + chunk.length - pos)
              joined.set(carry)
              joined.set(chunk.subarray(pos), carry.length)
              carry = joined
              pos = chunk.length
            }
            break
          }
          pos += taken - carry.length
          carry = empty
          if (cut) yieldData()
        }
      }
      // A ServerCutText still being collected keeps its bytes.
      if (!cut) yieldData()
      chunk = empty
      return out
    },
    setPixelFormat: (format) => {
      pending = format
    },
    rectangles: () => counts,
    droppedCutTexts: () => dropped
  }
}
