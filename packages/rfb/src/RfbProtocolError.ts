/** A byte stream that is not RFB as this parser accepts it; the connection cannot go on. */
import { Data } from "effect"
import type { Direction } from "./RfbMessage.ts"

export class RfbProtocolError extends Data.TaggedError("RfbProtocolError")<{
  /** Which side sent the offending bytes. */
  readonly direction: Direction
  readonly message: string
}> {}
