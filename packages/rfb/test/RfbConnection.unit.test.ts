/**
 * The RFB parser on whole conversations split at random: whatever the
 * chunking of each direction and however the two directions interleave,
 * it yields the same messages with the same bytes; it holds client bytes
 * until the server's handshake allows them; it refuses what is not RFB.
 */
import { describe, expect, test } from "bun:test"
import {
  Bytes,
  ClientMessages,
  Handshake,
  PixelFormat,
  RfbConnection,
  RfbEncodings,
  RfbMessage,
  RfbVersion,
  ServerMessages
} from "@streamspace/rfb"
import { Either } from "effect"
import fc from "fast-check"

const { u32 } = Bytes
const concat = Bytes.concat
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0))

const serverInit = (name = "desk") => ServerMessages.serverInit({ width: 64, height: 48, name })

/** Client messages after the handshake, one of each kind, as a realistic client would send them. */
const session: ReadonlyArray<readonly [RfbMessage.ClientMessageType, Uint8Array]> = [
  ["SetPixelFormat", ClientMessages.setPixelFormat(PixelFormat.rgb888)],
  ["SetEncodings", ClientMessages.setEncodings([RfbEncodings.copyRect, RfbEncodings.raw, RfbEncodings.desktopSize])],
  [
    "FramebufferUpdateRequest",
    ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, width: 64, height: 48 })
  ],
  ["KeyEvent", ClientMessages.keyEvent(true, 0x61)],
  ["KeyEvent", ClientMessages.keyEvent(false, 0x61)],
  ["PointerEvent", ClientMessages.pointerEvent(1, 10, 20)],
  ["ClientCutText", ClientMessages.clientCutText("secret clipboard")],
  ["ClientCutText", ClientMessages.clientCutText("")],
  [
    "FramebufferUpdateRequest",
    ClientMessages.framebufferUpdateRequest({ incremental: true, x: 0, y: 0, width: 64, height: 48 })
  ]
]

interface Conversation {
  readonly client: ReadonlyArray<readonly [RfbMessage.ClientMessageType, Uint8Array]>
  readonly server: ReadonlyArray<readonly [RfbMessage.ServerMessageType, Uint8Array]>
}

const challenge = Uint8Array.from({ length: 16 }, (_, i) => i)
const response = Uint8Array.from({ length: 16 }, (_, i) => 255 - i)
/** A FramebufferUpdate (one Raw row of 64 pixels) and a Bell: what the server streams after ServerInit. */
const updates = concat(
  ServerMessages.framebufferUpdate([
    {
      x: 0,
      y: 0,
      width: 64,
      height: 1,
      encoding: RfbEncodings.raw,
      data: Uint8Array.from({ length: 256 }, (_, i) => i)
    }
  ]),
  ServerMessages.bell()
)

const conversations: Record<string, Conversation> = {
  "3.8, security None": {
    client: [
      ["ProtocolVersion", RfbVersion.encode("3.8")],
      ["SecurityType", Uint8Array.of(1)],
      ["ClientInit", Uint8Array.of(1)],
      ...session
    ],
    server: [
      ["ProtocolVersion", RfbVersion.encode("3.8")],
      ["SecurityTypes", Uint8Array.of(2, 2, 1)],
      ["SecurityResult", u32(0)],
      ["ServerInit", serverInit()],
      ["ServerData", updates],
      ["ServerCutText", ServerMessages.serverCutText("copied in the desktop")],
      ["ServerData", updates]
    ]
  },
  "3.8, VNC authentication": {
    client: [
      ["ProtocolVersion", RfbVersion.encode("3.8")],
      ["SecurityType", Uint8Array.of(2)],
      ["VncAuthResponse", response],
      ["ClientInit", Uint8Array.of(0)],
      ...session
    ],
    server: [
      ["ProtocolVersion", RfbVersion.encode("3.8")],
      ["SecurityTypes", Uint8Array.of(1, 2)],
      ["VncAuthChallenge", challenge],
      ["SecurityResult", u32(0)],
      ["ServerInit", serverInit("a longer desktop name")],
      ["ServerData", updates]
    ]
  },
  "3.7 client of a 3.8 server, security None (no SecurityResult)": {
    client: [
      ["ProtocolVersion", RfbVersion.encode("3.7")],
      ["SecurityType", Uint8Array.of(1)],
      ["ClientInit", Uint8Array.of(1)],
      ...session
    ],
    server: [
      ["ProtocolVersion", RfbVersion.encode("3.8")],
      ["SecurityTypes", Uint8Array.of(1, 1)],
      ["ServerInit", serverInit()],
      ["ServerData", updates]
    ]
  },
  "3.3, the server decides VNC authentication": {
    client: [
      ["ProtocolVersion", RfbVersion.encode("3.3")],
      ["VncAuthResponse", response],
      ["ClientInit", Uint8Array.of(1)],
      ...session
    ],
    server: [
      ["ProtocolVersion", RfbVersion.encode("3.8")],
      ["SecurityTypes", u32(2)],
      ["VncAuthChallenge", challenge],
      ["SecurityResult", u32(0)],
      ["ServerInit", serverInit()],
      ["ServerData", updates]
    ]
  },
  "3.3, the server decides None": {
    client: [["ProtocolVersion", RfbVersion.encode("3.3")], ["ClientInit", Uint8Array.of(1)], ...session],
    server: [
      ["ProtocolVersion", RfbVersion.encode("3.3")],
      ["SecurityTypes", u32(1)],
      ["ServerInit", serverInit()],
      ["ServerData", updates]
    ]
  }
}

/** `bytes` cut at the given fractions (deduplicated, sorted): the chunks a network could deliver. */
const split = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].filter((c) => c > 0 && c < bytes.length)
  at.sort((a, b) => a - b)
  const out: Array<Uint8Array> = []
  let from = 0
  for (const to of [...at, bytes.length]) {
    out.push(bytes.subarray(from, to))
    from = to
  }
  return out
}

const messagesOf = (messages: ReadonlyArray<RfbMessage.RfbMessage>, direction: RfbMessage.Direction) =>
  messages.filter((m) => m.direction === direction)

const pushAll = (
  rfb: RfbConnection.RfbConnection,
  chunks: ReadonlyArray<readonly [RfbMessage.Direction, Uint8Array]>
) => {
  const out: Array<RfbMessage.RfbMessage> = []
  for (const [direction, chunk] of chunks) {
    const result = rfb.push(direction, chunk)
    if (Either.isLeft(result)) throw new Error(`${result.left.direction}: ${result.left.message}`)
    out.push(...result.right)
  }
  return out
}

const failureOf = (
  rfb: RfbConnection.RfbConnection,
  chunks: ReadonlyArray<readonly [RfbMessage.Direction, Uint8Array]>
) => {
  for (const [direction, chunk] of chunks) {
    const result = rfb.push(direction, chunk)
    if (Either.isLeft(result)) return result.left
  }
  return undefined
}

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 })

describe("RfbConnection: the same messages however the bytes are split", () => {
  for (const [name, conversation] of Object.entries(conversations)) {
    test(name, () => {
      const clientStream = concat(...conversation.client.map(([, b]) => b))
      const serverStream = concat(...conversation.server.map(([, b]) => b))
      fc.assert(
        fc.property(cuts, cuts, fc.array(fc.boolean(), { maxLength: 80 }), (clientCuts, serverCuts, order) => {
          const clientChunks = split(clientStream, clientCuts)
          const serverChunks = split(serverStream, serverCuts)
          // Interleave the two directions in a random order (either may run ahead of the other).
          const chunks: Array<readonly [RfbMessage.Direction, Uint8Array]> = []
          let i = 0
          while (clientChunks.length > 0 || serverChunks.length > 0) {
            const fromClient = serverChunks.length === 0 || (clientChunks.length > 0 && (order[i++] ?? true))
            chunks.push(fromClient ? ["client", clientChunks.shift()!] : ["server", serverChunks.shift()!])
          }
          const messages = pushAll(RfbConnection.make(), chunks)
          const client = messagesOf(messages, "client")
          expect(client.map((m) => m.type)).toEqual(conversation.client.map(([t]) => t))
          client.forEach((m, k) => expect([...m.bytes]).toEqual([...conversation.client[k]![1]]))
          // Server data after ServerInit comes in whatever chunks it arrived in; the handshake and ServerCutText whole.
          const server = messagesOf(messages, "server")
          const handshake = server.filter((m) => m.type !== "ServerData")
          expect(handshake.map((m) => m.type)).toEqual(
            conversation.server.filter(([t]) => t !== "ServerData").map(([t]) => t)
          )
          expect([...concat(...server.map((m) => m.bytes))]).toEqual([...serverStream])
        }),
        { numRuns: 300 }
      )
    })
  }
})

describe("RfbConnection: the handshake holds the client back", () => {
  test("no client byte is released before the server's ProtocolVersion, nor ClientInit before SecurityResult", () => {
    const rfb = RfbConnection.make()
    const early = pushAll(rfb, [
      ["client", concat(RfbVersion.encode("3.8"), Uint8Array.of(1, 1), ClientMessages.keyEvent(true, 0x61))]
    ])
    expect(early).toEqual([])
    const afterVersion = pushAll(rfb, [["server", RfbVersion.encode("3.8")]])
    expect(afterVersion.map((m) => `${m.direction}:${m.type}`)).toEqual([
      "server:ProtocolVersion",
      "client:ProtocolVersion"
    ])
    const afterTypes = pushAll(rfb, [["server", Uint8Array.of(1, 1)]])
    expect(afterTypes.map((m) => `${m.direction}:${m.type}`)).toEqual(["server:SecurityTypes", "client:SecurityType"])
    const afterResult = pushAll(rfb, [["server", u32(0)]])
    expect(afterResult.map((m) => `${m.direction}:${m.type}`)).toEqual([
      "server:SecurityResult",
      "client:ClientInit",
      "client:KeyEvent"
    ])
    expect(rfb.handshakeComplete()).toBe(false)
    pushAll(rfb, [["server", serverInit()]])
    expect(rfb.handshakeComplete()).toBe(true)
    expect(rfb.version()).toBe("3.8")
  })

  test("each message is stamped with the arrival of its last byte", () => {
    let now = 1000
    const rfb = RfbConnection.make({ clock: () => now })
    pushAll(rfb, Handshake.securityNone38(serverInit()))
    const key = ClientMessages.keyEvent(true, 0x61)
    now = 2000
    expect(pushAll(rfb, [["client", key.subarray(0, 3)]])).toEqual([])
    now = 3000
    const [message] = pushAll(rfb, [["client", key.subarray(3)]])
    expect(message).toMatchObject({ direction: "client", type: "KeyEvent", at: 3000 })
  })
})

describe("RfbConnection: what is not RFB is refused", () => {
  const ready = (rfb: RfbConnection.RfbConnection) => pushAll(rfb, Handshake.securityNone38(serverInit()))

  test("a server that speaks something else fails at its first wrong byte (PostgreSQL's auth request, HTTP)", () => {
    const postgres = failureOf(RfbConnection.make(), [["server", Uint8Array.of(0x52, 0, 0, 0, 8, 0, 0, 0, 3)]])
    expect(postgres).toMatchObject({ _tag: "RfbProtocolError", direction: "server" })
    expect(postgres?.message).toContain("does not speak RFB")
    expect(failureOf(RfbConnection.make(), [["server", latin1("HTTP/1.1 400 Bad Request\r\n")]])?.direction).toBe(
      "server"
    )
    expect(failureOf(RfbConnection.make(), [["server", latin1("RFB 003.005\n")]])?.message).toContain("RFB 3.3/3.7/3.8")
  })

  test("a client that speaks something else fails before any server byte (a PostgreSQL startup message)", () => {
    const error = failureOf(RfbConnection.make(), [["client", Uint8Array.of(0, 0, 0, 8, 4, 210, 22, 47)]])
    expect(error).toMatchObject({ direction: "client" })
  })

  test("extension and unknown message types close the stream; later pushes repeat the error", () => {
    const rfb = RfbConnection.make()
    ready(rfb)
    const fence = rfb.push("client", Uint8Array.of(248, 0, 0, 0))
    expect(Either.isLeft(fence) && fence.left.message).toContain("ClientFence (type 248)")
    expect(
      Either.isLeft(
        rfb.push(
          "client",
          ClientMessages.framebufferUpdateRequest({ incremental: true, x: 0, y: 0, width: 1, height: 1 })
        )
      )
    ).toBe(true)
    const unknown = RfbConnection.make()
    ready(unknown)
    const error = unknown.push("client", Uint8Array.of(1))
    expect(Either.isLeft(error) && error.left.message).toBe("unknown RFB message type 1")
  })

  test("ClientCutText longer than the cap (or with the extended-clipboard flag) is refused from its header", () => {
    const rfb = RfbConnection.make({ maxClientCutText: 100 })
    ready(rfb)
    const header = concat(Uint8Array.of(6, 0, 0, 0), u32(101))
    const result = rfb.push("client", header)
    expect(Either.isLeft(result) && result.left.message).toBe("ClientCutText of 101 bytes (at most 100)")
    const extended = RfbConnection.make()
    ready(extended)
    expect(Either.isLeft(extended.push("client", concat(Uint8Array.of(6, 0, 0, 0), u32(0xfffffff0))))).toBe(true)
  })

  test("a client may not choose a security type the server did not offer, nor one whose bytes it cannot follow", () => {
    expect(
      failureOf(RfbConnection.make(), [
        ["server", RfbVersion.encode("3.8")],
        ["client", RfbVersion.encode("3.8")],
        ["server", Uint8Array.of(1, 2)],
        ["client", Uint8Array.of(1)]
      ])?.message
    ).toBe("chose security type 1, which the server did not offer (2)")
    expect(
      failureOf(RfbConnection.make(), [
        ["server", RfbVersion.encode("3.8")],
        ["client", RfbVersion.encode("3.8")],
        ["server", Uint8Array.of(2, 1, 18)],
        ["client", Uint8Array.of(18)]
      ])?.message
    ).toContain("only None (1) and VNC authentication (2)")
    expect(
      failureOf(RfbConnection.make(), [
        ["server", RfbVersion.encode("3.3")],
        ["client", RfbVersion.encode("3.8")]
      ])?.message
    ).toBe("asked for RFB 3.8; the server offered 3.3")
  })

  test("bytes held back by the handshake are bounded", () => {
    const error = failureOf(RfbConnection.make({ maxPendingBytes: 64 }), [
      ["client", concat(RfbVersion.encode("3.8"), new Uint8Array(60))]
    ])
    expect(error?.message).toBe("sent 72 bytes the handshake does not allow yet")
  })
})

describe("RfbEncodings", () => {
  test("SetEncodings loses the pseudo-encodings of refused extensions (and all it cannot frame), keeps the rest in order", () => {
    const asked = [RfbEncodings.copyRect, -312, RfbEncodings.raw, -313, -258, RfbEncodings.cursor, 0xc0a1e5ce | 0, -308]
    const rewritten = RfbEncodings.withoutRefused(ClientMessages.setEncodings(asked))
    expect(RfbEncodings.decode(rewritten)).toEqual([RfbEncodings.copyRect, RfbEncodings.raw, RfbEncodings.cursor])
    const plain = ClientMessages.setEncodings([RfbEncodings.raw])
    expect(RfbEncodings.withoutRefused(plain)).toBe(plain)
  })
})
