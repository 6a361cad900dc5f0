/**
 * @streamspace/rfb — the RFB (VNC) protocol, as far as StreamSpace needs it:
 * an incremental parser of both directions of a connection that yields
 * complete messages with direction, bytes and arrival time (client messages
 * whole; the server's stream framed as it passes, ServerCutText whole — the
 * VNC proxy filters on it; recording and DLP plugins read the same stream),
 * client and server messages as bytes, SetEncodings rewriting to what the
 * parser can frame, and a small real RFB server for the simulated runtime
 * and tests.
 */
export * as Bytes from "./Bytes.ts"
export * as ClientMessages from "./ClientMessages.ts"
export * as Handshake from "./Handshake.ts"
export * as PixelFormat from "./PixelFormat.ts"
export * as RfbConnection from "./RfbConnection.ts"
export * as RfbEncodings from "./RfbEncodings.ts"
export * as RfbMessage from "./RfbMessage.ts"
export { RfbProtocolError } from "./RfbProtocolError.ts"
export * as RfbTap from "./RfbTap.ts"
export * as RfbVersion from "./RfbVersion.ts"
export * as ServerMessages from "./ServerMessages.ts"
export * as StandInVncServer from "./StandInVncServer.ts"
