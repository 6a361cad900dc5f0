/**
 * An incremental parser of one RFB 3.3/3.7/3.8 connection, both directions,
 * independent of how the bytes are split into chunks. Feed it what each
 * side sent (`push`); it returns the messages those bytes complete, each
 * with its exact bytes, so a proxy forwards only what it has classified.
 *
 * The client's side depends on the server's: a 3.3 client's next bytes are
 * a VNC-authentication response or ClientInit depending on the security
 * type the server decided; a 3.7/3.8 client must choose a type the server
 * offered. So client bytes wait in the parser until the server's part of the
 * handshake allows them (no client message at all before the server's
 * ProtocolVersion), and the parser follows the handshake only through the
 * security types whose bytes it knows: None (1) and VNC authentication (2).
 *
 * After the handshake, client messages are split by type and exact length
 * (RFC 6143 §7.5): SetPixelFormat, SetEncodings, FramebufferUpdateRequest,
 * KeyEvent, PointerEvent, ClientCutText (at most `maxClientCutText` bytes).
 * Extension messages (`refusedClientMessageTypes`) and unknown types are
 * protocol errors: their lengths are not known, so nothing after them could
 * be classified.
 *
 * Server bytes after ServerInit go through the server framer
 * (internal/ServerFramer.ts): it follows the server's messages (RFC 6143
 * §7.6) by their headers, in the pixel format of ServerInit and then of the
 * client's SetPixelFormat, and passes each chunk on at once as `ServerData`
 * — a large FramebufferUpdate streams, it is never held until complete —
 * except a ServerCutText, which it collects whole and yields as its own
 * message so the proxy can filter the desktop's clipboard (one over
 * `maxServerCutText` bytes is dropped, never forwarded). A message type or encoding the framer
 * cannot measure is a protocol error (SetEncodings rewritten by
 * `RfbEncodings.withoutRefused` keeps servers to what it can).
 * A protocol error is final: every later `push` returns it again.
 */
import { Either } from "effect"
import { ByteQueue } from "./internal/ByteQueue.ts"
import * as ServerFramer from "./internal/ServerFramer.ts"
import * as PixelFormat from "./PixelFormat.ts"
import {
  type ClientMessageType,
  clientMessageTypes,
  type Direction,
  type RfbMessage,
  refusedClientMessageTypes,
  type ServerMessageType
} from "./RfbMessage.ts"
import { RfbProtocolError } from "./RfbProtocolError.ts"
import * as RfbVersion from "./RfbVersion.ts"

export const securityNone = 1
export const securityVncAuth = 2

export const defaultMaxClientCutText = 1024 * 1024
export const defaultMaxServerCutText = 1024 * 1024
/** Bytes a side may send ahead of what the handshake allows (a real client sends at most 30 in the handshake). */
export const defaultMaxPendingBytes = 1024 * 1024
/** Longest failure reason or desktop name a server may send in the handshake. */
const maxTextBytes = 64 * 1024

export interface RfbConnectionOptions {
  /** Longest ClientCutText (bytes of text) accepted; longer is a protocol error. Default 1 MiB. */
  readonly maxClientCutText?: number
  /** Longest ServerCutText (bytes of text) forwarded; a longer one is dropped whole. Default 1 MiB. */
  readonly maxServerCutText?: number
  /** Bytes either side may have waiting while the handshake holds them back. Default 1 MiB. */
  readonly maxPendingBytes?: number
  /** Time source for the messages' `at` (epoch ms). Default `Date.now`. */
  readonly clock?: () => number
}

export interface RfbConnection {
  /** Bytes `direction` sent; the messages they complete, in order (possibly of both directions), or the protocol error. */
  readonly push: (direction: Direction, chunk: Uint8Array) => Either.Either<ReadonlyArray<RfbMessage>, RfbProtocolError>
  /** The version the client chose, once it has. */
  readonly version: () => RfbVersion.RfbVersion | undefined
  /** True once ServerInit has passed: both sides exchange normal messages. */
  readonly handshakeComplete: () => boolean
  /** FramebufferUpdate rectangles the server sent so far, per encoding (signed, as in RfbEncodings). */
  readonly serverRectangles: () => ReadonlyMap<number, number>
  /** ServerCutTexts over `maxServerCutText` dropped so far (never forwarded; the connection goes on). */
  readonly droppedServerCutTexts: () => number
}

type ClientPhase = "version" | "security" | "securityChoice" | "authResponse" | "clientInit" | "messages"
type ServerPhase = "version" | "security" | "choice" | "challenge" | "result" | "serverInit" | "data" | "ended"

/** What a step did: messages, a phase change without one ("again"), or nothing until more bytes come (undefined). */
type Step = RfbMessage | ReadonlyArray<RfbMessage> | "again" | undefined

const versionPrefix = "RFB 003.00"

/** Fixed lengths of the client messages after the handshake; SetEncodings and ClientCutText carry their own. */
const fixedLength: Partial<Record<ClientMessageType, number>> = {
  SetPixelFormat: 20,
  FramebufferUpdateRequest: 10,
  KeyEvent: 8,
  PointerEvent: 6
}

export const make = (options: RfbConnectionOptions = {}): RfbConnection => {
  const clock = options.clock ?? Date.now
  const maxClientCutText = options.maxClientCutText ?? defaultMaxClientCutText
  const maxPendingBytes = options.maxPendingBytes ?? defaultMaxPendingBytes
  const maxServerCutText = options.maxServerCutText ?? defaultMaxServerCutText
  const queues: Record<Direction, ByteQueue> = { client: new ByteQueue(), server: new ByteQueue() }
  let clientPhase: ClientPhase = "version"
  let serverPhase: ServerPhase = "version"
  let serverVersion: RfbVersion.RfbVersion | undefined
  let clientVersion: RfbVersion.RfbVersion | undefined
  /** 3.7/3.8: the security types the server offered. */
  let offered: ReadonlyArray<number> | undefined
  /** The security type in force: the client's choice (3.7/3.8) or the server's decision (3.3). */
  let security: number | undefined
  let challenged = false
  let responded = false
  let secured = false
  let initialised = false
  let failure: RfbProtocolError | undefined
  /** The client's latest SetPixelFormat, for a framer not made yet (the client may send it before ServerInit arrives). */
  let clientFormat: PixelFormat.PixelFormat | undefined
  let framer: ServerFramer.ServerFramer | undefined

  const fail = (direction: Direction, message: string): never => {
    throw new RfbProtocolError({ direction, message })
  }

  const client = (type: ClientMessageType, length: number): RfbMessage => {
    const { bytes, at } = queues.client.take(length)
    return { direction: "client", type, bytes, at }
  }
  const server = (type: ServerMessageType, length: number): RfbMessage => {
    const { bytes, at } = queues.server.take(length)
    return { direction: "server", type, bytes, at }
  }

  /** A ProtocolVersion is refused at its first wrong byte: a peer that speaks something else is not waited for. */
  const checkVersionPrefix = (direction: Direction) => {
    const q = queues[direction]
    for (let i = 0; i < Math.min(q.length, versionPrefix.length); i++) {
      if (q.byteAt(i) !== versionPrefix.charCodeAt(i))
        fail(direction, `does not speak RFB: expected "RFB 003.00x\\n", got byte ${q.byteAt(i)} at offset ${i}`)
    }
  }

  /** A text the server sends with its length first (failure reasons, the desktop name), at `offset`. */
  const textLength = (offset: number, what: string) => {
    const length = queues.server.u32At(offset)
    if (length > maxTextBytes) fail("server", `${what} of ${length} bytes (at most ${maxTextBytes})`)
    return length
  }

  const clientStep = (): Step => {
    const q = queues.client
    switch (clientPhase) {
      case "version": {
        if (serverVersion === undefined || q.length < 12) return undefined
        const message = client("ProtocolVersion", 12)
        const version = RfbVersion.decode(message.bytes)
        if (version === undefined)
          return fail("client", `not an RFB 3.3/3.7/3.8 ProtocolVersion: ${RfbVersion.describe(message.bytes)}`)
        if (version > serverVersion)
          return fail("client", `asked for RFB ${version}; the server offered ${serverVersion}`)
        clientVersion = version
        clientPhase = version === "3.3" ? "security" : "securityChoice"
        return message
      }
      case "security": {
        // RFB 3.3: the server decides; the client sends nothing until it has.
        if (security === undefined) return undefined
        clientPhase = security === securityVncAuth ? "authResponse" : "clientInit"
        return "again"
      }
      case "securityChoice": {
        if (offered === undefined || q.length < 1) return undefined
        const chosen = q.byteAt(0)
        if (!offered.includes(chosen))
          return fail("client", `chose security type ${chosen}, which the server did not offer (${offered.join(", ")})`)
        if (chosen !== securityNone && chosen !== securityVncAuth)
          return fail("client", `chose security type ${chosen}: only None (1) and VNC authentication (2) are supported`)
        security = chosen
        clientPhase = chosen === securityVncAuth ? "authResponse" : "clientInit"
        return client("SecurityType", 1)
      }
      case "authResponse": {
        if (!challenged || q.length < 16) return undefined
        responded = true
        clientPhase = "clientInit"
        return client("VncAuthResponse", 16)
      }
      case "clientInit": {
        if (!secured || q.length < 1) return undefined
        initialised = true
        clientPhase = "messages"
        return client("ClientInit", 1)
      }
      case "messages": {
        if (q.length < 1) return undefined
        const code = q.byteAt(0)
        const type = clientMessageTypes.get(code)
        if (type === undefined) {
          const extension = refusedClientMessageTypes.get(code)
          return fail(
            "client",
            extension === undefined
              ? `unknown RFB message type ${code}`
              : `RFB extension message ${extension} (type ${code}) is not supported`
          )
        }
        let length = fixedLength[type]
        if (type === "SetEncodings") {
          if (q.length < 4) return undefined
          length = 4 + 4 * q.u16At(2)
        } else if (type === "ClientCutText") {
          if (q.length < 8) return undefined
          const text = q.u32At(4)
          if (text > maxClientCutText)
            return fail("client", `ClientCutText of ${text} bytes (at most ${maxClientCutText})`)
          length = 8 + text
        }
        if (length === undefined || q.length < length) return undefined
        const message = client(type, length)
        if (type === "SetPixelFormat") {
          const format = PixelFormat.decode(message.bytes.subarray(4))
          if (format === undefined)
            return fail("client", `SetPixelFormat with ${message.bytes[4]} bits per pixel (8, 16 or 32)`)
          clientFormat = format
          framer?.setPixelFormat(format)
        }
        return message
      }
    }
  }

  /** A refused connection: the failure reason's length (u32) at `at`, then the reason; the conversation ends. */
  const securityFailure = (at: number): Step => {
    const q = queues.server
    if (q.length < at + 4) return undefined
    const length = at + 4 + textLength(at, "failure reason")
    if (q.length < length) return undefined
    serverPhase = "ended"
    return server("SecurityTypes", length)
  }

  const serverStep = (): Step => {
    const q = queues.server
    switch (serverPhase) {
      case "version": {
        if (q.length < 12) return undefined
        const message = server("ProtocolVersion", 12)
        const version = RfbVersion.decode(message.bytes)
        if (version === undefined)
          return fail("server", `not an RFB 3.3/3.7/3.8 ProtocolVersion: ${RfbVersion.describe(message.bytes)}`)
        serverVersion = version
        serverPhase = "security"
        return message
      }
      case "security": {
        if (clientVersion === undefined) return undefined
        if (clientVersion === "3.3") {
          if (q.length < 4) return undefined
          const type = q.u32At(0)
          if (type === 0) return securityFailure(4)
          if (type !== securityNone && type !== securityVncAuth)
            return fail(
              "server",
              `decided security type ${type}: only None (1) and VNC authentication (2) are supported`
            )
          security = type
          secured = type === securityNone
          serverPhase = type === securityVncAuth ? "challenge" : "serverInit"
          return server("SecurityTypes", 4)
        }
        if (q.length < 1) return undefined
        const count = q.byteAt(0)
        if (count === 0) return securityFailure(1)
        if (q.length < 1 + count) return undefined
        const message = server("SecurityTypes", 1 + count)
        offered = [...message.bytes.subarray(1)]
        if (!offered.includes(securityNone) && !offered.includes(securityVncAuth))
          return fail(
            "server",
            `offers security types ${offered.join(", ")}: only None (1) and VNC authentication (2) are supported`
          )
        serverPhase = "choice"
        return message
      }
      case "choice": {
        if (security === undefined) return undefined
        if (security === securityVncAuth) serverPhase = "challenge"
        else if (clientVersion === "3.8") serverPhase = "result"
        else {
          secured = true
          serverPhase = "serverInit"
        }
        return "again"
      }
      case "challenge": {
        if (q.length < 16) return undefined
        challenged = true
        serverPhase = "result"
        return server("VncAuthChallenge", 16)
      }
      case "result": {
        if ((security === securityVncAuth && !responded) || q.length < 4) return undefined
        if (q.u32At(0) === 0) {
          secured = true
          serverPhase = "serverInit"
          return server("SecurityResult", 4)
        }
        if (clientVersion !== "3.8") {
          serverPhase = "ended"
          return server("SecurityResult", 4)
        }
        if (q.length < 8) return undefined
        const length = 8 + textLength(4, "failure reason")
        if (q.length < length) return undefined
        serverPhase = "ended"
        return server("SecurityResult", length)
      }
      case "serverInit": {
        if (!initialised || q.length < 24) return undefined
        const length = 24 + textLength(20, "desktop name")
        if (q.length < length) return undefined
        const message = server("ServerInit", length)
        const format = PixelFormat.decode(message.bytes.subarray(4, 20))
        if (format === undefined)
          return fail("server", `sent a ServerInit with ${message.bytes[4]} bits per pixel (8, 16 or 32)`)
        framer = ServerFramer.make(clientFormat ?? format, maxServerCutText)
        serverPhase = "data"
        return message
      }
      case "data": {
        if (q.length === 0) return undefined
        const { bytes, at } = q.take(q.length)
        return framer!.push(bytes, at)
      }
      case "ended":
        return q.length === 0 ? undefined : fail("server", "sent bytes after refusing the connection")
    }
  }

  const checkPending = () => {
    if (clientPhase !== "messages" && queues.client.length > maxPendingBytes)
      fail("client", `sent ${queues.client.length} bytes the handshake does not allow yet`)
    if (serverPhase !== "data" && queues.server.length > maxPendingBytes)
      fail("server", `sent ${queues.server.length} bytes the handshake does not allow yet`)
  }

  return {
    push: (direction, chunk) => {
      if (failure) return Either.left(failure)
      queues[direction].push(chunk, clock())
      const out: Array<RfbMessage> = []
      try {
        if ((direction === "client" ? clientPhase : serverPhase) === "version") checkVersionPrefix(direction)
        // A step of one side may unblock the other (the server's SecurityResult lets ClientInit through).
        let progressed = true
        while (progressed) {
          progressed = false
          for (const step of [serverStep, clientStep]) {
            for (let result = step(); result !== undefined; result = step()) {
              progressed = true
              if (result === "again") continue
              if ("direction" in result) out.push(result)
              else out.push(...result)
            }
          }
        }
        checkPending()
      } catch (e) {
        if (!(e instanceof RfbProtocolError)) throw e
        failure = e
        return Either.left(e)
      }
      return Either.right(out)
    },
    version: () => clientVersion,
    handshakeComplete: () => serverPhase === "data" && clientPhase === "messages",
    serverRectangles: () => framer?.rectangles() ?? new Map(),
    droppedServerCutTexts: () => framer?.droppedCutTexts() ?? 0
  }
}
