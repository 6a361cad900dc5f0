/**
 * A small, real RFB 3.8 server on 127.0.0.1: security None, a framebuffer
 * of a few pixels drawn in the client's pixel format, full raw updates for
 * non-incremental FramebufferUpdateRequests (incremental ones are answered
 * once input changed the desktop). It parses every client message with
 * `RfbConnection`, keeps them (`received`) and closes a connection on the
 * first protocol error. The simulated session runtime runs one per running
 * session; tests read what it received.
 */
import type { Socket, TCPSocketListener } from "bun"
import { Either } from "effect"
import { u32, writeQueued } from "./Bytes.ts"
import * as PixelFormat from "./PixelFormat.ts"
import * as RfbConnection from "./RfbConnection.ts"
import type { RfbMessage } from "./RfbMessage.ts"
import type { RfbProtocolError } from "./RfbProtocolError.ts"
import * as ServerMessages from "./ServerMessages.ts"
import * as RfbVersion from "./RfbVersion.ts"

export interface StandInVncServerOptions {
  readonly width?: number
  readonly height?: number
  /** The desktop name in ServerInit. */
  readonly name?: string
}

export interface ReceivedMessage {
  /** Which connection sent it (1 = the first accepted). */
  readonly connection: number
  readonly message: RfbMessage
}

export interface StandInVncServer {
  readonly host: string
  readonly port: number
  readonly width: number
  readonly height: number
  /** Every client message received, all connections, in arrival order. */
  readonly received: () => ReadonlyArray<ReceivedMessage>
  /** Protocol errors that closed a connection. */
  readonly errors: () => ReadonlyArray<RfbProtocolError>
  /** Connections accepted so far. */
  readonly connections: () => number
  /** Stops listening and closes every connection. */
  readonly stop: () => void
}

interface Connection {
  readonly id: number
  readonly rfb: RfbConnection.RfbConnection
  format: PixelFormat.PixelFormat
  /** Input arrived since the last update: the next incremental request gets one. */
  changed: boolean
  /** An incremental request waits for a change. */
  waiting: boolean
  /** Bytes the socket did not take yet (written on drain). */
  unsent: Array<Uint8Array>
}

/** A pixel of a diagonal gradient, in `format`. */
const pixel = (format: PixelFormat.PixelFormat, x: number, y: number, width: number, height: number) => {
  const scale = (value: number, max: number) => Math.round((value / 255) * max)
  const r = Math.round((255 * x) / Math.max(1, width - 1))
  const g = Math.round((255 * y) / Math.max(1, height - 1))
  return format.trueColour
    ? (scale(r, format.redMax) << format.redShift) |
        (scale(g, format.greenMax) << format.greenShift) |
        (scale(128, format.blueMax) << format.blueShift)
    : (x + y) & 0xff
}

export const start = (options: StandInVncServerOptions = {}): StandInVncServer => {
  const width = options.width ?? 64
  const height = options.height ?? 48
  const name = options.name ?? "StreamSpace stand-in desktop"
  const received: Array<ReceivedMessage> = []
  const errors: Array<RfbProtocolError> = []
  const open = new Set<Socket<Connection>>()
  let accepted = 0

  const serverInit = () => ServerMessages.serverInit({ width, height, name })

  /** A FramebufferUpdate with one raw rectangle: the requested area, clipped to the desktop. */
  const update = (format: PixelFormat.PixelFormat, request: Uint8Array) => {
    const view = new DataView(request.buffer, request.byteOffset, request.byteLength)
    const x = Math.min(view.getUint16(2), width)
    const y = Math.min(view.getUint16(4), height)
    const w = Math.min(view.getUint16(6), width - x)
    const h = Math.min(view.getUint16(8), height - y)
    const size = format.bitsPerPixel / 8
    const out = new Uint8Array(4 + 12 + w * h * size)
    const data = new DataView(out.buffer)
    data.setUint16(2, 1)
    data.setUint16(4, x)
    data.setUint16(6, y)
    data.setUint16(8, w)
    data.setUint16(10, h)
    data.setInt32(12, 0)
    let at = 16
    for (let row = y; row < y + h; row++) {
      for (let col = x; col < x + w; col++) {
        const value = pixel(format, col, row, width, height)
        if (size === 1) data.setUint8(at, value)
        else if (size === 2) data.setUint16(at, value, !format.bigEndian)
        else data.setUint32(at, value >>> 0, !format.bigEndian)
        at += size
      }
    }
    return out
  }

  const flush = (socket: Socket<Connection>) => writeQueued(socket, socket.data.unsent)

  const fail = (socket: Socket<Connection>, error: RfbProtocolError) => {
    if (!errors.includes(error)) errors.push(error)
    socket.end()
  }

  /** Sends server bytes, telling the parser first (they may release client messages waiting on the handshake). */
  const send = (socket: Socket<Connection>, bytes: Uint8Array, queue: Array<RfbMessage>) => {
    const parsed = socket.data.rfb.push("server", bytes)
    if (Either.isLeft(parsed)) return fail(socket, parsed.left)
    queue.push(...parsed.right)
    socket.data.unsent.push(bytes)
    flush(socket)
  }

  const answer = (socket: Socket<Connection>, message: RfbMessage, queue: Array<RfbMessage>) => {
    const conn = socket.data
    switch (message.type) {
      case "ProtocolVersion":
        return send(socket, conn.rfb.version() === "3.3" ? u32(RfbConnection.securityNone) : Uint8Array.of(1, 1), queue)
      case "SecurityType":
        return conn.rfb.version() === "3.8" ? send(socket, u32(0), queue) : undefined
      case "ClientInit":
        return send(socket, serverInit(), queue)
      case "SetPixelFormat": {
        const format = PixelFormat.decode(message.bytes.subarray(4))
        if (format) conn.format = format
        else socket.end()
        return
      }
      case "FramebufferUpdateRequest": {
        const incremental = message.bytes[1] !== 0
        if (incremental && !conn.changed) {
          conn.waiting = true
          return
        }
        conn.changed = false
        conn.waiting = false
        return send(socket, update(conn.format, message.bytes), queue)
      }
      case "KeyEvent":
      case "PointerEvent":
      case "ClientCutText": {
        conn.changed = true
        if (!conn.waiting) return
        conn.waiting = false
        conn.changed = false
        return send(socket, update(conn.format, Uint8Array.of(3, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff)), queue)
      }
      default:
        return
    }
  }

  const handle = (socket: Socket<Connection>, first: ReadonlyArray<RfbMessage>) => {
    const queue = [...first]
    for (let message = queue.shift(); message !== undefined; message = queue.shift()) {
      if (message.direction !== "client") continue
      received.push({ connection: socket.data.id, message })
      answer(socket, message, queue)
    }
  }

  const listener: TCPSocketListener<Connection> = Bun.listen<Connection>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open: (socket) => {
        open.add(socket)
        socket.data = {
          id: ++accepted,
          rfb: RfbConnection.make(),
          format: PixelFormat.rgb888,
          changed: false,
          waiting: false,
          unsent: []
        }
        send(socket, RfbVersion.encode("3.8"), [])
      },
      data: (socket, chunk) => {
        const parsed = socket.data.rfb.push("client", chunk)
        if (Either.isLeft(parsed)) return fail(socket, parsed.left)
        handle(socket, parsed.right)
      },
      drain: (socket) => flush(socket),
      close: (socket) => void open.delete(socket),
      error: (socket) => void open.delete(socket)
    }
  })

  return {
    host: "127.0.0.1",
    port: listener.port,
    width,
    height,
    received: () => received,
    errors: () => errors,
    connections: () => accepted,
    stop: () => {
      listener.stop(true)
      for (const socket of open) socket.terminate()
      open.clear()
    }
  }
}
