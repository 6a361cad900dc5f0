/** Login gate, then the page the URL names inside the shell. */
import { Center, Loader, Stack, Text, Title } from "@mantine/core"
import { useQuery } from "@tanstack/react-query"
import { Suspense, useEffect } from "react"
import { api, unwrap } from "./api/ApiClient.ts"
import { adminRoutes } from "./admin/routes.tsx"
import { LoginPage } from "./auth/LoginPage.tsx"
import { useSession } from "./auth/Session.tsx"
import { usePluginRoutes } from "./extensions/PluginRoutes.tsx"
import { Shell } from "./layout/Shell.tsx"
import { LiveEventsProvider } from "./live/LiveEvents.tsx"
import { portalRoutes } from "./portal/routes.tsx"
import { matchPath, useLocation, useNavigate } from "./Router.tsx"
import type { ConsoleRoute } from "./routes.ts"
import { viewerRoutes } from "./viewer/routes.tsx"

const staticRoutes: ReadonlyArray<ConsoleRoute> = [...portalRoutes, ...viewerRoutes, ...adminRoutes]

/** Where `/` leads. */
export const homePath = "/sessions"

const Loading = () => (
  <Center p="xl">
    <Loader aria-label="Loading" />
  </Center>
)

const NotFound = ({ pathname }: { readonly pathname: string }) => (
  <Stack p="xl">
    <Title order={2}>Page not found</Title>
    <Text>Nothing lives at {pathname}, or you may not open it.</Text>
  </Stack>
)

export const App = () => {
  const session = useSession()
  const location = useLocation()
  const navigate = useNavigate()
  const pluginRoutes = usePluginRoutes()
  // The edition in the header (same query as the portal's `usePlatform`).
  const platform = useQuery({
    queryKey: ["platform"],
    enabled: session.me !== undefined,
    staleTime: 5 * 60_000,
    queryFn: async () => unwrap(await api.GET("/api/platform"))
  })
  useEffect(() => {
    if (location.pathname === "/") navigate(homePath, true)
  }, [location.pathname, navigate])
  if (session.loading) return <Loading />
  if (!session.me) return <LoginPage />
  const routes = [...staticRoutes, ...pluginRoutes].filter((r) => !r.permission || session.can(r.permission))
  let page = <NotFound pathname={location.pathname} />
  for (const route of routes) {
    const params = matchPath(route.path, location.pathname)
    if (!params) continue
    const Page = route.component
    page = <Page params={params} />
    break
  }
  return (
    <LiveEventsProvider>
      <Shell routes={routes} {...(platform.data ? { edition: platform.data.edition } : {})}>
        <Suspense fallback={<Loading />}>{page}</Suspense>
      </Shell>
    </LiveEventsProvider>
  )
}
