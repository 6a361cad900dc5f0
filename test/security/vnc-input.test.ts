/**
 * Finding 1 of issue 21: a view share could type and click. The proxy used
 * to look at the first byte of each WebSocket message, but RFB is a byte
 * stream: a KeyEvent packed after a FramebufferUpdateRequest, or inside the
 * handshake message, reached the VNC server. Now every byte goes through
 * the RFB parser, so however the client splits its stream, a view share's
 * desktop receives only the handshake, SetPixelFormat, SetEncodings and
 * FramebufferUpdateRequest — and an owner's input still arrives whole.
 * What the desktop received is read from the simulated runtime's stand-in.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { ClientMessages, PixelFormat, RfbEncodings, type RfbMessage } from "@streamspace/rfb"
import { TestPlatform, VncClient } from "@streamspace/testing"
import fc from "fast-check"
import {
  concat,
  handshake,
  lastConnectionReceived,
  launch,
  makeTemplate,
  makeUser,
  sameBytes,
  viewerTypes
} from "./vnc-kit.ts"

let p: TestPlatform.TestPlatform
let admin: string
let owner: { id: string; token: string }
let watcher: { id: string; token: string }
let helper: { id: string; token: string }
let session: string

beforeAll(async () => {
  p = await TestPlatform.make({ listen: true, config: { sessions: { simulatedDelayMs: 20 } } })
  admin = await p.login("admin", p.adminPassword)
  owner = await makeUser(p, admin, "input-owner")
  watcher = await makeUser(p, admin, "input-watcher")
  helper = await makeUser(p, admin, "input-helper")
  session = await launch(p, owner.token, await makeTemplate(p, admin, "input-desktop"))
  for (const [user, access] of [
    [watcher, "view"],
    [helper, "control"]
  ] as const)
    await p.http("POST", `/api/sessions/${session}/shares`, { token: owner.token, body: { userId: user.id, access } })
})
afterAll(() => p.close())

const request = (x: number, incremental = false) =>
  ClientMessages.framebufferUpdateRequest({ incremental, x, y: 0, width: 1, height: 1 })

/** Sends `frames` as WebSocket messages, as `token`'s holder; resolves once the desktop got `marker` (last in the stream). */
const deliver = async (token: string, frames: ReadonlyArray<Uint8Array>, marker: Uint8Array) => {
  const c = VncClient.open(p, session, { ticket: await VncClient.ticket(p, session, token) })
  await c.opened
  for (const frame of frames) c.send(frame)
  // Messages reach the desktop in order: once the marker is there, anything sent before it would be too.
  const received = await p.eventually(async () => {
    const messages = await lastConnectionReceived(p, session)
    return messages.some((m) => sameBytes(m.bytes, marker)) ? messages : undefined
  })
  c.close()
  await c.closed
  return received
}

const typesOf = (messages: ReadonlyArray<RfbMessage.RfbMessage>) => messages.map((m) => m.type)

describe(`view shares cannot type or click (${TestPlatform.engine()})`, () => {
  test("a KeyEvent packed after a FramebufferUpdateRequest in one WebSocket message does not reach the desktop", async () => {
    const marker = request(7)
    const received = await deliver(
      watcher.token,
      [
        ...handshake,
        concat(request(0), ClientMessages.keyEvent(true, 0x61), ClientMessages.keyEvent(false, 0x61)),
        marker
      ],
      marker
    )
    expect(typesOf(received)).toEqual([
      "ProtocolVersion",
      "SecurityType",
      "ClientInit",
      "FramebufferUpdateRequest",
      "FramebufferUpdateRequest"
    ])
  })

  test("input inside the handshake message does not reach the desktop either", async () => {
    const marker = request(8)
    const received = await deliver(
      watcher.token,
      [
        concat(
          ...handshake,
          ClientMessages.pointerEvent(1, 5, 5),
          ClientMessages.keyEvent(true, 0xff0d),
          ClientMessages.clientCutText("rm -rf ~")
        ),
        marker
      ],
      marker
    )
    expect(typesOf(received)).toEqual(["ProtocolVersion", "SecurityType", "ClientInit", "FramebufferUpdateRequest"])
  })

  /** A realistic client: handshake, pixel format, encodings, update requests interleaved with typing and clicking. */
  const stream = (marker: Uint8Array): ReadonlyArray<Uint8Array> => [
    ...handshake,
    ClientMessages.setPixelFormat(PixelFormat.rgb888),
    ClientMessages.setEncodings([
      RfbEncodings.copyRect,
      RfbEncodings.raw,
      RfbEncodings.desktopSize,
      RfbEncodings.cursor
    ]),
    request(0),
    ClientMessages.pointerEvent(0, 30, 40),
    ClientMessages.keyEvent(true, 0x68),
    ClientMessages.keyEvent(false, 0x68),
    ClientMessages.clientCutText("pasted text"),
    request(1, true),
    ClientMessages.pointerEvent(1, 31, 41),
    ClientMessages.pointerEvent(0, 31, 41),
    ClientMessages.keyEvent(true, 0xff0d),
    ClientMessages.setPixelFormat({ ...PixelFormat.rgb888, bitsPerPixel: 16, depth: 16 }),
    request(2, true),
    ClientMessages.keyEvent(false, 0xff0d),
    marker
  ]

  /** The stream cut at random offsets into WebSocket messages (a cut may fall inside any message). */
  const frames = (bytes: Uint8Array, cuts: ReadonlyArray<number>) => {
    const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].filter((c) => c > 0 && c < bytes.length)
    at.sort((a, b) => a - b)
    return [...at, bytes.length].map((to, i) => bytes.subarray(i === 0 ? 0 : at[i - 1], to))
  }
  const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 30 })

  test("however a view share's stream is split, its desktop gets only the handshake and picture requests, all of them", async () => {
    await fc.assert(
      fc.asyncProperty(cuts, async (at) => {
        const marker = request(9, true)
        const messages = stream(marker)
        const received = await deliver(watcher.token, frames(concat(...messages), at), marker)
        expect(received.every((m) => viewerTypes.has(m.type as RfbMessage.ClientMessageType))).toBe(true)
        // …and nothing it may send is lost or altered.
        const allowed = messages.filter((m) => [0, 2, 3].includes(m[0]!) || handshake.includes(m))
        expect(received.map((m) => [...m.bytes])).toEqual(allowed.map((m) => [...m]))
      }),
      { numRuns: 50 }
    )
  })

  test("an owner's and a control share's input arrives, message for message, however the stream is split", async () => {
    await fc.assert(
      fc.asyncProperty(cuts, fc.boolean(), async (at, asOwner) => {
        const marker = request(10, true)
        const messages = stream(marker)
        const received = await deliver(asOwner ? owner.token : helper.token, frames(concat(...messages), at), marker)
        expect(received.map((m) => [...m.bytes])).toEqual(messages.map((m) => [...m]))
        expect(typesOf(received)).toContain("KeyEvent")
      }),
      { numRuns: 12 }
    )
  })

  test("SetEncodings loses the pseudo-encodings of extensions the proxy refuses; an extension message closes with 4400", async () => {
    const marker = request(11)
    const asked = [RfbEncodings.raw, -312, -313, -258, RfbEncodings.copyRect]
    const received = await deliver(owner.token, [...handshake, ClientMessages.setEncodings(asked), marker], marker)
    const encodings = received.find((m) => m.type === "SetEncodings")!
    expect(RfbEncodings.decode(encodings.bytes)).toEqual([RfbEncodings.raw, RfbEncodings.copyRect])

    const c = VncClient.open(p, session, { ticket: await VncClient.ticket(p, session, owner.token) })
    await c.opened
    for (const bytes of handshake) c.send(bytes)
    c.send(Uint8Array.of(248, 0, 0, 0, 0, 0, 0, 0, 0)) // ClientFence
    expect(await c.closed).toEqual({
      code: 4400,
      reason: "RFB protocol error: RFB extension message ClientFence (type 248) is not supported"
    })
  })

  test("text frames are not RFB: 1003", async () => {
    const c = VncClient.open(p, session, { ticket: await VncClient.ticket(p, session, owner.token) })
    await c.opened
    c.ws.send("RFB 003.008\n")
    expect((await c.closed).code).toBe(1003)
  })
})
