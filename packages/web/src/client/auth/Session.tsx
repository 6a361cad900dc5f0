/**
 * Who is logged in: the `/api/auth/me` answer, shared by every page, with
 * `can(permission)` for what the navigation and buttons show. The server
 * checks every request anyway; hiding what a user may not do is courtesy.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import { ApiError } from "../api/Problem.ts"
import type { ResponseOf } from "../api/Types.ts"
import * as Tokens from "../api/Tokens.ts"

export type Me = ResponseOf<"/api/auth/me">

export interface Session {
  readonly me: Me | undefined
  readonly loading: boolean
  readonly can: (permission: string) => boolean
  /** Logs in; resolves "mfa" when the account needs a TOTP or recovery code. */
  readonly login: (username: string, password: string, totp?: string) => Promise<"ok" | "mfa">
  readonly logout: () => Promise<void>
}

const SessionContext = createContext<Session | undefined>(undefined)

export const useSession = (): Session => {
  const session = useContext(SessionContext)
  if (!session) throw new Error("useSession outside SessionProvider")
  return session
}

/** The server's answer when the second factor is missing (a 401 naming field `totp`). */
const needsSecondFactor = (e: unknown) =>
  e instanceof ApiError && e.problem.status === 401 && /\btotp\b/.test(e.problem.detail)

export const SessionProvider = ({ children }: { readonly children: ReactNode }) => {
  const queryClient = useQueryClient()
  const [loggedIn, setLoggedIn] = useState(Tokens.hasLogin)
  useEffect(() => Tokens.onChange(setLoggedIn), [])
  const me = useQuery({
    queryKey: ["me"],
    enabled: loggedIn,
    retry: false,
    queryFn: async () => unwrap(await api.GET("/api/auth/me"))
  })
  const login = useCallback(
    async (username: string, password: string, totp?: string) => {
      try {
        const pair = unwrap(
          await api.POST("/api/auth/login", { body: { username, password, ...(totp ? { totp } : {}) } })
        )
        Tokens.store(pair)
        await queryClient.resetQueries()
        return "ok" as const
      } catch (e) {
        if (needsSecondFactor(e) && !totp) return "mfa" as const
        throw e
      }
    },
    [queryClient]
  )
  const logout = useCallback(async () => {
    const refreshToken = Tokens.refreshToken()
    await api.POST("/api/auth/logout", { body: refreshToken ? { refreshToken } : {} }).catch(() => undefined)
    Tokens.clear()
    queryClient.clear()
  }, [queryClient])
  const permissions = new Set(me.data?.permissions ?? [])
  const value: Session = {
    me: loggedIn ? me.data : undefined,
    loading: loggedIn && me.isPending,
    can: (p) => permissions.has(p) || permissions.has("*"),
    login,
    logout
  }
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}
