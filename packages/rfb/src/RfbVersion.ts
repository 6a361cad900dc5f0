/** The RFB versions this package speaks: 3.3, 3.7 and 3.8 (the 12-byte ProtocolVersion message). */

export type RfbVersion = "3.3" | "3.7" | "3.8"

export const versions: ReadonlyArray<RfbVersion> = ["3.3", "3.7", "3.8"]

/** The ProtocolVersion message of `version`: `RFB 003.008\n`. */
export const encode = (version: RfbVersion): Uint8Array => new TextEncoder().encode(`RFB 003.00${version.slice(2)}\n`)

/** The version a 12-byte ProtocolVersion message names, or undefined when it is not one of `versions`. */
export const decode = (bytes: Uint8Array): RfbVersion | undefined => {
  if (bytes.length !== 12) return undefined
  const match = /^RFB 003\.00([378])\n$/.exec(String.fromCharCode(...bytes))
  return match ? (`3.${match[1]}` as RfbVersion) : undefined
}

/** A printable rendering of bytes that should have been a ProtocolVersion, for error messages. */
export const describe = (bytes: Uint8Array): string =>
  JSON.stringify(String.fromCharCode(...bytes.subarray(0, 12)).replace(/[^\x20-\x7e]/g, "?"))
