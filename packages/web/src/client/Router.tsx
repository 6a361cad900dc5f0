/**
 * A small history-API router: the console has a flat table of pages, so a
 * path pattern match and `navigate` are all it needs.
 */
import { createContext, type MouseEvent, type ReactNode, useCallback, useContext, useEffect, useState } from "react"

export interface Location {
  readonly pathname: string
  readonly search: URLSearchParams
}

const read = (): Location => ({
  pathname: window.location.pathname,
  search: new URLSearchParams(window.location.search)
})

const RouterContext = createContext<{ location: Location; navigate: (to: string, replace?: boolean) => void }>({
  location: { pathname: "/", search: new URLSearchParams() },
  navigate: () => undefined
})

export const RouterProvider = ({ children }: { readonly children: ReactNode }) => {
  const [location, setLocation] = useState(read)
  useEffect(() => {
    const onPop = () => setLocation(read())
    window.addEventListener("popstate", onPop)
    return () => window.removeEventListener("popstate", onPop)
  }, [])
  const navigate = useCallback((to: string, replace = false) => {
    if (replace) window.history.replaceState(null, "", to)
    else window.history.pushState(null, "", to)
    setLocation(read())
    window.scrollTo(0, 0)
  }, [])
  return <RouterContext.Provider value={{ location, navigate }}>{children}</RouterContext.Provider>
}

export const useLocation = () => useContext(RouterContext).location
export const useNavigate = () => useContext(RouterContext).navigate

/** `/sessions/:id` against `/sessions/abc` → `{ id: "abc" }`; undefined when it does not match. */
export const matchPath = (pattern: string, pathname: string): Record<string, string> | undefined => {
  const want = pattern.split("/").filter(Boolean)
  const have = pathname.split("/").filter(Boolean)
  if (want.at(-1) === "*") {
    if (have.length < want.length - 1) return undefined
  } else if (want.length !== have.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!
    if (w === "*") {
      params["*"] = have.slice(i).map(decodeURIComponent).join("/")
      return params
    }
    const h = have[i]!
    if (w.startsWith(":")) params[w.slice(1)] = decodeURIComponent(h)
    else if (w !== h) return undefined
  }
  return params
}

/** An in-app link: a real `<a href>` (middle-click, copy link) that navigates without a reload. */
export const Link = ({
  to,
  children,
  className
}: {
  readonly to: string
  readonly children: ReactNode
  readonly className?: string
}) => {
  const navigate = useNavigate()
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(to)
  }
  return (
    <a href={to} onClick={onClick} className={className}>
      {children}
    </a>
  )
}
