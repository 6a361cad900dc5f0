/**
 * The loop behind an outgoing-delivery dispatcher (webhooks, integrations):
 * woken by a nudge or after `idle`, it runs `prepare`, then claims due
 * deliveries and attempts them, eight at a time, until none is due. A
 * failing pass is logged and the next one starts at the next wake-up.
 *
 * A nudge starts a pass only after `debounce` (wall time, a few ms), and
 * nudges meanwhile or during the pass fold into one more pass: a burst of
 * requests shares a pass instead of starting one each.
 */
import { Clock, Duration, Effect, Queue, type Scope } from "effect"

/** How long a nudge waits for the rest of its burst. */
export const DEBOUNCE = Duration.millis(5)

const wallClock = Clock.make()

/**
 * Waits `duration` of wall time, whatever clock the caller runs on: a
 * simulated clock that tests move by hand must not hold background passes.
 */
export const pause = (duration: Duration.DurationInput): Effect.Effect<void> =>
  Effect.sleep(duration).pipe(Effect.withClock(wallClock))

export interface DeliveryLoopOptions<D> {
  readonly name: string
  /** Runs before claiming (e.g. fanning new events out into deliveries). */
  readonly prepare?: Effect.Effect<void, unknown>
  readonly claim: Effect.Effect<ReadonlyArray<D>, unknown>
  readonly attempt: (delivery: D) => Effect.Effect<void, unknown>
  /** How long to sleep when not nudged (default one second: other replicas enqueue too). */
  readonly idle?: Effect.Effect<Duration.Duration>
  /** How long a nudge waits for more nudges before the pass (default `DEBOUNCE`). */
  readonly debounce?: Duration.DurationInput
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
    const debounce = options.debounce ?? DEBOUNCE
    yield* (options.idle ?? Effect.succeed(Duration.seconds(1))).pipe(
      Effect.flatMap((wait) => Queue.take(signal).pipe(Effect.timeoutOption(wait))),
      Effect.tap((nudged) =>
        nudged._tag === "Some" ? Effect.zipRight(pause(debounce), Queue.takeAll(signal)) : Effect.void
      ),
      Effect.zipRight(runOnce),
      Effect.forever,
      Effect.forkScoped
    )
    return { nudge: Queue.offer(signal, undefined).pipe(Effect.asVoid), runOnce }
  })
