/**
 * What authentication reads about a caller — a user's roles and effective
 * permissions, an API key's owner, scopes, expiry and revocation — kept in
 * memory for `auth.principalCacheMs` (default 2 s), so that a request with a
 * known credential costs no query.
 *
 * Whatever changes these facts announces it (`changed`): the repos that
 * write users, their roles, API keys, and the role–permission grants.
 * On this replica the entries go at once and again after the request's
 * transaction commits, and a read that was in flight while a change was
 * announced is used but not kept (`epoch`), so the next request reads the
 * committed state. On PostgreSQL the change is also a NOTIFY sent inside the
 * writing transaction: every replica LISTENs on `channel` and drops its
 * entries when the change commits. A notice can be lost (the LISTEN
 * connection drops; the cache is then emptied and the listener reconnects),
 * and the database can be changed behind the API's back: the time to live
 * bounds how long a replica may act on what it read then.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option, Schedule, Stream } from "effect"
import { afterCommit } from "../Actor.ts"
import { ChannelListener } from "../ChannelListener.ts"
import { ServerConfig } from "../ServerConfig.ts"
import type { UsedApiKey } from "./ApiKeyRepo.ts"
import type { Principal } from "./UserRepo.ts"

/** The NOTIFY channel of principal changes. */
export const channel = "streamspace_principals"

/** Most entries kept of each kind; the oldest go first. */
const capacity = 10_000

export type PrincipalChange =
  | { readonly _tag: "User"; readonly id: string }
  | { readonly _tag: "ApiKey"; readonly id: string }
  /** Role grants changed: every user's permissions may have. */
  | { readonly _tag: "All" }

export const userChanged = (id: string): PrincipalChange => ({ _tag: "User", id })
export const apiKeyChanged = (id: string): PrincipalChange => ({ _tag: "ApiKey", id })
export const allChanged: PrincipalChange = { _tag: "All" }

/** The NOTIFY payload of a change. */
export const payloadOf = (change: PrincipalChange): string =>
  change._tag === "All" ? "*" : `${change._tag === "User" ? "user" : "key"}:${change.id}`

/** A payload this version does not know drops everything: forgetting too much is only slower. */
export const changeOf = (payload: string): PrincipalChange =>
  payload.startsWith("user:")
    ? userChanged(payload.slice(5))
    : payload.startsWith("key:")
      ? apiKeyChanged(payload.slice(4))
      : allChanged

export class PrincipalCache extends Context.Tag("@streamspace/core/PrincipalCache")<
  PrincipalCache,
  {
    /** The user's principal as of `at` (ms): cached, or read by `load` (an absent user is not cached). */
    readonly principal: <E>(
      userId: string,
      at: number,
      load: Effect.Effect<Principal | undefined, E>
    ) => Effect.Effect<Principal | undefined, E>
    /** The API key with this hash as of `at` (ms): cached, or read by `load`. */
    readonly apiKey: <E>(
      keyHash: string,
      at: number,
      load: Effect.Effect<UsedApiKey | undefined, E>
    ) => Effect.Effect<UsedApiKey | undefined, E>
    /** Notes that the cached key was just recorded as used at `at`, so that it is not written again soon. */
    readonly apiKeyUsed: (keyHash: string, at: Date) => void
    /**
     * Announces a change: drops the entries now and once the current transaction commits, and on
     * PostgreSQL tells every replica (a NOTIFY inside that transaction). Call it where the change is written.
     */
    readonly changed: (change: PrincipalChange) => Effect.Effect<void, SqlError>
  }
>() {}

interface Entry<A> {
  readonly value: A
  readonly until: number
}

/** Entries by key with an expiry each, at most `capacity` (a new one drops the oldest). */
class Entries<A> {
  private readonly map = new Map<string, Entry<A>>()

  get(key: string, at: number): A | undefined {
    const entry = this.map.get(key)
    if (entry === undefined) return undefined
    if (entry.until > at) return entry.value
    this.map.delete(key)
    return undefined
  }

  set(key: string, value: A, until: number): void {
    this.map.delete(key)
    this.map.set(key, { value, until })
    if (this.map.size > capacity) this.map.delete(this.map.keys().next().value as string)
  }

  update(key: string, f: (value: A) => A): void {
    const entry = this.map.get(key)
    if (entry !== undefined) this.map.set(key, { value: f(entry.value), until: entry.until })
  }

  deleteWhere(matches: (key: string, value: A) => boolean): void {
    for (const [key, entry] of this.map) if (matches(key, entry.value)) this.map.delete(key)
  }

  clear(): void {
    this.map.clear()
  }
}

export const PrincipalCacheLive = Layer.scoped(
  PrincipalCache,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const ttl = (yield* ServerConfig).auth.principalCacheMs
    const listener = yield* Effect.serviceOption(ChannelListener)
    const principals = new Entries<Principal>()
    const apiKeys = new Entries<UsedApiKey>()
    // Bumped by every change: a read that began before it must not be kept.
    let epoch = 0

    const forget = (change: PrincipalChange) => {
      epoch++
      switch (change._tag) {
        case "User":
          principals.deleteWhere((id) => id === change.id)
          apiKeys.deleteWhere((_, key) => key.user_id === change.id)
          return
        case "ApiKey":
          apiKeys.deleteWhere((_, key) => key.id === change.id)
          return
        case "All":
          principals.clear()
          apiKeys.clear()
      }
    }

    /** `entries[key]` if fresh at `at`, else `load`'s value, kept unless a change came in while it was read. */
    const cached = <A, E>(entries: Entries<A>, key: string, at: number, load: Effect.Effect<A | undefined, E>) => {
      if (ttl === 0) return load
      const hit = entries.get(key, at)
      if (hit !== undefined) return Effect.succeed(hit)
      const readAt = epoch
      return Effect.map(load, (value) => {
        if (value !== undefined && epoch === readAt) entries.set(key, value, at + ttl)
        return value
      })
    }

    const notify = Option.isSome(listener)
      ? (change: PrincipalChange) => Effect.asVoid(sql`SELECT pg_notify(${channel}, ${payloadOf(change)})`)
      : () => Effect.void

    if (Option.isSome(listener) && ttl > 0) {
      yield* listener.value.listen(channel).pipe(
        Stream.runForEach((payload) => Effect.sync(() => forget(changeOf(payload)))),
        Effect.tapErrorCause((cause) =>
          Effect.zipRight(
            Effect.sync(() => forget(allChanged)),
            Effect.logWarning("LISTEN for principal changes dropped; cache emptied, reconnecting", cause)
          )
        ),
        Effect.retry(Schedule.spaced("1 second")),
        Effect.forkScoped
      )
    }

    return {
      principal: (userId, at, load) => cached(principals, userId, at, load),
      apiKey: (keyHash, at, load) => cached(apiKeys, keyHash, at, load),
      apiKeyUsed: (keyHash, at) => apiKeys.update(keyHash, (key) => ({ ...key, last_used_at: at })),
      changed: (change) =>
        Effect.suspend(() => {
          forget(change)
          return Effect.zipRight(afterCommit(Effect.sync(() => forget(change))), notify(change))
        })
    }
  })
)
