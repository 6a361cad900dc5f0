/**
 * Real HTTP peers for tests (webhook receivers, Slack, PagerDuty, …): a
 * Bun server on 127.0.0.1 with a random port that records every request and
 * answers with the handler's response.
 */

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
  /** Resolves once `count` requests have arrived (or rejects after `timeoutMs`). */
  readonly waitFor: (count: number, timeoutMs?: number) => Promise<ReadonlyArray<RecordedRequest>>
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
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    fetch: async (req) => {
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
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port ?? port,
    requests,
    waitFor: (count, timeoutMs = 10_000) =>
      requests.length >= count
        ? Promise.resolve(requests)
        : new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`expected ${count} requests, got ${requests.length}`)), timeoutMs)
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
