/**
 * TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) for local accounts,
 * with base32 secrets as authenticator apps expect.
 */
import { createHmac, randomBytes } from "node:crypto"

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

export const base32Encode = (bytes: Uint8Array): string => {
  let bits = 0
  let value = 0
  let out = ""
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31]
  return out
}

export const base32Decode = (text: string): Buffer => {
  const clean = text.replace(/=+$/, "").toUpperCase()
  let bits = 0
  let value = 0
  const out: Array<number> = []
  for (const ch of clean) {
    const idx = alphabet.indexOf(ch)
    if (idx < 0) continue
    value = (value << 5) | idx
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255)
      bits -= 8
    }
  }
  return Buffer.from(out)
}

export const generateSecret = (): string => base32Encode(randomBytes(20))

export const codeAt = (secret: string, counter: number): string => {
  const msg = Buffer.alloc(8)
  msg.writeBigUInt64BE(BigInt(counter))
  const hmac = createHmac("sha1", base32Decode(secret)).update(msg).digest()
  const offset = hmac[hmac.length - 1]! & 0xf
  const binary =
    ((hmac[offset]! & 0x7f) << 24) | (hmac[offset + 1]! << 16) | (hmac[offset + 2]! << 8) | hmac[offset + 3]!
  return String(binary % 1_000_000).padStart(6, "0")
}

export const step = (nowMs: number) => Math.floor(nowMs / 30_000)

/**
 * The time step `code` belongs to, among the current step and one on either side (clock drift), or
 * undefined. The caller accepts a step once (`users.totp_last_step`), so a code cannot be replayed.
 */
export const matchingStep = (secret: string, code: string, nowMs: number): number | undefined => {
  if (!/^\d{6}$/.test(code)) return undefined
  const s = step(nowMs)
  return [s - 1, s, s + 1].find((c) => codeAt(secret, c) === code)
}

export const otpauthUri = (issuer: string, account: string, secret: string): string =>
  `otpauth://totp/${encodeURIComponent(issuer)}:${encodeURIComponent(account)}?secret=${secret}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=6&period=30`
