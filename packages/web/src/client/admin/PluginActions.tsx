/**
 * What an admin may do with a plugin in its current state, each behind a
 * confirmation: available → install; installed or disabled → enable;
 * enabled or failed → disable (optionally its dependents too); anything
 * installed → uninstall, keeping its data for a later install if asked.
 * The live event stream invalidates ["plugins"] and ["ui-extensions"] on
 * plugin.* events; this does it too, for the admin who acted.
 */
import { Checkbox, Group, Stack, Text } from "@mantine/core"
import { useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import type { ResponseOf } from "../api/Types.ts"
import { ConfirmButton, notifyDone } from "./AdminUi.tsx"

export type PluginState = ResponseOf<"/api/admin/plugins">["items"][number]

export const PluginActions = ({
  plugin,
  size = "xs",
  onUninstalled
}: {
  readonly plugin: PluginState
  readonly size?: "xs" | "sm"
  readonly onUninstalled?: () => void
}) => {
  const queryClient = useQueryClient()
  const [force, setForce] = useState(false)
  const [keepData, setKeepData] = useState(false)
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: ["plugins"] })
    await queryClient.invalidateQueries({ queryKey: ["ui-extensions"] })
  }
  const path = { id: plugin.id }
  const install = async () => {
    unwrap(await api.POST("/api/admin/plugins/{id}/install", { params: { path } }))
    notifyDone(`Installed ${plugin.name}`)
    await refresh()
  }
  const enable = async () => {
    unwrap(await api.POST("/api/admin/plugins/{id}/enable", { params: { path } }))
    notifyDone(`Enabled ${plugin.name}`)
    await refresh()
  }
  const disable = async () => {
    unwrap(
      await api.POST("/api/admin/plugins/{id}/disable", {
        params: { path, query: force ? { force: "true" } : {} }
      })
    )
    notifyDone(`Disabled ${plugin.name}`)
    await refresh()
  }
  const uninstall = async () => {
    unwrap(
      await api.DELETE("/api/admin/plugins/{id}", {
        params: { path, query: keepData ? { keepData: "true" } : {} }
      })
    )
    notifyDone(`Uninstalled ${plugin.name}${keepData ? " (data kept)" : ""}`)
    onUninstalled?.()
    await refresh()
  }
  const s = plugin.status
  return (
    <Group gap="xs" wrap="nowrap">
      {s === "available" && (
        <ConfirmButton
          label="Install"
          ariaLabel={`Install ${plugin.name}`}
          color="indigo"
          variant="filled"
          size={size}
          title={`Install ${plugin.name} ${plugin.version}?`}
          confirmLabel="Install"
          onConfirm={install}
        >
          <Text size="sm">
            Creates the plugin's database schema and role, runs its migrations and registers its permissions. It stays
            disabled until you enable it.
          </Text>
        </ConfirmButton>
      )}
      {(s === "installed" || s === "disabled" || s === "failed") && (
        <ConfirmButton
          label="Enable"
          ariaLabel={`Enable ${plugin.name}`}
          color="indigo"
          variant="filled"
          size={size}
          title={`Enable ${plugin.name}?`}
          confirmLabel="Enable"
          onConfirm={enable}
        >
          <Text size="sm">
            Starts the plugin with its current configuration: its routes, jobs, event subscriptions and pages become
            active. Plugins it depends on must be enabled.
          </Text>
        </ConfirmButton>
      )}
      {(s === "enabled" || s === "failed") && (
        <ConfirmButton
          label="Disable"
          ariaLabel={`Disable ${plugin.name}`}
          color="indigo"
          variant="default"
          size={size}
          title={`Disable ${plugin.name}?`}
          confirmLabel="Disable"
          onConfirm={disable}
        >
          <Stack gap="sm">
            <Text size="sm">
              Stops the plugin: its routes answer 404, its jobs and subscriptions pause (events wait for it), its pages
              disappear. Data and configuration are kept.
            </Text>
            <Checkbox
              label="Also disable plugins that depend on it"
              checked={force}
              onChange={(e) => setForce(e.currentTarget.checked)}
            />
          </Stack>
        </ConfirmButton>
      )}
      {s !== "available" && (
        <ConfirmButton
          label="Uninstall"
          ariaLabel={`Uninstall ${plugin.name}`}
          size={size}
          title={`Uninstall ${plugin.name}?`}
          confirmLabel="Uninstall"
          onConfirm={uninstall}
        >
          <Stack gap="sm">
            <Text size="sm">
              Disables the plugin and removes its permissions. Without “keep data”, its schema, role, data,
              configuration and secrets are dropped for good.
            </Text>
            <Checkbox
              label="Keep data (schema, configuration and secrets stay for the next install)"
              checked={keepData}
              onChange={(e) => setKeepData(e.currentTarget.checked)}
            />
          </Stack>
        </ConfirmButton>
      )}
    </Group>
  )
}
