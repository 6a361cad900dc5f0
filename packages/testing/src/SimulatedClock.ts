/**
 * The clock of `TestPlatform.make({ clock: "test" })`: every Clock, sleep,
 * timeout and Schedule of the platform reads and waits on it, and it moves
 * only when the test says so. It replaces Effect's TestClock, which runs
 * every timer at its own instant one after the other and waits for the
 * runtime between each: with a handful of pollers that wake every second,
 * an hour took minutes of wall time.
 *
 * `advance(d, settle, exact)` moves the time to now + d in stops, and the
 * platform settles (`settle`) after each. The instants `exact` names
 * (plugin job ticks) are stops of their own: the timers due exactly then
 * fire then, on time, so every due tick runs, in order, at its instant.
 * Every other timer fires at the next "full" stop: the earliest such timer,
 * but no sooner than d / `maxStops` after the previous full stop. So a
 * short move fires each timer at its own instant, while a long one fires a
 * timer that re-arms more often than d / `maxStops` (a one-second poller,
 * a retry back-off) once per full stop rather than every time, as after a
 * laptop wakes from sleep. Move in smaller steps when a test needs every
 * firing of such a timer.
 */
import { Clock, Duration, Effect, Layer } from "effect"

/** The most full stops one `advance` makes (a two-hour move: one every five minutes at most). */
export const maxStops = 24

export interface SimulatedClock extends Clock.Clock {
  /** Instants (ms) at which timers wait to fire, earliest first. */
  readonly timers: () => ReadonlyArray<number>
  /** Counts timers armed, fired and cancelled: unchanged means nothing touched the clock meanwhile. */
  readonly changes: () => number
  /**
   * Moves the time forward by `duration`, firing timers on the way; `settle`
   * runs after each stop and should resolve once the woken work is done;
   * `exact` names instants that must be stops of their own (asked again at
   * every stop).
   */
  readonly advance: (
    duration: Duration.DurationInput,
    settle: () => Promise<void>,
    exact?: () => Iterable<number>
  ) => Promise<void>
  /** Makes every fiber of a runtime built with it use this clock. */
  readonly layer: Layer.Layer<never>
}

interface Timer {
  readonly at: number
  readonly fire: () => void
}

export const make = (startMillis: number = Date.now()): SimulatedClock => {
  let now = startMillis
  let changes = 0
  const timers = new Set<Timer>()
  let queue: Promise<void> = Promise.resolve()

  const sleep = (duration: Duration.Duration): Effect.Effect<void> => {
    const ms = Duration.toMillis(duration)
    if (!(ms > 0)) return Effect.yieldNow()
    return Effect.async<void>((resume) => {
      const timer: Timer = { at: now + ms, fire: () => resume(Effect.void) }
      timers.add(timer)
      changes++
      return Effect.sync(() => {
        if (timers.delete(timer)) changes++
      })
    })
  }

  const fire = (which: (t: Timer) => boolean) => {
    for (const t of [...timers]) {
      if (!which(t)) continue
      timers.delete(t)
      changes++
      t.fire()
    }
  }

  const move = async (duration: Duration.DurationInput, settle: () => Promise<void>, exact: () => Iterable<number>) => {
    const total = Duration.toMillis(Duration.decode(duration))
    if (!(total >= 0) || !Number.isFinite(total)) throw new Error(`cannot move the clock by ${String(duration)}`)
    const target = now + total
    const grain = total / maxStops
    // Work already under way arms its timers before the time moves.
    await settle()
    let lastFull = now
    for (;;) {
      const instants = new Set(exact())
      let nextExact = Number.POSITIVE_INFINITY
      for (const at of instants) if (at > now && at < nextExact) nextExact = at
      let nextOther = Number.POSITIVE_INFINITY
      for (const t of timers) if (!instants.has(t.at) && t.at < nextOther) nextOther = t.at
      // Whole milliseconds, so that a job sleeping from now to its tick lands on the tick exactly.
      const full =
        nextOther > target
          ? Number.POSITIVE_INFINITY
          : Math.min(target, Math.max(nextOther, Math.ceil(lastFull + grain), now))
      const stop = Math.min(full, nextExact)
      if (stop > target) break
      now = stop
      if (stop === full) {
        lastFull = stop
        fire((t) => t.at <= stop)
      } else {
        fire((t) => t.at === stop)
      }
      await settle()
    }
    now = target
  }

  const clock: Omit<SimulatedClock, "layer"> = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.sync(() => now),
    unsafeCurrentTimeNanos: () => BigInt(Math.floor(now)) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(Math.floor(now)) * 1_000_000n),
    sleep,
    timers: () => [...timers].map((t) => t.at).sort((a, b) => a - b),
    changes: () => changes,
    // One move at a time: a second call starts where the first ended.
    advance: (duration, settle, exact = () => []) =>
      (queue = queue.catch(() => undefined).then(() => move(duration, settle, exact)))
  }
  return { ...clock, layer: Layer.setClock(clock) }
}
