/** The stand-in VNC server over real TCP: an RFB 3.8 handshake, raw updates in the client's pixel format, what it received. */
import { afterAll, describe, expect, test } from "bun:test"
import {
  ClientMessages,
  PixelFormat,
  RfbConnection,
  type RfbMessage,
  RfbVersion,
  StandInVncServer
} from "@streamspace/rfb"
import { Either } from "effect"

const servers: Array<StandInVncServer.StandInVncServer> = []
afterAll(() => {
  for (const s of servers) s.stop()
})

/** A TCP client that parses what the server sends with the client's own RfbConnection. */
const connect = async (server: StandInVncServer.StandInVncServer) => {
  const rfb = RfbConnection.make()
  const fromServer: Array<RfbMessage.RfbMessage> = []
  let closed = false
  const socket = await Bun.connect({
    hostname: server.host,
    port: server.port,
    socket: {
      data: (_s, chunk) => {
        const parsed = rfb.push("server", chunk)
        if (Either.isRight(parsed)) fromServer.push(...parsed.right.filter((m) => m.direction === "server"))
      },
      close: () => {
        closed = true
      }
    }
  })
  const until = async (check: () => boolean) => {
    while (!check()) await Bun.sleep(5)
  }
  const send = (bytes: Uint8Array) => {
    rfb.push("client", bytes)
    socket.write(bytes)
  }
  return { socket, fromServer, send, until, closed: () => closed }
}

describe("StandInVncServer", () => {
  test("speaks RFB 3.8 with security None and answers a full update request in the client's pixel format", async () => {
    const server = StandInVncServer.start({ width: 8, height: 4, name: "desk" })
    servers.push(server)
    const c = await connect(server)
    await c.until(() => c.fromServer.some((m) => m.type === "ProtocolVersion"))
    expect(new TextDecoder().decode(c.fromServer[0]!.bytes)).toBe("RFB 003.008\n")
    c.send(RfbVersion.encode("3.8"))
    await c.until(() => c.fromServer.some((m) => m.type === "SecurityTypes"))
    expect([...c.fromServer[1]!.bytes]).toEqual([1, 1])
    c.send(ClientMessages.securityType(1))
    c.send(ClientMessages.clientInit(true))
    await c.until(() => c.fromServer.some((m) => m.type === "ServerInit"))
    const init = c.fromServer.find((m) => m.type === "ServerInit")!
    expect([...init.bytes.subarray(0, 4)]).toEqual([0, 8, 0, 4])
    c.send(ClientMessages.setPixelFormat(PixelFormat.rgb565))
    c.send(ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, width: 100, height: 100 }))
    // FramebufferUpdate header (4) + one rectangle header (12) + 8×4 pixels of 2 bytes.
    const expected = 4 + 12 + 8 * 4 * 2
    await c.until(
      () => c.fromServer.filter((m) => m.type === "ServerData").reduce((n, m) => n + m.bytes.length, 0) >= expected
    )
    const data = c.fromServer.filter((m) => m.type === "ServerData").reduce((n, m) => n + m.bytes.length, 0)
    expect(data).toBe(expected)
    c.send(ClientMessages.keyEvent(true, 0x61))
    await c.until(() => server.received().some((r) => r.message.type === "KeyEvent"))
    expect(server.received().map((r) => r.message.type)).toEqual([
      "ProtocolVersion",
      "SecurityType",
      "ClientInit",
      "SetPixelFormat",
      "FramebufferUpdateRequest",
      "KeyEvent"
    ])
    expect(server.received().every((r) => r.connection === 1)).toBe(true)
    c.socket.end()
  })

  test("closes a connection on a protocol error and records it", async () => {
    const server = StandInVncServer.start()
    servers.push(server)
    const c = await connect(server)
    c.socket.write(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"))
    await c.until(() => c.closed())
    expect(server.errors()[0]).toMatchObject({ direction: "client" })
    expect(server.received()).toEqual([])
  })
})
