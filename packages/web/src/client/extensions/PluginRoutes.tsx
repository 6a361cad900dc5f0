/**
 * Pages that enabled plugins contribute (docs/plugins.md, "UI"): each page
 * of `GET /api/ui/extensions` becomes the route `/plugins/<plugin>/<path>`,
 * listed in the portal or administration navigation. The server lists only
 * what the user's permissions allow; the list follows plugins being enabled
 * and disabled (the live stream makes ["ui-extensions"] stale).
 */
import { Center, Loader } from "@mantine/core"
import { IconPuzzle } from "@tabler/icons-react"
import { type ComponentType, lazy, useMemo } from "react"
import type { ConsoleRoute, PageProps } from "../routes.ts"
import { isPage, pagePath, type UiPageItem, useUiExtensions } from "./UiExtensions.ts"

const PluginPage = lazy(() => import("./PluginPage.tsx"))

/** One component per page and module URL, so a refetch with the same answer does not remount the page. */
const pageComponents = new Map<string, ComponentType<PageProps>>()
const componentOf = (item: UiPageItem): ComponentType<PageProps> => {
  const key = `${item.plugin}\0${item.extension.id}\0${item.extension.title}\0${item.module ?? ""}`
  let component = pageComponents.get(key)
  if (!component) {
    const Page = (props: PageProps) => (
      <PluginPage {...props} plugin={item.plugin} title={item.extension.title} module={item.module} />
    )
    Page.displayName = `PluginPage(${item.plugin}/${item.extension.id})`
    component = Page
    pageComponents.set(key, component)
  }
  return component
}

const Pending = () => (
  <Center p="xl">
    <Loader aria-label="Loading plugin pages" />
  </Center>
)

/** While the list loads, a plugin page's deep link waits here instead of showing "not found". */
const pendingRoute: ConsoleRoute = { path: "/plugins/:plugin/:page", title: "Plugin page", component: Pending }

export const usePluginRoutes = (): ReadonlyArray<ConsoleRoute> => {
  const extensions = useUiExtensions()
  return useMemo(() => {
    if (extensions.isPending && extensions.fetchStatus !== "idle") return [pendingRoute]
    return (extensions.data ?? []).filter(isPage).map(
      (item): ConsoleRoute => ({
        path: pagePath(item),
        title: item.extension.title,
        nav: item.extension.nav ?? "admin",
        icon: IconPuzzle,
        component: componentOf(item)
      })
    )
  }, [extensions.data, extensions.isPending, extensions.fetchStatus])
}
