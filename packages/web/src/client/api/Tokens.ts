/**
 * The console's login. The access token lives in memory only; the refresh
 * token in localStorage so a reload keeps the login (the strict CSP is what
 * guards it against injected scripts). Refreshes are single-flight: many
 * requests failing with 401 at once trigger one refresh.
 */
const refreshKey = "streamspace.refreshToken"

export interface TokenPair {
  readonly accessToken: string
  readonly refreshToken: string
  readonly expiresIn: number
}

let access: { token: string; expiresAt: number } | undefined
let refreshing: Promise<string | undefined> | undefined
const listeners = new Set<(loggedIn: boolean) => void>()

export const store = (pair: TokenPair) => {
  access = { token: pair.accessToken, expiresAt: Date.now() + pair.expiresIn * 1000 }
  localStorage.setItem(refreshKey, pair.refreshToken)
  for (const l of listeners) l(true)
}

export const clear = () => {
  access = undefined
  localStorage.removeItem(refreshKey)
  for (const l of listeners) l(false)
}

export const refreshToken = () => localStorage.getItem(refreshKey) ?? undefined
export const hasLogin = () => access !== undefined || refreshToken() !== undefined
export const onChange = (listener: (loggedIn: boolean) => void) => {
  listeners.add(listener)
  return () => void listeners.delete(listener)
}

/** A new access token from the refresh token; undefined (and logged out) when the login is gone. */
export const refresh = (): Promise<string | undefined> =>
  (refreshing ??= (async () => {
    const token = refreshToken()
    if (!token) return undefined
    try {
      const res = await fetch("/api/auth/refresh", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refreshToken: token })
      })
      if (res.status === 401) {
        clear()
        return undefined
      }
      if (!res.ok) return undefined
      const pair = (await res.json()) as TokenPair
      store(pair)
      return pair.accessToken
    } finally {
      refreshing = undefined
    }
  })())

/** A valid access token, refreshed shortly before it expires. */
export const accessToken = async (): Promise<string | undefined> => {
  if (access && access.expiresAt - Date.now() > 30_000) return access.token
  return refresh()
}
