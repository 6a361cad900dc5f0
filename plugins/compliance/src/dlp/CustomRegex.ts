/**
 * Custom patterns run in a worker with a deadline. One worker serves the
 * plugin, one request at a time; a request that misses the deadline
 * terminates the worker (a new one starts for the next request) and fails
 * with `InspectionTimeout`, which callers treat as "could not inspect".
 */
import { Data, Effect } from "effect"

export class InspectionTimeout extends Data.TaggedError("InspectionTimeout")<{ readonly message: string }> {}

export interface CustomPattern {
  readonly id: string
  readonly source: string
  readonly flags: string
}

export interface CustomFinding {
  readonly pattern: string
  readonly start: number
  readonly end: number
}

interface Reply {
  readonly id: number
  readonly findings: ReadonlyArray<CustomFinding>
}

export interface CustomRegexRunner {
  readonly scan: (
    patterns: ReadonlyArray<CustomPattern>,
    text: string,
    options?: { readonly deadlineMs?: number; readonly maxFindings?: number }
  ) => Effect.Effect<ReadonlyArray<CustomFinding>, InspectionTimeout>
  readonly close: () => void
}

export const makeRunner = (): CustomRegexRunner => {
  let worker: Worker | null = null
  let next = 0
  // Requests are serialised: a chain of promises.
  let queue: Promise<unknown> = Promise.resolve()
  const start = () => {
    worker ??= new Worker(new URL("./RegexWorker.ts", import.meta.url).href)
    return worker
  }
  const stop = () => {
    worker?.terminate()
    worker = null
  }
  const once = (patterns: ReadonlyArray<CustomPattern>, text: string, deadlineMs: number, maxFindings: number) =>
    new Promise<ReadonlyArray<CustomFinding> | "timeout">((resolve) => {
      const w = start()
      const id = ++next
      const timer = setTimeout(() => {
        w.removeEventListener("message", listener)
        stop()
        resolve("timeout")
      }, deadlineMs)
      const listener = (event: MessageEvent<Reply>) => {
        if (event.data.id !== id) return
        clearTimeout(timer)
        w.removeEventListener("message", listener)
        resolve(event.data.findings)
      }
      w.addEventListener("message", listener)
      w.postMessage({ id, patterns, text, maxFindings })
    })
  return {
    close: stop,
    scan: (patterns, text, options = {}) => {
      if (patterns.length === 0 || text.length === 0) return Effect.succeed([])
      const deadlineMs = options.deadlineMs ?? 250
      return Effect.flatMap(
        Effect.promise(() => {
          const run = queue.then(() => once(patterns, text, deadlineMs, options.maxFindings ?? 100))
          queue = run.catch(() => undefined)
          return run
        }),
        (result) =>
          result === "timeout"
            ? Effect.fail(new InspectionTimeout({ message: `custom patterns did not finish within ${deadlineMs} ms` }))
            : Effect.succeed(result)
      )
    }
  }
}
