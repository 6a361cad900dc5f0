/** Password hashing: argon2id through Bun.password (verification also accepts the other formats Bun reads, e.g. bcrypt). */
import { Effect } from "effect"

export const hashPassword = (password: string) =>
  Effect.promise(() => Bun.password.hash(password, { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 }))

export const verifyPassword = (password: string, hash: string) =>
  Effect.promise(() => Bun.password.verify(password, hash).catch(() => false))
