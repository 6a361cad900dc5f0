/**
 * Captures what the platform sends over HTTP (webhooks, plugin calls to
 * Slack, PagerDuty…) while still sending it for real: the test kit wraps the
 * platform's HttpClient with this, and tests read `TestPlatform.outgoing`.
 */
import { FetchHttpClient, HttpClient, type HttpClientRequest } from "@effect/platform"
import { Effect, Layer } from "effect"

export interface CapturedRequest {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** The response status; null when no response came (refused, timed out). */
  readonly status: number | null
  readonly error: string | null
}

const bodyText = (request: HttpClientRequest.HttpClientRequest): string => {
  const body = request.body
  switch (body._tag) {
    case "Uint8Array":
      return new TextDecoder().decode(body.body)
    case "Raw":
      return typeof body.body === "string" ? body.body : "<raw body>"
    case "Empty":
      return ""
    default:
      return `<${body._tag} body>`
  }
}

/** A fetch-based HttpClient that appends every request (and its outcome) to `captured`. */
export const layer = (captured: Array<CapturedRequest>): Layer.Layer<HttpClient.HttpClient> =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) =>
      HttpClient.transform(client, (effect, request) => {
        const entry = (status: number | null, error: string | null): CapturedRequest => ({
          method: request.method,
          url: request.url,
          headers: { ...request.headers },
          body: bodyText(request),
          status,
          error
        })
        return effect.pipe(
          Effect.tap((response) => Effect.sync(() => captured.push(entry(response.status, null)))),
          Effect.tapError((error) => Effect.sync(() => captured.push(entry(null, error.message))))
        )
      })
    )
  ).pipe(Layer.provide(FetchHttpClient.layer))
