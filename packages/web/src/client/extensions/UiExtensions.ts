/**
 * The pages and widgets of enabled plugins the user may see (`GET
 * /api/ui/extensions`, react-query key ["ui-extensions"]). The live event
 * stream makes the key stale on `plugin.*` events, so enabling or disabling
 * a plugin adds or removes them without a reload.
 */
import { useQuery } from "@tanstack/react-query"
import { api, unwrap } from "../api/ApiClient.ts"
import type { ResponseOf } from "../api/Types.ts"
import { useSession } from "../auth/Session.tsx"

export type UiExtensionItem = ResponseOf<"/api/ui/extensions">["items"][number]
export type UiPageItem = UiExtensionItem & { readonly extension: { readonly kind: "page" } }
export type UiWidgetItem = UiExtensionItem & { readonly extension: { readonly kind: "widget" } }

export const uiExtensionsKey = ["ui-extensions"] as const

export const useUiExtensions = () => {
  const session = useSession()
  return useQuery({
    queryKey: uiExtensionsKey,
    enabled: session.me !== undefined,
    queryFn: async () => unwrap(await api.GET("/api/ui/extensions")).items
  })
}

export const isPage = (item: UiExtensionItem): item is UiPageItem => item.extension.kind === "page"
export const isWidget = (item: UiExtensionItem): item is UiWidgetItem => item.extension.kind === "widget"

/** `/plugins/<plugin>/<page path>`: where a plugin page lives in the console. */
export const pagePath = (item: UiPageItem) =>
  `/plugins/${item.plugin}/${item.extension.path.replace(/^\/+/, "").replace(/\/+$/, "")}`
