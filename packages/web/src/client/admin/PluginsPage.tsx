/** Plugins of this edition: state, versions, boot report, and the lifecycle actions. */
import { Card, Stack, Table, Text, Title } from "@mantine/core"
import { Link } from "../Router.tsx"
import { DataTable, PageHeader, StateBadge } from "./AdminUi.tsx"
import { usePluginList, usePluginStartup } from "./PluginQueries.ts"
import { PluginActions } from "./PluginActions.tsx"

export const PluginsPage = () => {
  const plugins = usePluginList()
  const startup = usePluginStartup()
  return (
    <Stack>
      <PageHeader title="Plugins" description="Install, enable, configure, disable and uninstall plugins at runtime." />
      <DataTable
        label="Plugins"
        columns={["Plugin", "State", "Version", "Category", "Actions"]}
        rows={plugins.data ?? []}
        rowKey={(p) => p.id}
        rowTestId={(p) => `plugin-row-${p.id}`}
        row={(p) => (
          <>
            <Table.Td>
              {p.status === "available" ? (
                <Text fw={600}>{p.name}</Text>
              ) : (
                <Link to={`/admin/plugins/${encodeURIComponent(p.id)}`}>{p.name}</Link>
              )}
              <Text size="xs" c="dimmed">
                {p.description}
              </Text>
              {p.dependsOn.length > 0 && (
                <Text size="xs" c="dimmed">
                  Needs {p.dependsOn.map((d) => `${d.id} ${d.version}`).join(", ")}
                </Text>
              )}
            </Table.Td>
            <Table.Td>
              <StateBadge state={p.status} />
              {p.lastError && (
                <Text size="xs" c="red" maw={280}>
                  {p.lastError}
                </Text>
              )}
            </Table.Td>
            <Table.Td>
              {p.installedVersion && p.installedVersion !== p.version
                ? `${p.installedVersion} (${p.version} available)`
                : p.version}
            </Table.Td>
            <Table.Td>{p.category}</Table.Td>
            <Table.Td>
              <PluginActions plugin={p} />
            </Table.Td>
          </>
        )}
        minWidth={800}
        striped
        error={plugins.error}
        errorTitle="Plugins could not be read"
        pending={plugins.isPending}
        empty="This edition has no plugins."
      />
      <Card withBorder>
        <Title order={3} size="h4" mb="xs">
          Boot report
        </Title>
        <Text size="sm" c="dimmed" mb="sm">
          How enabling each plugin went when the server last started.
        </Text>
        <DataTable
          label="Boot report"
          columns={["Plugin", "Outcome", "Time", "Error"]}
          rows={startup.data ?? []}
          rowKey={(b) => b.plugin}
          row={(b) => (
            <>
              <Table.Td>{b.plugin}</Table.Td>
              <Table.Td>
                <StateBadge state={b.outcome} />
              </Table.Td>
              <Table.Td>{Math.round(b.ms)} ms</Table.Td>
              <Table.Td>{b.error ?? "—"}</Table.Td>
            </>
          )}
          error={startup.error}
          errorTitle="The boot report could not be read"
          pending={startup.isPending}
          empty="No plugin was enabled at start-up."
        />
      </Card>
    </Stack>
  )
}

export default PluginsPage
