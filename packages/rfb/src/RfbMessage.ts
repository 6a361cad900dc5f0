/**
 * What the RFB parser yields: one complete protocol message, which side
 * sent it, its exact bytes and when its last byte arrived. Recording and
 * DLP consumers read the same stream the VNC proxy forwards.
 */

export type Direction = "client" | "server"

/** Client → server messages: the handshake, then the messages of RFC 6143 §7.5 the parser accepts. */
export type ClientMessageType =
  | "ProtocolVersion"
  | "SecurityType"
  | "VncAuthResponse"
  | "ClientInit"
  | "SetPixelFormat"
  | "SetEncodings"
  | "FramebufferUpdateRequest"
  | "KeyEvent"
  | "PointerEvent"
  | "ClientCutText"

/**
 * Server → client messages: the handshake is parsed message by message.
 * After ServerInit the server's messages are followed by the framer but
 * passed on as they arrive: `ServerData` is a chunk of FramebufferUpdate,
 * SetColourMapEntries and Bell bytes as it came (it may start or end inside
 * a message; concatenated in order they are the stream), and
 * `ServerCutText` is one whole ServerCutText message (the desktop's
 * clipboard), which is never part of a `ServerData`.
 */
export type ServerMessageType =
  | "ProtocolVersion"
  | "SecurityTypes"
  | "VncAuthChallenge"
  | "SecurityResult"
  | "ServerInit"
  | "ServerData"
  | "ServerCutText"

export type RfbMessage =
  | {
      readonly direction: "client"
      readonly type: ClientMessageType
      readonly bytes: Uint8Array
      /** Epoch milliseconds at which the message's last byte arrived. */
      readonly at: number
    }
  | {
      readonly direction: "server"
      readonly type: ServerMessageType
      readonly bytes: Uint8Array
      readonly at: number
    }

/** Client message type bytes after the handshake, with their names. */
export const clientMessageTypes: ReadonlyMap<number, ClientMessageType> = new Map([
  [0, "SetPixelFormat"],
  [2, "SetEncodings"],
  [3, "FramebufferUpdateRequest"],
  [4, "KeyEvent"],
  [5, "PointerEvent"],
  [6, "ClientCutText"]
])

/**
 * Extensions a client may send once a server announced them (RFC 6143 §7.5
 * and the community registry). The parser refuses each by name; any other
 * unknown type is refused too.
 */
export const refusedClientMessageTypes: ReadonlyMap<number, string> = new Map([
  [7, "FileTransfer (UltraVNC)"],
  [8, "SetScale (UltraVNC)"],
  [9, "SetServerInput (UltraVNC)"],
  [10, "SetSW (UltraVNC)"],
  [11, "TextChat (UltraVNC)"],
  [127, "VMware"],
  [150, "EnableContinuousUpdates"],
  [248, "ClientFence"],
  [250, "xvp"],
  [251, "SetDesktopSize"],
  [252, "tight"],
  [253, "gii"],
  [254, "VMware"],
  [255, "QEMU client message"]
])

/** Client messages that act on the desktop: keys, pointer, clipboard. */
export const inputTypes: ReadonlySet<ClientMessageType> = new Set(["KeyEvent", "PointerEvent", "ClientCutText"])

/** Whether a client message acts on the desktop (a view-only viewer's proxy drops these). */
export const carriesInput = (message: RfbMessage): boolean =>
  message.direction === "client" && inputTypes.has(message.type)
