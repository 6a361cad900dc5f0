/**
 * The server side of RfbConnection after ServerInit: the framer follows
 * every message of the server's stream by its headers (each encoding, each
 * Tight mode, the pseudo-encodings), whatever the chunking, passes the
 * bytes on as they arrive, collects ServerCutText whole and within its cap,
 * follows the client's pixel format, and refuses what it cannot measure.
 *
 * Payload bytes are 0x03 (ServerCutText's type) with a length of 0x03030303
 * after it: a framer that lost its place would see a clipboard over the cap
 * and fail, or yield a ServerCutText where there is none.
 */
import { describe, expect, test } from "bun:test"
import {
  Bytes,
  ClientMessages,
  Handshake,
  PixelFormat,
  RfbConnection,
  RfbEncodings,
  type RfbMessage,
  type RfbProtocolError,
  ServerMessages
} from "@streamspace/rfb"
import { Either } from "effect"
import fc from "fast-check"

const { concat } = Bytes

const { u32 } = Bytes
/** Payload the framer must skip without reading. */
const opaque = (n: number) => new Uint8Array(n).fill(3)

const serverInit = (format: PixelFormat.PixelFormat = PixelFormat.rgb888) =>
  ServerMessages.serverInit({ width: 1920, height: 1080, format, name: "desk" })

const fail = (e: RfbProtocolError): never => {
  throw new Error(`${e.direction}: ${e.message}`)
}

/** A connection past ServerInit (RFB 3.8, security None), its client having sent `before` ahead of ServerInit. */
const ready = (
  options: RfbConnection.RfbConnectionOptions = {},
  format?: PixelFormat.PixelFormat,
  before?: Uint8Array
) => {
  const rfb = RfbConnection.make(options)
  const handshake = Handshake.securityNone38(serverInit(format), concat(Uint8Array.of(1), before ?? new Uint8Array()))
  for (const [direction, bytes] of handshake) Either.getOrElse(rfb.push(direction, bytes), fail)
  return rfb
}

const serverMessages = (rfb: RfbConnection.RfbConnection, chunks: ReadonlyArray<Uint8Array>) =>
  chunks.flatMap((chunk) => Either.getOrElse(rfb.push("server", chunk), fail))

const errorOf = (rfb: RfbConnection.RfbConnection, bytes: Uint8Array) => {
  const result = rfb.push("server", bytes)
  return Either.isLeft(result) ? result.left.message : undefined
}

/** What the messages say: the ServerData bytes in order between the ServerCutTexts, each ServerCutText whole. */
const shape = (messages: ReadonlyArray<RfbMessage.RfbMessage>) => {
  const out: Array<string> = []
  let data: Array<Uint8Array> = []
  const flush = () => {
    if (data.length > 0) out.push(`data:${Bun.hash(concat(...data))}:${concat(...data).length}`)
    data = []
  }
  for (const m of messages) {
    if (m.type === "ServerData") data.push(m.bytes)
    else {
      flush()
      out.push(`${m.type}:${Bytes.latin1Text(m.bytes.subarray(8))}`)
    }
  }
  flush()
  return out
}

const rect = (encoding: number, width: number, height: number, data?: Uint8Array): ServerMessages.Rectangle =>
  data ? { x: 1, y: 2, width, height, encoding, data } : { x: 1, y: 2, width, height, encoding }

const compact = ServerMessages.tightLength

/** Every encoding and Tight mode at 32 bits per pixel (TPIXEL 3), with what the framer must count. */
const rectangles = (pixel: number, tpixel: number): ReadonlyArray<ServerMessages.Rectangle> => [
  rect(RfbEncodings.raw, 5, 3, opaque(5 * 3 * pixel)),
  rect(RfbEncodings.raw, 0, 9),
  rect(RfbEncodings.copyRect, 5, 3, opaque(4)),
  rect(RfbEncodings.rre, 9, 9, concat(u32(2), opaque(pixel), opaque(2 * (pixel + 8)))),
  // Hextile, 33 × 33: 3 × 3 tiles (16, 16 and 1 wide and high), each kind of tile.
  rect(
    RfbEncodings.hextile,
    33,
    33,
    concat(
      Uint8Array.of(1),
      opaque(16 * 16 * pixel),
      Uint8Array.of(2 | 4),
      opaque(2 * pixel),
      Uint8Array.of(1),
      opaque(1 * 16 * pixel),
      Uint8Array.of(0),
      Uint8Array.of(8, 2),
      opaque(2 * 2),
      Uint8Array.of(2 | 8 | 16),
      opaque(pixel),
      Uint8Array.of(3),
      opaque(3 * (pixel + 2)),
      Uint8Array.of(1),
      opaque(16 * 1 * pixel),
      Uint8Array.of(4 | 8),
      opaque(pixel),
      Uint8Array.of(1),
      opaque(2),
      Uint8Array.of(1 | 2 | 4 | 8 | 16),
      opaque(1 * 1 * pixel)
    )
  ),
  rect(RfbEncodings.hextile, 0, 0),
  rect(RfbEncodings.zlib, 4, 4, concat(u32(300), opaque(300))),
  rect(RfbEncodings.zlib, 0, 4),
  rect(RfbEncodings.zrle, 64, 64, concat(u32(5), opaque(5))),
  // Tight: fill, JPEG (1-, 2- and 3-byte lengths), basic with each filter, raw (< 12 bytes) or zlib.
  rect(RfbEncodings.tight, 8, 8, concat(Uint8Array.of(0x8f), opaque(tpixel))),
  rect(RfbEncodings.tight, 8, 8, concat(Uint8Array.of(0x90), compact(100), opaque(100))),
  rect(RfbEncodings.tight, 8, 8, concat(Uint8Array.of(0x90), compact(1000), opaque(1000))),
  rect(RfbEncodings.tight, 8, 8, concat(Uint8Array.of(0x90), compact(20000), opaque(20000))),
  rect(RfbEncodings.tight, 2, 1, concat(Uint8Array.of(0x01), opaque(2 * tpixel))),
  rect(RfbEncodings.tight, 8, 8, concat(Uint8Array.of(0x12), compact(40), opaque(40))),
  rect(RfbEncodings.tight, 8, 8, concat(Uint8Array.of(0x40, 0), compact(40), opaque(40))),
  rect(RfbEncodings.tight, 0, 8, Uint8Array.of(0x00)),
  // 12 bytes uncompressed at 32 bits per pixel (2 × 2 × 3) is compressed; 11 (a palette's 11 rows of a byte) is not.
  rect(
    RfbEncodings.tight,
    2,
    2,
    concat(Uint8Array.of(0x00), tpixel === 3 ? compact(5) : new Uint8Array(), opaque(tpixel === 3 ? 5 : 4 * tpixel))
  ),
  rect(RfbEncodings.tight, 8, 11, concat(Uint8Array.of(0x40, 1, 0), opaque(tpixel), opaque(11))),
  rect(RfbEncodings.tight, 16, 5, concat(Uint8Array.of(0x50, 1, 1), opaque(2 * tpixel), opaque(10))),
  rect(RfbEncodings.tight, 17, 5, concat(Uint8Array.of(0x60, 1, 1), opaque(2 * tpixel), compact(9), opaque(9))),
  rect(RfbEncodings.tight, 3, 3, concat(Uint8Array.of(0x70, 1, 15), opaque(16 * tpixel), opaque(9))),
  rect(RfbEncodings.tight, 30, 30, concat(Uint8Array.of(0x40, 1, 255), opaque(256 * tpixel), compact(77), opaque(77))),
  rect(RfbEncodings.tight, 9, 9, concat(Uint8Array.of(0x40, 2), compact(12), opaque(12))),
  rect(RfbEncodings.tightPng, 8, 8, concat(Uint8Array.of(0xa0), compact(200), opaque(200))),
  rect(RfbEncodings.tightPng, 8, 8, concat(Uint8Array.of(0x80), opaque(tpixel))),
  rect(RfbEncodings.tightPng, 8, 8, concat(Uint8Array.of(0x90), compact(3), opaque(3))),
  rect(RfbEncodings.cursor, 10, 3, opaque(10 * 3 * pixel + 2 * 3)),
  rect(RfbEncodings.xCursor, 10, 3, opaque(6 + 2 * 2 * 3)),
  rect(RfbEncodings.xCursor, 0, 0),
  rect(RfbEncodings.desktopSize, 1024, 768),
  rect(RfbEncodings.desktopName, 0, 0, concat(u32(11), Bytes.latin1("new desktop"))),
  rect(RfbEncodings.qemuLedState, 0, 0, Uint8Array.of(4))
]

/** A server's stream with every message kind, and the ServerCutTexts in it. */
const streamOf = (pixel: number, tpixel: number) => {
  const all = rectangles(pixel, tpixel)
  const stream = concat(
    ServerMessages.framebufferUpdate(all),
    ServerMessages.setColourMapEntries(0, [
      [0, 0, 0],
      [65535, 3, 3]
    ]),
    ServerMessages.bell(),
    ServerMessages.serverCutText("copied in the desktop"),
    ServerMessages.framebufferUpdate([]),
    // LastRect ends an update announced with 0xffff rectangles.
    ServerMessages.framebufferUpdate(
      [rect(RfbEncodings.raw, 2, 2, opaque(4 * pixel)), rect(RfbEncodings.lastRect, 0, 0)],
      0xffff
    ),
    ServerMessages.serverCutText(""),
    ServerMessages.bell()
  )
  const counts = new Map<number, number>()
  for (const r of [...all, rect(RfbEncodings.raw, 0, 0), rect(RfbEncodings.lastRect, 0, 0)])
    counts.set(r.encoding, (counts.get(r.encoding) ?? 0) + 1)
  return { stream, counts }
}

/** What a correct framer yields for `stream`: its bytes whole, cut around the two ServerCutTexts. */
const expectedShape = (stream: Uint8Array) => {
  const first = ServerMessages.serverCutText("copied in the desktop")
  const second = ServerMessages.serverCutText("")
  const find = (needle: Uint8Array, from: number) => {
    for (let i = from; i <= stream.length - needle.length; i++)
      if (needle.every((b, k) => stream[i + k] === b)) return i
    throw new Error("not in the stream")
  }
  const a = find(first, 0)
  const b = find(second, a + first.length)
  return shape([
    { direction: "server", type: "ServerData", bytes: stream.subarray(0, a), at: 0 },
    { direction: "server", type: "ServerCutText", bytes: first, at: 0 },
    { direction: "server", type: "ServerData", bytes: stream.subarray(a + first.length, b), at: 0 },
    { direction: "server", type: "ServerCutText", bytes: second, at: 0 },
    { direction: "server", type: "ServerData", bytes: stream.subarray(b + second.length), at: 0 }
  ])
}

describe("ServerFramer: every message and encoding, however the stream is cut", () => {
  const { stream, counts } = streamOf(4, 3)
  const expected = expectedShape(stream)

  test("whole, then cut in two at every byte boundary", () => {
    const whole = ready()
    expect(shape(serverMessages(whole, [stream]))).toEqual(expected)
    expect(whole.serverRectangles()).toEqual(counts)
    for (let at = 1; at < stream.length; at++) {
      const rfb = ready()
      expect(shape(serverMessages(rfb, [stream.subarray(0, at), stream.subarray(at)]))).toEqual(expected)
    }
  })

  test("one byte at a time", () => {
    const rfb = ready()
    const chunks = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1))
    expect(shape(serverMessages(rfb, chunks))).toEqual(expected)
    expect(rfb.serverRectangles()).toEqual(counts)
  })

  test("random cuts", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 60 }), (cuts) => {
        const at = [...new Set(cuts)].sort((a, b) => a - b)
        const chunks = [0, ...at].map((from, i) => stream.subarray(from, at[i] ?? stream.length))
        expect(shape(serverMessages(ready(), chunks))).toEqual(expected)
      }),
      { numRuns: 300 }
    )
  })

  test("16 bits per pixel from ServerInit: pixels of 2 bytes, Tight's TPIXEL too", () => {
    const at16 = streamOf(2, 2)
    const rfb = ready({}, PixelFormat.rgb565)
    expect(shape(serverMessages(rfb, [at16.stream]))).toEqual(expectedShape(at16.stream))
    expect(rfb.serverRectangles()).toEqual(at16.counts)
  })
})

describe("ServerFramer: streaming", () => {
  test("a large Raw rectangle passes as its bytes arrive, each chunk at once and whole", () => {
    const rfb = ready()
    const update = ServerMessages.framebufferUpdate([rect(RfbEncodings.raw, 1920, 1080, opaque(1920 * 1080 * 4))])
    const first = update.subarray(0, 65536)
    const out = serverMessages(rfb, [first])
    expect(out).toHaveLength(1)
    expect(out[0]).toMatchObject({ direction: "server", type: "ServerData" })
    expect([...out[0]!.bytes]).toEqual([...first])
    let passed = first.length
    for (let at = first.length; at < update.length; at += 65536) {
      const chunk = update.subarray(at, at + 65536)
      const messages = serverMessages(rfb, [chunk])
      expect(messages.map((m) => [m.type, m.bytes.length])).toEqual([["ServerData", chunk.length]])
      passed += chunk.length
    }
    expect(passed).toBe(update.length)
    // Still in step: the next message is seen for what it is.
    const next = serverMessages(rfb, [ServerMessages.serverCutText("after the frame")])
    expect(shape(next)).toEqual(["ServerCutText:after the frame"])
  })

  test("a header cut by a chunk boundary: its first bytes pass at once, the rest with the next chunk", () => {
    const rfb = ready()
    const update = ServerMessages.framebufferUpdate([rect(RfbEncodings.zrle, 64, 64, concat(u32(4), opaque(4)))])
    // The update's header and 7 of the rectangle's 12 header bytes.
    const out = serverMessages(rfb, [update.subarray(0, 11)])
    expect(out.map((m) => m.bytes.length)).toEqual([11])
    expect(serverMessages(rfb, [update.subarray(11)]).map((m) => m.bytes.length)).toEqual([update.length - 11])
    expect(rfb.serverRectangles()).toEqual(new Map([[RfbEncodings.zrle, 1]]))
  })
})

describe("ServerFramer: ServerCutText", () => {
  const text = "employee 123-45-6789 payroll"

  test("held until complete, yielded whole between the data around it", () => {
    const rfb = ready()
    const before = ServerMessages.framebufferUpdate([rect(RfbEncodings.copyRect, 4, 4, opaque(4))])
    const cut = ServerMessages.serverCutText(text)
    const first = serverMessages(rfb, [concat(before, cut.subarray(0, 12))])
    expect(first.map((m) => [m.type, m.bytes.length])).toEqual([["ServerData", before.length]])
    expect(serverMessages(rfb, [cut.subarray(12, 20)])).toEqual([])
    const rest = serverMessages(rfb, [concat(cut.subarray(20), ServerMessages.bell())])
    expect(rest.map((m) => m.type)).toEqual(["ServerCutText", "ServerData"])
    expect([...rest[0]!.bytes]).toEqual([...cut])
    expect([...rest[1]!.bytes]).toEqual([2])
  })

  test("bounded: one over `maxServerCutText` is dropped whole, header and all, and the stream goes on", () => {
    const rfb = ready({ maxServerCutText: 100 })
    expect(shape(serverMessages(rfb, [ServerMessages.serverCutText("x".repeat(100))]))).toEqual([
      `ServerCutText:${"x".repeat(100)}`
    ])
    expect(rfb.droppedServerCutTexts()).toBe(0)
    // Never held: the header alone decides, and the text's bytes are passed over as they come, in any split.
    const over = ServerMessages.serverCutText("y".repeat(101))
    expect(serverMessages(rfb, [over.subarray(0, 8)])).toEqual([])
    expect(rfb.droppedServerCutTexts()).toBe(1)
    expect(serverMessages(rfb, [over.subarray(8, 50)])).toEqual([])
    const rest = serverMessages(rfb, [concat(over.subarray(50), ServerMessages.bell())])
    expect(rest.map((m) => [m.type, [...m.bytes]])).toEqual([["ServerData", [2]]])
    expect(shape(serverMessages(rfb, [ServerMessages.serverCutText("after")]))).toEqual(["ServerCutText:after"])
    // The extended clipboard's negative lengths (never announced through the proxy) are a protocol error.
    expect(errorOf(ready(), concat(Uint8Array.of(3, 0, 0, 0), u32(0xfffffff0)))).toContain("at most 1048576")
  })
})

describe("ServerFramer: the pixel format", () => {
  const raw2x2 = (pixel: number) => ServerMessages.framebufferUpdate([rect(RfbEncodings.raw, 2, 2, opaque(4 * pixel))])
  const marker = ServerMessages.serverCutText("in step")

  test("the client's SetPixelFormat applies from the next server message, not inside the current one", () => {
    const rfb = ready()
    const two = ServerMessages.framebufferUpdate([
      rect(RfbEncodings.raw, 2, 2, opaque(16)),
      rect(RfbEncodings.raw, 2, 2, opaque(16))
    ])
    expect(serverMessages(rfb, [two.subarray(0, 20)]).length).toBe(1)
    Either.getOrElse(rfb.push("client", ClientMessages.setPixelFormat(PixelFormat.rgb565)), fail)
    // The second rectangle is still 4 bytes a pixel; the next update 2.
    const out = serverMessages(rfb, [two.subarray(20), raw2x2(2), marker])
    expect(shape(out)).toHaveLength(2)
    expect(shape(out).at(-1)).toBe("ServerCutText:in step")
  })

  test("8 bits per pixel; a SetPixelFormat sent before ServerInit arrived applies from the first update", () => {
    const bgr233: PixelFormat.PixelFormat = {
      ...PixelFormat.rgb888,
      bitsPerPixel: 8,
      depth: 8,
      redMax: 7,
      greenMax: 7,
      blueMax: 3,
      redShift: 0,
      greenShift: 3,
      blueShift: 6
    }
    const rfb = ready({}, PixelFormat.rgb888, ClientMessages.setPixelFormat(bgr233))
    const tight = ServerMessages.framebufferUpdate([
      rect(RfbEncodings.tight, 4, 4, concat(Uint8Array.of(0x80), opaque(1)))
    ])
    expect(shape(serverMessages(rfb, [raw2x2(1), tight, marker])).at(-1)).toBe("ServerCutText:in step")
  })

  test("a pixel format the framer cannot measure is refused on either side", () => {
    const rfb = ready()
    const bad = ClientMessages.setPixelFormat(PixelFormat.rgb888)
    bad[4] = 24
    const result = rfb.push("client", bad)
    expect(Either.isLeft(result) && result.left).toMatchObject({
      direction: "client",
      message: "SetPixelFormat with 24 bits per pixel (8, 16 or 32)"
    })
    const server = RfbConnection.make()
    const init = serverInit()
    init[4] = 24
    const errors = Handshake.securityNone38(init)
      .map(([direction, bytes]) => server.push(direction, bytes))
      .filter(Either.isLeft)
    expect(errors.map((e) => e.left.message)).toEqual(["sent a ServerInit with 24 bits per pixel (8, 16 or 32)"])
  })
})

describe("ServerFramer: what it cannot measure is a protocol error", () => {
  const update = (r: ServerMessages.Rectangle) => ServerMessages.framebufferUpdate([r])

  test.each([
    [
      "an encoding it does not frame",
      update(rect(50, 8, 8, opaque(8))),
      "sent a rectangle in H.264 (50), which the proxy cannot frame"
    ],
    ["an unknown encoding", update(rect(99, 8, 8)), "sent a rectangle in encoding 99, which the proxy cannot frame"],
    [
      "the VMware cursor",
      update(rect(0x574d5664, 8, 8)),
      "sent a rectangle in VMware Cursor (1464686180), which the proxy cannot frame"
    ],
    ["an unknown message type", Uint8Array.of(42), "sent unknown message type 42"],
    [
      "an extension message",
      Uint8Array.of(248, 0, 0, 0),
      "sent the extension message ServerFence (type 248), which the proxy refuses"
    ],
    [
      "PNG in plain Tight",
      update(rect(RfbEncodings.tight, 8, 8, Uint8Array.of(0xa0))),
      "sent a Tight (7) rectangle with compression control 10"
    ],
    [
      "basic compression in TightPNG",
      update(rect(RfbEncodings.tightPng, 8, 8, Uint8Array.of(0x00))),
      "sent a TightPNG (-260) rectangle with compression control 0"
    ],
    [
      "an unknown Tight mode",
      update(rect(RfbEncodings.tight, 8, 8, Uint8Array.of(0xb0))),
      "sent a Tight (7) rectangle with compression control 11"
    ],
    [
      "an unknown Tight filter",
      update(rect(RfbEncodings.tight, 8, 8, Uint8Array.of(0x40, 3))),
      "sent a Tight rectangle with filter 3"
    ],
    [
      "a Hextile subencoding with unknown bits",
      update(rect(RfbEncodings.hextile, 8, 8, Uint8Array.of(32))),
      "sent a Hextile tile with subencoding 32"
    ]
  ])("%s", (_, bytes, message) => {
    const rfb = ready()
    expect(errorOf(rfb, bytes)).toBe(message)
    expect(errorOf(rfb, ServerMessages.bell())).toBe(message)
  })
})

describe("RfbEncodings: SetEncodings keeps what the framer can frame", () => {
  test("noVNC 1.7's list keeps Tight, ZRLE, Hextile, the cursor and the settings, and loses the rest", () => {
    // core/rfb.js _sendEncodings at full depth, with H.264 (quality 6, compression 2).
    const novnc = [
      1,
      50,
      7,
      -260,
      16,
      21,
      5,
      2,
      6,
      0,
      -26,
      -254,
      -223,
      -224,
      -258,
      -261,
      -308,
      -309,
      -312,
      -313,
      -307,
      0xc0a1e5ce | 0,
      -316,
      0x574d5664,
      -239
    ]
    const kept = RfbEncodings.decode(RfbEncodings.withoutRefused(ClientMessages.setEncodings(novnc)))
    expect(kept).toEqual([1, 7, -260, 16, 5, 2, 6, 0, -26, -254, -223, -224, -261, -307, -239])
  })

  test("every encoding kept is framed or a setting; unknown ones go; an allowed list is the same bytes", () => {
    const asked = [-240, 99, 4, -32, -23, -247, -256, -412, -512, -763, -768, -33, -246, 0x7fffffff]
    expect(RfbEncodings.decode(RfbEncodings.withoutRefused(ClientMessages.setEncodings(asked)))).toEqual([
      -240, -32, -23, -247, -256, -412, -512, -763, -768
    ])
    const plain = ClientMessages.setEncodings([RfbEncodings.tight, RfbEncodings.raw, -28])
    expect(RfbEncodings.withoutRefused(plain)).toBe(plain)
  })
})
