/**
 * Real HTTP peers for tests (webhook receivers, Slack, PagerDuty, …): a
 * Bun server on 127.0.0.1 with a random port that records every request and
 * answers with the handler's response. `idle()` resolves once no request
 * is being handled, so a test can count requests after the sender is gone.
 */
import * as TestTimeouts from "./TestTimeouts.ts"

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: Headers
  readonly body: string
  readonly json: unknown
  readonly at: number
}

export interface LocalServer {
  readonly url: string
  readonly port: number
  readonly requests: ReadonlyArray<RecordedRequest>
  /** Resolves once `count` requests have arrived (or rejects after `timeoutMs`, default `TestTimeouts.waitMs`). */
  readonly waitFor: (count: number, timeoutMs?: number) => Promise<ReadonlyArray<RecordedRequest>>
  /** Resolves once every request that has arrived has been answered. */
  readonly idle: () => Promise<void>
  readonly stop: () => Promise<void>
}

export type Handler = (request: RecordedRequest, index: number) => Response | Promise<Response>

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

export const start = (handler: Handler = () => new Response("ok"), port = 0): LocalServer => {
  const requests: Array<RecordedRequest> = []
  const waiters: Array<{ count: number; resolve: () => void }> = []
  let handling = 0
  let idleWaiters: Array<() => void> = []
  const settled = () => {
    if (--handling > 0) return
    const wake = idleWaiters
    idleWaiters = []
    for (const w of wake) w()
  }
  const handle = async (req: Request) => {
    const body = await req.text()
    const recorded: RecordedRequest = {
      method: req.method,
      path: new URL(req.url).pathname + new URL(req.url).search,
      headers: req.headers,
      body,
      json: parseJson(body),
      at: Date.now()
    }
    requests.push(recorded)
    for (const w of waiters.filter((w) => requests.length >= w.count)) w.resolve()
    return handler(recorded, requests.length - 1)
  }
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    fetch: async (req) => {
      handling++
      try {
        return await handle(req)
      } finally {
        settled()
      }
    }
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port ?? port,
    requests,
    idle: () => (handling === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
    waitFor: (count, timeoutMs = TestTimeouts.waitMs) =>
      requests.length >= count
        ? Promise.resolve(requests)
        : new Promise((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`expected ${count} requests, got ${requests.length}`)),
              timeoutMs
            )
            waiters.push({
              count,
              resolve: () => {
                clearTimeout(timer)
                resolve(requests)
              }
            })
          }),
    stop: async () => {
      await server.stop(true)
    }
  }
}
