/**
 * The plugin list and boot report queries. The key ["plugins"] is the one the
 * live event stream invalidates on plugin.* events, so every view of plugin
 * state (dashboard, list, detail) follows enable/disable without a reload.
 */
import { useQuery } from "@tanstack/react-query"
import { api, unwrap } from "../api/ApiClient.ts"

export const usePluginList = (enabled = true) =>
  useQuery({
    queryKey: ["plugins"],
    enabled,
    queryFn: async () => unwrap(await api.GET("/api/admin/plugins")).items
  })

export const usePluginStartup = (enabled = true) =>
  useQuery({
    queryKey: ["plugins", "startup"],
    enabled,
    queryFn: async () => unwrap(await api.GET("/api/admin/plugins/startup")).items
  })
