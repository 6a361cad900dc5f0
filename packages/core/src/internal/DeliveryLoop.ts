/**
 * The loop behind an outgoing-delivery dispatcher (webhooks, integrations):
 * woken by a nudge or after `idle`, it runs `prepare`, then claims due
 * deliveries and attempts them, eight at a time, until none is due. A
 * failing pass is logged and the next one starts at the next wake-up.
 */
import { Duration, Effect, Queue, type Scope } from "effect"

export interface DeliveryLoopOptions<D> {
  readonly name: string
  /** Runs before claiming (e.g. fanning new events out into deliveries). */
  readonly prepare?: Effect.Effect<void, unknown>
  readonly claim: Effect.Effect<ReadonlyArray<D>, unknown>
  readonly attempt: (delivery: D) => Effect.Effect<void, unknown>
  /** How long to sleep when not nudged (default one second: other replicas enqueue too). */
  readonly idle?: Effect.Effect<Duration.Duration>
}

export interface DeliveryLoop {
  readonly nudge: Effect.Effect<void>
  /** One pass now (tests, shutdown). */
  readonly runOnce: Effect.Effect<void>
}

export const start = <D>(options: DeliveryLoopOptions<D>): Effect.Effect<DeliveryLoop, never, Scope.Scope> =>
  Effect.gen(function* () {
    const signal = yield* Queue.sliding<void>(1)
    const runOnce = Effect.gen(function* () {
      if (options.prepare) yield* options.prepare
      for (;;) {
        const due = yield* options.claim
        if (due.length === 0) return
        yield* Effect.forEach(due, options.attempt, { concurrency: 8, discard: true })
      }
    }).pipe(Effect.catchAllCause((cause) => Effect.logError(`${options.name} dispatch failed`, cause)))
    yield* (options.idle ?? Effect.succeed(Duration.seconds(1))).pipe(
      Effect.flatMap((wait) => Queue.take(signal).pipe(Effect.timeoutOption(wait))),
      Effect.zipRight(runOnce),
      Effect.forever,
      Effect.forkScoped
    )
    return { nudge: Queue.offer(signal, undefined).pipe(Effect.asVoid), runOnce }
  })
