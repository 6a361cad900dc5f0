/**
 * RFC 6238 codes (SHA-1, 6 digits, 30-second steps) from a base32 secret, written independently of the
 * server's implementation: tests enrol a second factor through the API and sign in with these.
 */
import { createHmac } from "node:crypto"

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

/** The code for the step holding `atMs` (plus `offsetSteps`): the platform's simulated time, or `Date.now()`. */
export const codeAt = (secretBase32: string, atMs: number, offsetSteps = 0): string => {
  let bits = ""
  for (const ch of secretBase32.replace(/=+$/, "")) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0")
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)))
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 30_000) + offsetSteps))
  const h = createHmac("sha1", key).update(counter).digest()
  const o = h[19]! & 0xf
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0")
}

/** The code for now on the wall clock. */
export const codeNow = (secretBase32: string, offsetSteps = 0): string => codeAt(secretBase32, Date.now(), offsetSteps)
