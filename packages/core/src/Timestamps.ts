/** The current time as a `Date`, read from Effect's Clock so that the test clock moves it. */
import { Clock, Effect } from "effect"

export const now: Effect.Effect<Date> = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))
