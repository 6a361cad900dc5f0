/** Quotas' domain as Schemas and types: limits per user or group (`null`: no limit), usage and requests. */
import { Schema } from "effect"

/** `integer` columns hold at most 2^31 - 1; storage (bytes) is a `bigint`. */
const Limit = Schema.NullOr(Schema.Int.pipe(Schema.between(0, 2_147_483_647)))
const StorageLimit = Schema.NullOr(Schema.Int.pipe(Schema.nonNegative()))

export class Quota extends Schema.Class<Quota>("Quota")({
  maxSessions: Limit,
  maxCpu: Limit,
  maxMemory: Limit,
  maxStorage: StorageLimit
}) {}

export const QuotaInput = Schema.Struct({
  maxSessions: Schema.optionalWith(Limit, { default: () => null }),
  maxCpu: Schema.optionalWith(Limit, { default: () => null }),
  maxMemory: Schema.optionalWith(Limit, { default: () => null }),
  maxStorage: Schema.optionalWith(StorageLimit, { default: () => null })
})

export const unlimited = new Quota({ maxSessions: null, maxCpu: null, maxMemory: null, maxStorage: null })

export type Scope = "user" | "group"

/** What a user holds now: live sessions, the cpu and memory of those not hibernated, stored bytes. */
export interface Usage {
  readonly sessions: number
  readonly cpu: number
  readonly memory: number
  readonly storage: number
}

/** What an action adds on top of the usage. */
export interface Request {
  readonly sessions: number
  readonly cpu: number
  readonly memory: number
  readonly storage: number
}

/** A quota with whom it binds: the user's own, or one of their groups'. */
export interface ScopedQuota {
  readonly scope: Scope
  readonly scopeId: string
  readonly quota: Quota
}
