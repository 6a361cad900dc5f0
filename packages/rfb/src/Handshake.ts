/**
 * Both sides of an RFB 3.8 handshake with security None, in the order a
 * real client and server send them, up to and including ServerInit: for
 * test peers and benches that need a connection past the handshake.
 */
import * as Bytes from "./Bytes.ts"
import * as ClientMessages from "./ClientMessages.ts"
import { securityNone } from "./RfbConnection.ts"
import type { Direction } from "./RfbMessage.ts"
import * as RfbVersion from "./RfbVersion.ts"

export type Step = readonly [Direction, Uint8Array]

/** `clientInit`: the client's ClientInit and anything it sends right after, before ServerInit arrives. */
export const securityNone38 = (
  serverInit: Uint8Array,
  clientInit = ClientMessages.clientInit(true)
): ReadonlyArray<Step> => [
  ["server", RfbVersion.encode("3.8")],
  ["client", ClientMessages.protocolVersion("3.8")],
  ["server", Uint8Array.of(1, securityNone)],
  ["client", ClientMessages.securityType(securityNone)],
  ["server", Bytes.u32(0)],
  ["client", clientInit],
  ["server", serverInit]
]
