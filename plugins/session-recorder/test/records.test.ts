/**
 * The player's record reader (ui/player/Records.ts, browser code) agrees
 * with the container writer (src/Container.ts), and splits a recording into
 * connections that each start with their handshake.
 */
import { describe, expect, test } from "bun:test"
import { RecordingContainer as Container } from "@streamspace/plugin-session-recorder"
import { ClientMessages, PixelFormat, RfbVersion } from "@streamspace/rfb"
import * as Records from "../ui/player/Records.ts"

const novnc: PixelFormat.PixelFormat = { ...PixelFormat.rgb888, redShift: 0, greenShift: 8, blueShift: 16 }
const serverInit = Uint8Array.of(0, 64, 0, 48, ...PixelFormat.encode(PixelFormat.rgb888), 0, 0, 0, 0)
const connection = (t: number, format?: PixelFormat.PixelFormat): Array<Container.RecordEntry> => [
  { kind: "connected", direction: "server", type: "ServerInit", t, bytes: new TextEncoder().encode("{}") },
  { kind: "message", direction: "server", type: "ProtocolVersion", t, bytes: RfbVersion.encode("3.8") },
  { kind: "message", direction: "client", type: "ProtocolVersion", t, bytes: RfbVersion.encode("3.8") },
  { kind: "message", direction: "server", type: "ServerInit", t: t + 1, bytes: serverInit },
  ...(format
    ? [
        {
          kind: "message",
          direction: "client",
          type: "SetPixelFormat",
          t: t + 2,
          bytes: ClientMessages.setPixelFormat(format)
        } as const
      ]
    : []),
  { kind: "message", direction: "client", type: "PointerEvent", t: t + 3, bytes: ClientMessages.pointerEvent(1, 2, 3) },
  { kind: "message", direction: "server", type: "ServerData", t: t + 4, bytes: Uint8Array.of(0, 0, 0, 1) },
  { kind: "disconnected", direction: "server", type: "ServerData", t: t + 5, bytes: new Uint8Array() }
]

describe("player records", () => {
  test("decodes what the container encodes, record for record", () => {
    const records = [...connection(10, novnc), ...connection(100)]
    const decoded = Records.decode(Container.encodeRecords(records))
    expect(decoded.map((r) => [r.kind, r.direction, r.type, r.t, [...r.bytes]])).toEqual(
      records.map((r) => [r.kind, r.direction, r.type, r.t, [...r.bytes]])
    )
    expect(Records.messageTypes).toEqual(Container.messageTypes)
  })

  test("splits connections, keeps server messages, and tells whether noVNC decodes the pixels", () => {
    const cs = Records.connections(
      Records.decode(Container.encodeRecords([...connection(10, novnc), ...connection(100)]))
    )
    expect(cs.map((c) => [c.start, c.end, c.server.map((r) => r.type)])).toEqual([
      [10, 15, ["ProtocolVersion", "ServerInit", "ServerData"]],
      [100, 105, ["ProtocolVersion", "ServerInit", "ServerData"]]
    ])
    // The first asked for noVNC's format; the second kept the desktop's (red and blue swapped).
    expect(cs.map(Records.decodableFormat)).toEqual([true, false])
  })

  test("keyframes belong to their connection, and a seek starts at the latest settled one", () => {
    const keyframe = (t: number): Container.RecordEntry => ({
      kind: "keyframe",
      direction: "client",
      type: "FramebufferUpdateRequest",
      t,
      bytes: ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, width: 64, height: 48 })
    })
    const [first, second] = connection(0)
    const rest = connection(0).slice(2)
    const records = [first!, second!, keyframe(0.5), ...rest.slice(0, -1), keyframe(3000), keyframe(6000), rest.at(-1)!]
    const [c] = Records.connections(Records.decode(Container.encodeRecords(records)))
    expect(c!.keyframes).toEqual([0.5, 3000, 6000])
    expect(Records.seekStart(c!, 900)).toBe(0)
    expect(Records.seekStart(c!, 1500)).toBe(0.5)
    expect(Records.seekStart(c!, 3999)).toBe(0.5)
    expect(Records.seekStart(c!, 4000)).toBe(3000)
    expect(Records.seekStart(c!, 60_000)).toBe(6000)
  })

  test("a truncated stream is an error naming where", () => {
    const bytes = Container.encodeRecords(connection(0))
    expect(() => Records.decode(bytes.subarray(0, bytes.length - 2))).toThrow(/record(| header) at byte \d+/)
  })
})
