/**
 * `usePluginApi()`: authenticated requests to the calling plugin's own
 * routes (`/api/plugins/<id>/…`) with the console's login (token refresh
 * included). Paths are relative to that prefix; a path that would leave it
 * (`..`, an absolute URL, a query-only trick) is refused before any request.
 * Failures throw `ApiError` carrying the server's problem document.
 */
import { useMemo } from "react"
import { authorizedFetch, fetchJson } from "../client/api/ApiClient.ts"
import { usePlugin } from "./PluginContext.tsx"
import { pluginUrl } from "./PluginPaths.ts"

export interface PluginApi {
  readonly plugin: string
  /** `/api/plugins/<id>` */
  readonly base: string
  /** The URL of `path` under the plugin's prefix (throws for a path that leaves it). */
  readonly url: (path: string) => string
  /** The raw response (status not checked). */
  readonly fetch: (path: string, init?: RequestInit) => Promise<Response>
  /** JSON of a request; a JSON `body` value is serialised. Throws ApiError for a non-2xx answer. */
  readonly json: <T>(path: string, init?: Omit<RequestInit, "body"> & { readonly body?: unknown }) => Promise<T>
  readonly get: <T>(path: string) => Promise<T>
  readonly post: <T>(path: string, body?: unknown) => Promise<T>
  readonly put: <T>(path: string, body?: unknown) => Promise<T>
  readonly patch: <T>(path: string, body?: unknown) => Promise<T>
  readonly delete: <T = void>(path: string) => Promise<T>
}

export const makePluginApi = (plugin: string): PluginApi => {
  const url = (path: string) => pluginUrl(plugin, path)
  const json = <T>(path: string, init: Omit<RequestInit, "body"> & { readonly body?: unknown } = {}) => {
    const { body, ...rest } = init
    return fetchJson<T>(url(path), { ...rest, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  }
  return {
    plugin,
    base: `/api/plugins/${encodeURIComponent(plugin)}`,
    url,
    fetch: (path, init) => authorizedFetch(url(path), init),
    json,
    get: (path) => json(path),
    post: (path, body) => json(path, { method: "POST", body }),
    put: (path, body) => json(path, { method: "PUT", body }),
    patch: (path, body) => json(path, { method: "PATCH", body }),
    delete: (path) => json(path, { method: "DELETE" })
  }
}

/** The API client of the plugin whose module is rendering. */
export const usePluginApi = (): PluginApi => {
  const plugin = usePlugin()
  return useMemo(() => makePluginApi(plugin), [plugin])
}
