/**
 * Sending a JSON message over HTTP and turning the answer into a delivery
 * outcome the dispatcher understands: 2xx delivered; 408/425/429/5xx and
 * network failures retried (honouring `Retry-After` or a JSON `retry_after`
 * in seconds, as Slack and Discord send); any other 4xx, a redirect (never
 * followed) and a destination the egress policy refuses are permanent.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { EgressPolicy, IntegrationDispatcher, RetryPolicy } from "@streamspace/core"
import { Clock, Effect } from "effect"

/** Retry-After, or the JSON `retry_after` (seconds) that Slack and Discord put in 429 bodies. */
const retryAfterMs = (header: string | undefined, body: unknown, nowMs: number): number | undefined => {
  const fromHeader = RetryPolicy.retryAfterMs(header, nowMs)
  if (fromHeader !== undefined) return fromHeader
  const inBody = typeof body === "object" && body !== null && "retry_after" in body ? Number(body.retry_after) : NaN
  return Number.isFinite(inBody) ? Math.max(0, inBody * 1000) : undefined
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

export interface PostOptions {
  readonly headers?: Readonly<Record<string, string>>
  /**
   * Looks into a 2xx answer for an application-level failure (Slack's
   * `{"ok": false}`): return an error text to fail, with `retry` when it is
   * worth trying again.
   */
  readonly check?: (body: unknown, text: string) => { readonly error: string; readonly retry: boolean } | undefined
}

export const postJson = (
  url: string,
  payload: unknown,
  options: PostOptions = {}
): Effect.Effect<IntegrationDispatcher.SendOutcome, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const request = HttpClientRequest.post(url).pipe(
      HttpClientRequest.setHeaders({ "user-agent": "StreamSpace-Notifications/1", ...options.headers }),
      HttpClientRequest.bodyText(JSON.stringify(payload), "application/json; charset=utf-8")
    )
    const answer = yield* http.execute(request).pipe(
      Effect.flatMap((res) =>
        Effect.map(res.text, (text) => ({ status: res.status, text, retryAfter: res.headers["retry-after"] }))
      ),
      Effect.either
    )
    if (answer._tag === "Left") {
      // The egress policy refused the destination: retrying cannot help until an admin changes it (then: replay).
      const refused = EgressPolicy.refusal(answer.left)
      if (refused) return IntegrationDispatcher.permanentFailure(refused.message)
      return {
        ok: false,
        responseCode: null,
        error: `could not reach the receiver: ${answer.left.reason === "Transport" ? String(answer.left.cause ?? answer.left.message) : answer.left.message}`
      }
    }
    const { status, text, retryAfter } = answer.right
    const body = parse(text)
    if (status >= 200 && status < 300) {
      const failure = options.check?.(body, text)
      return failure
        ? { ok: false, responseCode: status, error: failure.error, permanent: !failure.retry }
        : { ok: true, responseCode: status }
    }
    const now = yield* Clock.currentTimeMillis
    const snippet = text.trim().slice(0, 300)
    return {
      ok: false,
      responseCode: status,
      error: `HTTP ${status}${snippet ? `: ${snippet}` : ""}`,
      retryAfterMs: retryAfterMs(retryAfter, body, now),
      permanent: !RetryPolicy.isRetryableStatus(status)
    }
  })
