/**
 * Client → server messages as bytes (RFC 6143 §7.1–7.5): for clients,
 * test peers and anything that must speak RFB to a server.
 */
import * as Bytes from "./Bytes.ts"
import * as PixelFormat from "./PixelFormat.ts"
import * as RfbEncodings from "./RfbEncodings.ts"
import * as RfbVersion from "./RfbVersion.ts"

export const protocolVersion = (version: RfbVersion.RfbVersion = "3.8"): Uint8Array => RfbVersion.encode(version)

/** The security type a 3.7/3.8 client chooses. */
export const securityType = (type: number): Uint8Array => Uint8Array.of(type)

/** `shared`: other clients stay connected. */
export const clientInit = (shared = true): Uint8Array => Uint8Array.of(shared ? 1 : 0)

export const setPixelFormat = (format: PixelFormat.PixelFormat): Uint8Array => {
  const bytes = new Uint8Array(20)
  bytes.set(PixelFormat.encode(format), 4)
  return bytes
}

export const setEncodings = (encodings: ReadonlyArray<number>): Uint8Array => RfbEncodings.encode(encodings)

export interface UpdateRequest {
  readonly incremental: boolean
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

export const framebufferUpdateRequest = (request: UpdateRequest): Uint8Array => {
  const bytes = new Uint8Array(10)
  const view = new DataView(bytes.buffer)
  view.setUint8(0, 3)
  view.setUint8(1, request.incremental ? 1 : 0)
  view.setUint16(2, request.x)
  view.setUint16(4, request.y)
  view.setUint16(6, request.width)
  view.setUint16(8, request.height)
  return bytes
}

/** `keysym`: an X11 keysym (0x61 is "a", 0xff0d Return). */
export const keyEvent = (down: boolean, keysym: number): Uint8Array => {
  const bytes = new Uint8Array(8)
  const view = new DataView(bytes.buffer)
  view.setUint8(0, 4)
  view.setUint8(1, down ? 1 : 0)
  view.setUint32(4, keysym)
  return bytes
}

/** `buttons`: bit 0 left, 1 middle, 2 right, 3/4 wheel. */
export const pointerEvent = (buttons: number, x: number, y: number): Uint8Array => {
  const bytes = new Uint8Array(6)
  const view = new DataView(bytes.buffer)
  view.setUint8(0, 5)
  view.setUint8(1, buttons)
  view.setUint16(2, x)
  view.setUint16(4, y)
  return bytes
}

/** Clipboard text, Latin-1 as the protocol says (characters above U+00FF become "?"). */
export const clientCutText = (text: string): Uint8Array => Bytes.cutText(6, text)
