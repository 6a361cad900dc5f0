/**
 * The stream tap: what the VNC proxy parsed of a session's connections,
 * handed to subscribers (the session recorder, DLP) without ever slowing
 * the user's stream.
 *
 * The proxy registers every connection (`open`) and hands each parsed
 * message to its `ConnectionTap`; while no subscriber watches the session
 * `active` is false and messages after the handshake are not even looked at.
 * A subscriber (`subscribe`) gets, per connection of its session:
 *
 * - `Connected` with the connection's preamble: the handshake messages
 *   (server ProtocolVersion … ServerInit, client ProtocolVersion …
 *   ClientInit) and the latest SetPixelFormat and SetEncodings, so a
 *   subscriber that arrives mid-connection can still decode;
 * - `Message` for each message after that, both directions, with a
 *   monotonic time `t` (ms, `performance.timeOrigin + performance.now()`);
 * - `Disconnected` when the connection ends.
 *
 * Back-pressure: each subscriber has a bounded buffer (`maxBufferedBytes`,
 * default 8 MiB of message bytes). The proxy only appends; it never waits.
 * A subscriber that lets its buffer fill is dropped: its buffer is replaced
 * by one final `Dropped` event and it gets nothing more (a recorder turns
 * that into "recording failed").
 *
 * Clipboard: a subscriber may pass `clipboard`, a synchronous filter run on
 * every clipboard transfer before the proxy forwards it, both ways: a
 * client → server ClientCutText (a paste into the desktop, context
 * `direction: "client"`) and a server → client ServerCutText (a copy out of
 * the desktop, `direction: "server"`). It answers `"pass"`, `"drop"` (not
 * forwarded) or `{ replace }` (forwarded with that Latin-1 text). Filters
 * run in subscription order, each on the previous one's result; a filter
 * that throws drops the message (fails closed). Subscribers see the
 * message as forwarded (after the filters).
 *
 * Injection: `inject` sends one FramebufferUpdateRequest (nothing else is
 * accepted) to the session's desktop over every connection past its
 * handshake (a recorder asks for full, non-incremental updates for
 * keyframes); the answer reaches the browser too, which is harmless.
 */
import { Context } from "effect"
import * as Bytes from "./Bytes.ts"
import type { ClientMessageType, Direction, RfbMessage, ServerMessageType } from "./RfbMessage.ts"

export const defaultMaxBufferedBytes = 8 * 1024 * 1024

export interface TapConnectionInfo {
  readonly sessionId: string
  /** Unique per proxied connection. */
  readonly connectionId: string
  /** The connecting user, when known. */
  readonly userId: string | null
  /** A view share: its input is not forwarded (and not tapped). */
  readonly viewOnly: boolean
  /** Monotonic ms at which the connection opened. */
  readonly openedAt: number
}

export interface TapMessage {
  readonly direction: Direction
  readonly type: ClientMessageType | ServerMessageType
  readonly bytes: Uint8Array
  /** Monotonic ms (`performance.timeOrigin + performance.now()`) at which the proxy relayed it. */
  readonly t: number
}

export type TapEvent =
  | {
      readonly _tag: "Connected"
      readonly info: TapConnectionInfo
      readonly t: number
      readonly preamble: ReadonlyArray<TapMessage>
    }
  | { readonly _tag: "Message"; readonly connectionId: string; readonly message: TapMessage }
  | { readonly _tag: "Disconnected"; readonly connectionId: string; readonly t: number }
  /** Final: the subscriber's buffer overflowed (or the hub was told to drop it); nothing follows. */
  | { readonly _tag: "Dropped"; readonly t: number; readonly reason: string }

export type ClipboardVerdict = "pass" | "drop" | { readonly replace: string }

export interface ClipboardContext {
  /** Who sent the text: `"client"` pastes into the desktop (ClientCutText), `"server"` copies out of it (ServerCutText). */
  readonly direction: Direction
  readonly info: TapConnectionInfo
}

export interface SubscribeOptions {
  readonly sessionId: string
  /** Bytes of messages the subscriber may have waiting before it is dropped. Default 8 MiB. */
  readonly maxBufferedBytes?: number
  /** Synchronous filter over ClientCutText and ServerCutText (Latin-1 text), before the proxy forwards them. */
  readonly clipboard?: (text: string, context: ClipboardContext) => ClipboardVerdict
  /** A name for logs and the `Dropped` reason. */
  readonly name?: string
}

export interface TapSubscription {
  /** The next events, as soon as there are any; an empty array once the subscription ended (closed or dropped). */
  readonly next: () => Promise<ReadonlyArray<TapEvent>>
  /** Sends a FramebufferUpdateRequest over the session's open connections; how many took it. */
  readonly inject: (framebufferUpdateRequest: Uint8Array) => number
  /** The session's open connections. */
  readonly connections: () => ReadonlyArray<TapConnectionInfo>
  readonly state: () => "open" | "dropped" | "closed"
  readonly close: () => void
}

/** The proxy's side of one connection. */
export interface ConnectionTap {
  /** True while a subscriber watches this connection's session. */
  readonly active: () => boolean
  /** Every message the proxy forwards (cheap when inactive: handshake bookkeeping only). */
  readonly record: (message: RfbMessage) => void
  /** A ClientCutText's (`client`) or ServerCutText's (`server`) bytes after the subscribers' filters, or undefined when one dropped it. */
  readonly clipboard: (direction: Direction, message: Uint8Array) => Uint8Array | undefined
  readonly close: () => void
}

export const now = (): number => performance.timeOrigin + performance.now()

interface Subscriber {
  readonly options: SubscribeOptions
  readonly max: number
  queue: Array<TapEvent>
  bytes: number
  state: "open" | "dropped" | "closed"
  wake: (() => void) | undefined
}

interface Connection {
  readonly info: TapConnectionInfo
  readonly send: (bytes: Uint8Array) => void
  readonly handshake: Array<TapMessage>
  pixelFormat: TapMessage | undefined
  encodings: TapMessage | undefined
  ready: boolean
}

export interface TapHubShape {
  /** Proxy: registers a connection; `send` writes client bytes to the session's desktop. */
  readonly open: (info: TapConnectionInfo, send: (bytes: Uint8Array) => void) => ConnectionTap
  readonly subscribe: (options: SubscribeOptions) => TapSubscription
  /** Sessions with at least one subscriber (for tests and metrics). */
  readonly watched: () => ReadonlyArray<string>
}

export const makeHub = (): TapHubShape => {
  const subscribers = new Map<string, Set<Subscriber>>()
  const connections = new Map<string, Set<Connection>>()

  const deliver = (sub: Subscriber, event: TapEvent, size: number) => {
    if (sub.state !== "open") return
    if (sub.bytes + size > sub.max) {
      sub.state = "dropped"
      sub.queue = [
        {
          _tag: "Dropped",
          t: now(),
          reason: `${sub.options.name ?? "subscriber"} fell behind: more than ${sub.max} bytes waiting`
        }
      ]
      sub.bytes = 0
      subscribers.get(sub.options.sessionId)?.delete(sub)
      if (subscribers.get(sub.options.sessionId)?.size === 0) subscribers.delete(sub.options.sessionId)
    } else {
      sub.queue.push(event)
      sub.bytes += size
    }
    const wake = sub.wake
    sub.wake = undefined
    wake?.()
  }

  const broadcast = (sessionId: string, event: TapEvent, size: number) => {
    const subs = subscribers.get(sessionId)
    if (subs) for (const sub of [...subs]) deliver(sub, event, size)
  }

  const preambleOf = (c: Connection) => [
    ...c.handshake,
    ...(c.pixelFormat ? [c.pixelFormat] : []),
    ...(c.encodings ? [c.encodings] : [])
  ]

  const sizeOf = (messages: ReadonlyArray<TapMessage>) => messages.reduce((n, m) => n + m.bytes.length, 0)

  return {
    open: (info, send) => {
      const c: Connection = { info, send, handshake: [], pixelFormat: undefined, encodings: undefined, ready: false }
      const set = connections.get(info.sessionId) ?? new Set()
      set.add(c)
      connections.set(info.sessionId, set)
      broadcast(info.sessionId, { _tag: "Connected", info, t: now(), preamble: [] }, 0)
      let closed = false
      return {
        active: () => subscribers.has(info.sessionId),
        record: (message) => {
          const tapped: TapMessage = {
            direction: message.direction,
            type: message.type,
            bytes: message.bytes,
            t: now()
          }
          if (message.type === "SetPixelFormat") c.pixelFormat = tapped
          else if (message.type === "SetEncodings") c.encodings = tapped
          else if (!c.ready) {
            if (message.type !== "ServerData") c.handshake.push(tapped)
            if (message.type === "ServerInit") c.ready = true
          }
          if (subscribers.has(info.sessionId))
            broadcast(
              info.sessionId,
              { _tag: "Message", connectionId: info.connectionId, message: tapped },
              tapped.bytes.length
            )
        },
        clipboard: (direction, message) => {
          const subs = subscribers.get(info.sessionId)
          if (!subs) return message
          let text = Bytes.latin1Text(message.subarray(8))
          let changed = false
          for (const sub of subs) {
            const filter = sub.options.clipboard
            if (!filter) continue
            let verdict: ClipboardVerdict
            try {
              verdict = filter(text, { direction, info })
            } catch {
              return undefined
            }
            if (verdict === "drop") return undefined
            if (verdict !== "pass") {
              text = verdict.replace
              changed = true
            }
          }
          return changed ? Bytes.cutText(direction === "client" ? 6 : 3, text) : message
        },
        close: () => {
          if (closed) return
          closed = true
          set.delete(c)
          if (set.size === 0) connections.delete(info.sessionId)
          broadcast(info.sessionId, { _tag: "Disconnected", connectionId: info.connectionId, t: now() }, 0)
        }
      }
    },
    subscribe: (options) => {
      const sub: Subscriber = {
        options,
        max: options.maxBufferedBytes ?? defaultMaxBufferedBytes,
        queue: [],
        bytes: 0,
        state: "open",
        wake: undefined
      }
      const set = subscribers.get(options.sessionId) ?? new Set()
      set.add(sub)
      subscribers.set(options.sessionId, set)
      // Connections already open: their preamble first, so the subscriber can decode what follows.
      for (const c of connections.get(options.sessionId) ?? []) {
        const preamble = preambleOf(c)
        deliver(sub, { _tag: "Connected", info: c.info, t: now(), preamble }, sizeOf(preamble))
      }
      const end = () => {
        if (sub.state === "open") sub.state = "closed"
        subscribers.get(options.sessionId)?.delete(sub)
        if (subscribers.get(options.sessionId)?.size === 0) subscribers.delete(options.sessionId)
        const wake = sub.wake
        sub.wake = undefined
        wake?.()
      }
      return {
        next: () => {
          if (sub.queue.length > 0) {
            const batch = sub.queue
            sub.queue = []
            sub.bytes = 0
            return Promise.resolve(batch)
          }
          if (sub.state !== "open") return Promise.resolve([])
          return new Promise<ReadonlyArray<TapEvent>>((resolve) => {
            sub.wake = () => {
              const batch = sub.queue
              sub.queue = []
              sub.bytes = 0
              resolve(batch)
            }
          })
        },
        inject: (request) => {
          if (sub.state !== "open" || request.length !== 10 || request[0] !== 3) return 0
          let sent = 0
          for (const c of connections.get(options.sessionId) ?? []) {
            if (!c.ready) continue
            c.send(request)
            sent++
          }
          return sent
        },
        connections: () => [...(connections.get(options.sessionId) ?? [])].map((c) => c.info),
        state: () => sub.state,
        close: end
      }
    },
    watched: () => [...subscribers.keys()]
  }
}

/**
 * The process's hub. A Reference with a default, so the proxy and the
 * kernel meet on one hub without wiring; a platform may provide its own.
 */
export class TapHub extends Context.Reference<TapHub>()("@streamspace/rfb/TapHub", {
  defaultValue: makeHub
}) {}
