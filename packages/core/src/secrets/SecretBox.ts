/**
 * Encrypts secrets at rest (webhook signing secrets, integration and plugin
 * secrets) with AES-256-GCM. The key comes from `secretsKey` in the config,
 * or is generated on first boot and kept in the settings table: then a
 * database dump alone reveals the secrets, so production should configure it.
 */
import { Context, Effect, Layer, Redacted } from "effect"
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto"
import { ServerConfig } from "../ServerConfig.ts"
import { Settings } from "../settings/Settings.ts"

/** What a stored secret reads as; sent back on update it means "keep the stored value". */
export const MASK = "********"

export class SecretBox extends Context.Tag("@streamspace/core/SecretBox")<
  SecretBox,
  {
    readonly seal: (plaintext: string) => string
    /** Throws on a tampered or foreign ciphertext: that is a defect, not user input. */
    readonly open: (sealed: string) => string
  }
>() {}

const VERSION = "v1"

/** How every sealed value starts; nothing else stored in a sealed column does (base32, URLs, tokens). */
export const sealedPrefix = `${VERSION}.`

/** Whether `stored` was sealed (values written in clear by older versions are not). */
export const isSealed = (stored: string): boolean => stored.startsWith(sealedPrefix)

export const make = (secret: string) => {
  const key = createHash("sha256").update(secret).digest()
  return {
    seal: (plaintext: string) => {
      const iv = randomBytes(12)
      const cipher = createCipheriv("aes-256-gcm", key, iv)
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
      return [
        VERSION,
        iv.toString("base64url"),
        cipher.getAuthTag().toString("base64url"),
        body.toString("base64url")
      ].join(".")
    },
    open: (sealed: string) => {
      const [version, iv, tag, body] = sealed.split(".")
      if (version !== VERSION || !iv || !tag || body === undefined) throw new Error("not a sealed secret")
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"))
      decipher.setAuthTag(Buffer.from(tag, "base64url"))
      return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8")
    }
  }
}

export const SecretBoxLive = Layer.effect(
  SecretBox,
  Effect.gen(function* () {
    const config = yield* ServerConfig
    if (config.secretsKey) return make(Redacted.value(config.secretsKey))
    const settings = yield* Settings
    return make(yield* settings.getOrCreate("secrets.key", () => randomBytes(32).toString("base64url")))
  })
)
