/**
 * Waiting on a condition with a deadline, for effects that land in
 * background fibers or other processes. The check may return a value
 * (done), `undefined`/`false` (not yet), or throw — an `expect` failing
 * inside is the usual way to say "not yet, and here is why". At the
 * deadline the last error is rethrown as it was (the assertion's own
 * message and diff), or, when the check last returned "not yet", an error
 * naming the condition and the last value. A check that hangs is cut off at
 * the deadline too. Deadlines default to `TestTimeouts.waitMs`, below the
 * test timeout, so a failing wait reports its reason instead of timing out.
 */
import { inspect } from "node:util"
import * as TestTimeouts from "./TestTimeouts.ts"

export interface EventuallyOptions {
  /** Default `TestTimeouts.waitMs`. */
  readonly timeoutMs?: number
  /** Pause between checks (default 25 ms). */
  readonly intervalMs?: number
  /** What is awaited, for the failure message (default "condition"). */
  readonly what?: string
}

export type Check<A> = () => A | undefined | false | Promise<A | undefined | false>

/** What `within` resolves to when the time ran out first. */
export const pending = Symbol("pending")

/** Settles like `promise`, or resolves to `pending` after `ms` of real time, whichever comes first. */
export const within = <A>(promise: Promise<A>, ms: number): Promise<A | typeof pending> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<typeof pending>((resolve) => (timer = setTimeout(() => resolve(pending), Math.max(0, ms))))
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

export const eventually = async <A>(check: Check<A>, options: number | EventuallyOptions = {}): Promise<A> => {
  const {
    timeoutMs = TestTimeouts.waitMs,
    intervalMs = 25,
    what = "condition"
  } = typeof options === "number" ? { timeoutMs: options } : options
  const deadline = Date.now() + timeoutMs
  let last: { readonly error: unknown } | { readonly value: unknown } = { value: undefined }
  for (let attempt = 1; ; attempt++) {
    const outcome = await within(
      Promise.resolve()
        .then(check)
        .then(
          (value) => ({ value }),
          (error: unknown) => ({ error })
        ),
      deadline - Date.now()
    )
    if (outcome === pending) {
      const before =
        "error" in last
          ? `; the attempt before failed with: ${last.error instanceof Error ? last.error.message : inspect(last.error)}`
          : ""
      throw new Error(
        `${what} not met within ${timeoutMs} ms: check ${attempt} was still running at the deadline${before}`
      )
    }
    if ("value" in outcome && outcome.value !== undefined && outcome.value !== false) return outcome.value
    last = outcome
    if (Date.now() >= deadline) {
      if ("error" in last) throw last.error
      throw new Error(
        `${what} not met within ${timeoutMs} ms (${attempt} checks; the last returned ${inspect(last.value)})`
      )
    }
    await Bun.sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())))
  }
}
