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
import { type ReactNode, useState } from "react"
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
  const name = plugin.name
  const s = plugin.status
  /** Every action: its call, the toast that confirms it, then a refresh of the plugin lists. */
  const actions: ReadonlyArray<{
    readonly verb: "Install" | "Enable" | "Disable" | "Uninstall"
    readonly shown: boolean
    readonly variant?: "filled" | "default"
    readonly title: string
    readonly body: ReactNode
    readonly run: () => Promise<string>
  }> = [
    {
      verb: "Install",
      shown: s === "available",
      variant: "filled",
      title: `Install ${name} ${plugin.version}?`,
      body: (
        <Text size="sm">
          Creates the plugin's database schema and role, runs its migrations and registers its permissions. It stays
          disabled until you enable it.
        </Text>
      ),
      run: async () => {
        unwrap(await api.POST("/api/admin/plugins/{id}/install", { params: { path } }))
        return `Installed ${name}`
      }
    },
    {
      verb: "Enable",
      shown: s === "installed" || s === "disabled" || s === "failed",
      variant: "filled",
      title: `Enable ${name}?`,
      body: (
        <Text size="sm">
          Starts the plugin with its current configuration: its routes, jobs, event subscriptions and pages become
          active. Plugins it depends on must be enabled.
        </Text>
      ),
      run: async () => {
        unwrap(await api.POST("/api/admin/plugins/{id}/enable", { params: { path } }))
        return `Enabled ${name}`
      }
    },
    {
      verb: "Disable",
      shown: s === "enabled" || s === "failed",
      variant: "default",
      title: `Disable ${name}?`,
      body: (
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
      ),
      run: async () => {
        unwrap(
          await api.POST("/api/admin/plugins/{id}/disable", { params: { path, query: force ? { force: "true" } : {} } })
        )
        return `Disabled ${name}`
      }
    },
    {
      verb: "Uninstall",
      shown: s !== "available",
      title: `Uninstall ${name}?`,
      body: (
        <Stack gap="sm">
          <Text size="sm">
            Disables the plugin and removes its permissions. Without “keep data”, its schema, role, data, configuration
            and secrets are dropped for good.
          </Text>
          <Checkbox
            label="Keep data (schema, configuration and secrets stay for the next install)"
            checked={keepData}
            onChange={(e) => setKeepData(e.currentTarget.checked)}
          />
        </Stack>
      ),
      run: async () => {
        unwrap(
          await api.DELETE("/api/admin/plugins/{id}", { params: { path, query: keepData ? { keepData: "true" } : {} } })
        )
        onUninstalled?.()
        return `Uninstalled ${name}${keepData ? " (data kept)" : ""}`
      }
    }
  ]
  return (
    <Group gap="xs" wrap="nowrap">
      {actions
        .filter((a) => a.shown)
        .map((a) => (
          <ConfirmButton
            key={a.verb}
            label={a.verb}
            ariaLabel={`${a.verb} ${name}`}
            {...(a.variant ? { color: "indigo", variant: a.variant } : {})}
            size={size}
            title={a.title}
            confirmLabel={a.verb}
            onConfirm={async () => {
              notifyDone(await a.run())
              await refresh()
            }}
          >
            {a.body}
          </ConfirmButton>
        ))}
    </Group>
  )
}
