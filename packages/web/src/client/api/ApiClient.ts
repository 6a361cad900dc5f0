/**
 * The typed API client: `openapi-fetch` over the types generated from the
 * server's OpenAPI document (`bun run web:api` regenerates `schema.gen.ts`;
 * a test fails when it drifts). Every request carries the access token; a
 * 401 refreshes the login once and retries.
 */
import createClient, { type Middleware } from "openapi-fetch"
import { ApiError, problemOf } from "./Problem.ts"
import type { paths } from "./schema.gen.ts"
import * as Tokens from "./Tokens.ts"

const retried = new WeakSet<Request>()

const auth: Middleware = {
  async onRequest({ request }) {
    const token = await Tokens.accessToken()
    if (token) request.headers.set("authorization", `Bearer ${token}`)
    return request
  },
  async onResponse({ request, response }) {
    if (response.status !== 401 || retried.has(request) || request.url.endsWith("/api/auth/login")) return response
    const token = await Tokens.refresh()
    if (!token) return response
    const again = new Request(request)
    retried.add(again)
    again.headers.set("authorization", `Bearer ${token}`)
    return fetch(again)
  }
}

export const api = createClient<paths>({ baseUrl: window.location.origin })
api.use(auth)

/** The data of an openapi-fetch result, or an ApiError carrying the problem document. */
export const unwrap = <T>(result: { data?: T; error?: unknown; response: Response }): T => {
  if (result.error !== undefined || !result.response.ok)
    throw new ApiError(problemOf(result.response.status, result.error))
  return result.data as T
}

/** A raw authenticated request, for what the typed client does not cover (uploads, streams, plugin routes). */
export const authorizedFetch = async (input: string, init: RequestInit = {}): Promise<Response> => {
  const send = async (token: string | undefined) => {
    const headers = new Headers(init.headers)
    if (token) headers.set("authorization", `Bearer ${token}`)
    return fetch(input, { ...init, headers })
  }
  const res = await send(await Tokens.accessToken())
  if (res.status !== 401) return res
  const token = await Tokens.refresh()
  return token ? send(token) : res
}

/** JSON from a raw request, or an ApiError with the problem document. */
export const fetchJson = async <T>(input: string, init: RequestInit = {}): Promise<T> => {
  const headers = new Headers(init.headers)
  if (init.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json")
  const res = await authorizedFetch(input, { ...init, headers })
  const body: unknown = res.status === 204 ? undefined : await res.json().catch(() => undefined)
  if (!res.ok) throw new ApiError(problemOf(res.status, body))
  return body as T
}
