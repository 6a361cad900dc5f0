/**
 * Request budgets per caller and route class, and the budget of failed
 * authentications per client address, shared by API replicas.
 *
 * Counting: each bucket has one-minute windows aligned to the clock's
 * minutes, and a request is allowed while `previous × (1 − elapsed part of
 * this minute) + current + 1 ≤ budget` — a sliding minute estimated from two
 * counters, so a burst across a window's edge cannot take twice the budget,
 * and every replica agrees on where windows start. Refused requests are not
 * counted. Deciding costs a map lookup: nothing on the request path waits
 * for the database.
 *
 * Sharing: through PostgreSQL, not Redis. A deployment with several replicas
 * already has PostgreSQL; Redis would be one more service to run, secure and
 * watch for one feature that tolerates approximate counts. Each replica
 * counts its own requests at once and, about once a second, adds its new
 * hits to `rate_limit_counters` in one statement (which returns the totals of
 * those buckets) and reads the buckets of the last two minutes that have
 * used half their budget or more (`RateLimitStore`). So a caller served by
 * one replica is counted exactly, and a caller spread over N replicas is
 * held once the total reaches its budget, give or take what it sends the
 * other replicas within one or two flush intervals. When the database does
 * not answer, each replica goes on counting alone and sends its hits later.
 * On PGlite only one process can open the database: nothing is shared and
 * nothing written.
 */
import { type HttpRoute, ServerConfig } from "@streamspace/core"
import { Database } from "@streamspace/db"
import { Context, Effect, Layer, Schedule } from "effect"
import { type Count, RateLimitStore } from "./RateLimitStore.ts"

export const budgets: Record<HttpRoute.RateLimitClass, number> = {
  standard: 100,
  strict: 10,
  none: Number.POSITIVE_INFINITY
}

/**
 * Failed authentications (bad access token or API key) one client address
 * may have in a minute; beyond it, its requests with a credential that would
 * need the database to check (API keys) are refused unread, and failures are
 * answered 429.
 */
export const authFailureBudget = 30

const WINDOW_MS = 60_000
const FLUSH_EVERY = "1 second"

export interface RateLimitDecision {
  readonly allowed: boolean
  readonly retryAfterSeconds: number
}

export interface AuthFailureDecision extends RateLimitDecision {
  /**
   * The first failure from this address this minute on this replica, or,
   * when refused, the first refused one: what is worth an audit row or a log
   * line (the rest are only counted).
   */
  readonly first: boolean
}

export interface Limiter {
  /** Counts one request of `caller` (e.g. `u:<userId>`, `ip:<address>`) against its class's budget. */
  readonly check: (cls: HttpRoute.RateLimitClass, caller: string) => RateLimitDecision
  /** Whether `ip` may still fail to authenticate (counts nothing). */
  readonly authFailuresLeft: (ip: string) => RateLimitDecision
  /** Counts one failed authentication from `ip`. Counted even when limits are off, for `first`. */
  readonly authFailure: (ip: string) => AuthFailureDecision
}

/** Hits in one window: this replica's (`local`, of which `flushed` were sent) and every replica's as last read (`shared`). */
interface Tally {
  local: number
  flushed: number
  shared: number
  refused: number
}

interface Bucket {
  readonly budget: number
  window: number
  current: Tally
  previous: Tally
}

const emptyTally = (): Tally => ({ local: 0, flushed: 0, shared: 0, refused: 0 })

/** The shared count plus what this replica has not sent yet. */
const total = (t: Tally) => t.shared + t.local - t.flushed

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))

/** When the sliding estimate next leaves room for one more request. */
const retryAfter = (budget: number, previous: number, current: number, windowStart: number, at: number) => {
  // Within this minute, the previous minute's share shrinks…
  if (current + 1 <= budget && previous > 0) {
    const until = windowStart + (1 - (budget - 1 - current) / previous) * WINDOW_MS
    if (until < windowStart + WINDOW_MS) return seconds(until - at)
  }
  // …otherwise this minute's hits must shrink as the next one passes.
  const part = current > 0 ? Math.max(0, 1 - (budget - 1) / current) : 0
  return seconds(windowStart + WINDOW_MS + part * WINDOW_MS - at)
}

/** What a flush sends: the hits not sent yet, and how to take them back if sending fails. */
export interface Pending {
  readonly deltas: ReadonlyArray<Count>
  readonly restore: () => void
}

export interface SharedLimiter extends Limiter {
  /** The current window (minutes since the epoch). */
  readonly window: () => number
  /** Marks every hit not sent yet as sent (counted as shared meanwhile) and returns them. */
  readonly drain: () => Pending
  /** Takes in totals read from the shared table. */
  readonly absorb: (counts: ReadonlyArray<Count>) => void
}

export interface LimiterOptions {
  readonly enabled: boolean
  readonly now?: () => number
}

export const make = (options: LimiterOptions): SharedLimiter => {
  const { enabled } = options
  const now = options.now ?? Date.now
  const buckets = new Map<string, Bucket>()
  let sweptWindow = Math.floor(now() / WINDOW_MS)

  /** Drops buckets whose windows no longer count, once per minute. */
  const sweep = (window: number) => {
    if (window === sweptWindow) return
    sweptWindow = window
    for (const [key, bucket] of buckets) if (bucket.window < window - 1) buckets.delete(key)
  }

  /** Moves a bucket's windows forward to `window`. */
  const roll = (bucket: Bucket, window: number) => {
    if (bucket.window >= window) return
    bucket.previous = bucket.window === window - 1 ? bucket.current : emptyTally()
    bucket.current = emptyTally()
    bucket.window = window
  }

  const bucketAt = (key: string, budget: number, at: number) => {
    const window = Math.floor(at / WINDOW_MS)
    sweep(window)
    let bucket = buckets.get(key)
    if (!bucket) {
      bucket = { budget, window, current: emptyTally(), previous: emptyTally() }
      buckets.set(key, bucket)
    }
    roll(bucket, window)
    return bucket
  }

  const decide = (bucket: Bucket, at: number): RateLimitDecision => {
    const windowStart = bucket.window * WINDOW_MS
    const previous = total(bucket.previous)
    const current = total(bucket.current)
    const estimate = previous * (1 - (at - windowStart) / WINDOW_MS) + current
    // The tolerance absorbs rounding at the instant Retry-After points to.
    if (estimate + 1 <= bucket.budget + 1e-9) return { allowed: true, retryAfterSeconds: 0 }
    return { allowed: false, retryAfterSeconds: retryAfter(bucket.budget, previous, current, windowStart, at) }
  }

  const hit = (key: string, budget: number, limited: boolean): AuthFailureDecision => {
    const at = now()
    const bucket = bucketAt(key, budget, at)
    const tally = bucket.current
    const decision = limited ? decide(bucket, at) : { allowed: true, retryAfterSeconds: 0 }
    if (decision.allowed) {
      tally.local++
      return { ...decision, first: tally.local === 1 }
    }
    tally.refused++
    return { ...decision, first: tally.refused === 1 }
  }

  const authKey = (ip: string) => `auth-failure:ip:${ip}`

  return {
    check: (cls, caller) => {
      const budget = budgets[cls]
      if (!enabled || !Number.isFinite(budget)) return { allowed: true, retryAfterSeconds: 0 }
      const { allowed, retryAfterSeconds } = hit(`${cls}:${caller}`, budget, true)
      return { allowed, retryAfterSeconds }
    },
    authFailuresLeft: (ip) => {
      if (!enabled) return { allowed: true, retryAfterSeconds: 0 }
      const at = now()
      return decide(bucketAt(authKey(ip), authFailureBudget, at), at)
    },
    authFailure: (ip) => hit(authKey(ip), authFailureBudget, enabled),
    window: () => Math.floor(now() / WINDOW_MS),
    drain: () => {
      const window = Math.floor(now() / WINDOW_MS)
      const sent: Array<{ tally: Tally; count: Count }> = []
      for (const [key, bucket] of buckets) {
        roll(bucket, window)
        const tallies: ReadonlyArray<[Tally, number]> = [
          [bucket.previous, bucket.window - 1],
          [bucket.current, bucket.window]
        ]
        for (const [tally, at] of tallies) {
          const hits = tally.local - tally.flushed
          if (hits === 0) continue
          tally.flushed = tally.local
          tally.shared += hits
          sent.push({ tally, count: { bucket: key, window: at, hits, budget: bucket.budget } })
        }
      }
      return {
        deltas: sent.map((s) => s.count),
        restore: () => {
          for (const { tally, count } of sent) {
            tally.flushed -= count.hits
            tally.shared -= count.hits
          }
        }
      }
    },
    absorb: (counts) => {
      const window = Math.floor(now() / WINDOW_MS)
      for (const count of counts) {
        if (count.window < window - 1) continue
        let bucket = buckets.get(count.bucket)
        if (!bucket) {
          bucket = { budget: count.budget, window: count.window, current: emptyTally(), previous: emptyTally() }
          buckets.set(count.bucket, bucket)
        }
        roll(bucket, count.window)
        const tally =
          count.window === bucket.window
            ? bucket.current
            : count.window === bucket.window - 1
              ? bucket.previous
              : undefined
        // A total only grows within its window; an older read must not undo a newer one.
        if (tally) tally.shared = Math.max(tally.shared, count.hits)
      }
    }
  }
}

export class RateLimiter extends Context.Tag("@streamspace/server/RateLimiter")<RateLimiter, Limiter>() {}

/** Sends this replica's hits and reads the busy buckets, once a second, while the layer lives. */
const share = (limiter: SharedLimiter) =>
  Effect.gen(function* () {
    const store = yield* RateLimitStore
    let forgotten = limiter.window() - 1
    let failing = false
    const exchange = Effect.gen(function* () {
      const pending = limiter.drain()
      const window = limiter.window()
      const added = yield* store.add(pending.deltas).pipe(Effect.tapError(() => Effect.sync(pending.restore)))
      limiter.absorb(added)
      limiter.absorb(yield* store.busy(window - 1))
      if (window - 1 > forgotten) {
        yield* store.forget(window - 1)
        forgotten = window - 1
      }
      if (failing) yield* Effect.logInfo("rate limits: sharing counts with the other replicas again")
      failing = false
    })
    yield* exchange.pipe(
      Effect.catchAll((error) =>
        Effect.gen(function* () {
          if (!failing)
            yield* Effect.logWarning(
              "rate limits: cannot share counts with the other replicas; counting alone meanwhile",
              error
            )
          failing = true
        })
      ),
      Effect.repeat(Schedule.spaced(FLUSH_EVERY)),
      Effect.forkScoped
    )
  })

/**
 * The platform's limiter, on the platform's clock (the test kit's simulated
 * one moves it); shared through PostgreSQL when limits are on.
 */
export const layer: Layer.Layer<
  RateLimiter,
  never,
  ServerConfig.ServerConfig | Database.DatabaseInfo | RateLimitStore
> = Layer.scoped(
  RateLimiter,
  Effect.gen(function* () {
    const config = yield* ServerConfig.ServerConfig
    const database = yield* Database.DatabaseInfo
    const clock = yield* Effect.clock
    const limiter = make({ enabled: config.rateLimit, now: () => clock.unsafeCurrentTimeMillis() })
    if (config.rateLimit && database.dialect === "postgres") yield* share(limiter)
    return limiter
  })
)
