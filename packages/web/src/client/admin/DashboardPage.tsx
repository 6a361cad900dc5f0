/**
 * The admin dashboard: sessions by state and user counts from
 * `GET /api/admin/stats` (SQL counts, fast at any size), plugins and their
 * health with the boot report, and the plugins' dashboard widgets.
 */
import { Alert, Card, Group, SimpleGrid, Skeleton, Stack, Table, Text, Title } from "@mantine/core"
import { useQuery } from "@tanstack/react-query"
import { lazy, Suspense } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import { useSession } from "../auth/Session.tsx"
import { PluginWidgets } from "../extensions/PluginWidgets.tsx"
import { Link } from "../Router.tsx"
import { ErrorAlert, PageHeader, StateBadge } from "./AdminUi.tsx"
import { usePluginList, usePluginStartup } from "./PluginQueries.ts"

const SessionsChart = lazy(() => import("./SessionsChart.tsx"))

const states = ["running", "pending", "hibernated", "terminated", "failed"] as const

const Stat = ({ label, value, hint }: { readonly label: string; readonly value: string; readonly hint?: string }) => (
  <Card withBorder padding="md">
    <Text size="sm" c="dimmed">
      {label}
    </Text>
    <Text fz={28} fw={700} data-testid={`stat-${label.toLowerCase().replaceAll(" ", "-")}`}>
      {value}
    </Text>
    {hint && (
      <Text size="xs" c="dimmed">
        {hint}
      </Text>
    )}
  </Card>
)

const PluginHealth = () => {
  const plugins = usePluginList()
  const startup = usePluginStartup()
  const installed = (plugins.data ?? []).filter((p) => p.status !== "available")
  const boot = new Map((startup.data ?? []).map((s) => [s.plugin, s]))
  return (
    <Card withBorder padding="md">
      <Group justify="space-between" mb="sm">
        <Title order={3} size="h4">
          Plugins
        </Title>
        <Link to="/admin/plugins">Manage plugins</Link>
      </Group>
      <ErrorAlert error={plugins.error} title="Plugins could not be read" />
      {plugins.isPending ? (
        <Skeleton h={80} />
      ) : installed.length === 0 ? (
        <Text c="dimmed" size="sm">
          No plugin is installed. {plugins.data?.length ?? 0} are available to install.
        </Text>
      ) : (
        <Table aria-label="Plugin health">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Plugin</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th>Boot</Table.Th>
              <Table.Th>Hook failures</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {installed.map((p) => {
              const b = boot.get(p.id)
              return (
                <Table.Tr key={p.id}>
                  <Table.Td>
                    <Link to={`/admin/plugins/${encodeURIComponent(p.id)}`}>{p.name}</Link>
                  </Table.Td>
                  <Table.Td>
                    <StateBadge state={p.status} />
                    {p.lastError && (
                      <Text size="xs" c="red">
                        {p.lastError}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{b ? `${b.outcome} in ${Math.round(b.ms)} ms` : "—"}</Table.Td>
                  <Table.Td>{p.hookFailures}</Table.Td>
                </Table.Tr>
              )
            })}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  )
}

export const DashboardPage = () => {
  const session = useSession()
  const stats = useQuery({
    queryKey: ["admin-stats"],
    queryFn: async () => unwrap(await api.GET("/api/admin/stats"))
  })
  const sessions = stats.data?.sessions
  const live = sessions ? sessions.running + sessions.pending + sessions.hibernated : 0
  const counts = states.map((state) => ({ state, count: sessions?.[state] ?? 0 }))
  return (
    <Stack>
      <PageHeader title="Dashboard" description="Sessions, users and plugins at a glance." />
      <ErrorAlert error={stats.error} title="The counts could not be read" />
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
        <Stat label="Running sessions" value={sessions ? String(sessions.running) : "…"} />
        <Stat label="Live sessions" value={sessions ? String(live) : "…"} hint="running, pending or hibernated" />
        <Stat label="All sessions" value={sessions ? String(sessions.total) : "…"} />
        {stats.data?.users !== null && (
          <Stat
            label="Users"
            value={stats.data?.users ? String(stats.data.users.total) : "…"}
            hint={stats.data?.users ? `${stats.data.users.disabled} disabled` : undefined}
          />
        )}
      </SimpleGrid>
      <Card withBorder padding="md">
        <Group justify="space-between" mb="sm">
          <Title order={3} size="h4">
            Sessions by state
          </Title>
          <Link to="/admin/sessions">All sessions</Link>
        </Group>
        <Suspense fallback={<Skeleton h={220} />}>
          {sessions ? <SessionsChart counts={counts} /> : <Skeleton h={220} />}
        </Suspense>
        <Table aria-label="Sessions by state" mt="sm">
          <Table.Tbody>
            <Table.Tr>
              {counts.map((c) => (
                <Table.Td key={c.state}>
                  <StateBadge state={c.state} />{" "}
                  <span data-testid={`sessions-${c.state}`}>{sessions ? c.count : "…"}</span>
                </Table.Td>
              ))}
            </Table.Tr>
          </Table.Tbody>
        </Table>
      </Card>
      {session.can("plugins:admin") ? (
        <PluginHealth />
      ) : (
        <Alert color="gray">Plugin health needs the plugins:admin permission.</Alert>
      )}
      <PluginWidgets />
    </Stack>
  )
}

export default DashboardPage
