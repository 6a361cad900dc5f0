/**
 * Token primitives: HS256 JWTs for access tokens, and random high-entropy
 * secrets (refresh tokens, API keys, recovery codes) stored as SHA-256 hashes.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"

export const randomToken = (bytes = 32): string => randomBytes(bytes).toString("base64url")

export const sha256 = (value: string): string => createHash("sha256").update(value).digest("hex")

export const safeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export interface AccessClaims {
  readonly sub: string
  readonly username: string
  readonly iat: number
  readonly exp: number
  readonly jti: string
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
const header = b64({ alg: "HS256", typ: "JWT" })

export const signJwt = (claims: AccessClaims, secret: string): string => {
  const body = `${header}.${b64(claims)}`
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`
}

export type JwtFailure = "malformed" | "bad_signature" | "expired"

export const verifyJwt = (token: string, secret: string, nowSeconds: number): AccessClaims | JwtFailure => {
  const parts = token.split(".")
  if (parts.length !== 3 || parts[0] !== header) return "malformed"
  const expected = createHmac("sha256", secret).update(`${parts[0]}.${parts[1]}`).digest("base64url")
  if (!safeEqual(expected, parts[2]!)) return "bad_signature"
  let claims: unknown
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"))
  } catch {
    return "malformed"
  }
  if (typeof claims !== "object" || claims === null) return "malformed"
  const c = claims as Partial<AccessClaims>
  if (typeof c.sub !== "string" || typeof c.exp !== "number" || typeof c.username !== "string") return "malformed"
  if (c.exp <= nowSeconds) return "expired"
  return c as AccessClaims
}

export const looksLikeJwt = (token: string) => token.split(".").length === 3
