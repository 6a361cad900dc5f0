/** One plugin: state and actions, its generated config form, dead letters with replay, job runs with "run now". */
import { Alert, Button, Card, Group, Stack, Table, Tabs, Text } from "@mantine/core"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { lazy, Suspense } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import type { PageProps } from "../routes.ts"
import { Link, useNavigate } from "../Router.tsx"
import {
  DataTable,
  EmptyState,
  ErrorAlert,
  formatDate,
  Loading,
  notifyDone,
  notifyFailed,
  PageHeader,
  StateBadge,
  useRowAction
} from "./AdminUi.tsx"
import { PluginActions } from "./PluginActions.tsx"
import { usePluginList } from "./PluginQueries.ts"

const PluginConfigForm = lazy(() => import("./PluginConfigForm.tsx"))

const ConfigTab = ({ id }: { readonly id: string }) => {
  const config = useQuery({
    queryKey: ["plugins", id, "config"],
    queryFn: async () => unwrap(await api.GET("/api/admin/plugins/{id}/config", { params: { path: { id } } }))
  })
  if (config.isPending) return <Loading label="Loading the configuration" />
  if (config.error) return <ErrorAlert error={config.error} title="The configuration could not be read" />
  const schema = config.data.schema
  const hasFields =
    typeof schema === "object" &&
    schema !== null &&
    "properties" in schema &&
    Object.keys((schema as { properties: object }).properties).length > 0
  if (!hasFields) return <EmptyState>This plugin has no settings.</EmptyState>
  return (
    <Suspense fallback={<Loading label="Loading the form" />}>
      <PluginConfigForm pluginId={id} schema={schema} value={config.data.value} />
    </Suspense>
  )
}

const DeadLettersTab = ({ id }: { readonly id: string }) => {
  const queryClient = useQueryClient()
  const letters = useQuery({
    queryKey: ["plugins", id, "dead-letters"],
    queryFn: async () =>
      unwrap(await api.GET("/api/admin/plugins/{id}/dead-letters", { params: { path: { id } } })).items
  })
  const { busy, run } = useRowAction()
  const replay = (letterId: string) =>
    run(letterId, "Replay failed", async () => {
      unwrap(
        await api.POST("/api/admin/plugins/{id}/dead-letters/{letterId}/replay", {
          params: { path: { id, letterId } }
        })
      )
      notifyDone("Replayed: the event is delivered to the subscription again")
      await queryClient.invalidateQueries({ queryKey: ["plugins", id, "dead-letters"] })
    })
  if (letters.error) return <ErrorAlert error={letters.error} />
  return (
    <DataTable
      label="Dead letters"
      columns={["Event", "Subscription", "Attempts", "Error", "When", "Actions"]}
      rows={letters.data ?? []}
      rowKey={(l) => l.id}
      row={(l) => (
        <>
          <Table.Td>{l.eventType}</Table.Td>
          <Table.Td>{l.subscription}</Table.Td>
          <Table.Td>{l.attempts}</Table.Td>
          <Table.Td>{l.error}</Table.Td>
          <Table.Td>{formatDate(l.createdAt)}</Table.Td>
          <Table.Td>
            {l.replayedAt ? (
              <Text size="sm">Replayed {formatDate(l.replayedAt)}</Text>
            ) : (
              <Button size="xs" variant="default" loading={busy === l.id} onClick={() => replay(l.id)}>
                Replay
              </Button>
            )}
          </Table.Td>
        </>
      )}
      minWidth={700}
      pending={letters.isPending}
      empty="No dead letters: every event reached its subscription."
    />
  )
}

const JobsTab = ({ id, enabled }: { readonly id: string; readonly enabled: boolean }) => {
  const queryClient = useQueryClient()
  const runs = useQuery({
    queryKey: ["plugins", id, "jobs"],
    queryFn: async () => unwrap(await api.GET("/api/admin/plugins/{id}/jobs", { params: { path: { id } } })).items
  })
  const { busy, run } = useRowAction()
  const jobNames = [...new Set((runs.data ?? []).map((r) => r.job))]
  const runNow = (name: string) =>
    run(name, `${name} did not run`, async () => {
      const outcome = unwrap(
        await api.POST("/api/admin/plugins/{id}/jobs/{name}/run", { params: { path: { id, name } } })
      )
      if (outcome.error) notifyFailed(new Error(outcome.error), `${name} failed`)
      else notifyDone(`${name} ran: ${outcome.outcome ?? "done"}`)
      await queryClient.invalidateQueries({ queryKey: ["plugins", id, "jobs"] })
    })
  if (runs.isPending) return <Loading />
  if (runs.error) return <ErrorAlert error={runs.error} />
  return (
    <Stack>
      {jobNames.length > 0 && (
        <Group>
          {jobNames.map((name) => (
            <Button
              key={name}
              size="xs"
              variant="default"
              disabled={!enabled}
              loading={busy === name}
              onClick={() => runNow(name)}
            >
              Run {name} now
            </Button>
          ))}
          {!enabled && (
            <Text size="sm" c="dimmed">
              Jobs run only while the plugin is enabled.
            </Text>
          )}
        </Group>
      )}
      <DataTable
        label="Job runs"
        columns={["Job", "Tick", "Started", "Finished", "Outcome", "Error"]}
        rows={runs.data}
        rowKey={(r) => `${r.job}-${r.tick}`}
        row={(r) => (
          <>
            <Table.Td>{r.job}</Table.Td>
            <Table.Td>{formatDate(r.tick)}</Table.Td>
            <Table.Td>{formatDate(r.startedAt)}</Table.Td>
            <Table.Td>{formatDate(r.finishedAt)}</Table.Td>
            <Table.Td>{r.outcome ? <StateBadge state={r.outcome} /> : "running"}</Table.Td>
            <Table.Td>{r.error ?? "—"}</Table.Td>
          </>
        )}
        minWidth={700}
        pending={false}
        empty="No job has run yet."
      />
    </Stack>
  )
}

export const PluginPage = ({ params }: PageProps) => {
  const id = params["id"] ?? ""
  const navigate = useNavigate()
  const plugins = usePluginList()
  const plugin = plugins.data?.find((p) => p.id === id)
  if (plugins.isPending) return <Loading />
  if (plugins.error) return <ErrorAlert error={plugins.error} title="Plugins could not be read" />
  if (!plugin)
    return (
      <Stack>
        <PageHeader title="Plugin not found" />
        <Text>
          This edition has no plugin “{id}”. <Link to="/admin/plugins">Back to plugins</Link>
        </Text>
      </Stack>
    )
  return (
    <Stack>
      <Text size="sm">
        <Link to="/admin/plugins">← Plugins</Link>
      </Text>
      <PageHeader
        title={plugin.name}
        description={plugin.description}
        actions={<PluginActions plugin={plugin} size="sm" onUninstalled={() => navigate("/admin/plugins")} />}
      />
      <Card withBorder>
        <Group gap="xl">
          <div>
            <Text size="xs" c="dimmed">
              State
            </Text>
            <span data-testid="plugin-state">
              <StateBadge state={plugin.status} />
            </span>
          </div>
          <div>
            <Text size="xs" c="dimmed">
              Version
            </Text>
            <Text size="sm">
              {plugin.installedVersion ?? "not installed"} (package {plugin.version})
            </Text>
          </div>
          <div>
            <Text size="xs" c="dimmed">
              Type
            </Text>
            <Text size="sm">
              {plugin.type} · {plugin.category}
            </Text>
          </div>
          <div>
            <Text size="xs" c="dimmed">
              Hook failures
            </Text>
            <Text size="sm">{plugin.hookFailures}</Text>
          </div>
        </Group>
        {plugin.lastError && (
          <Alert color="red" mt="sm" title="Last error">
            {plugin.lastError}
          </Alert>
        )}
      </Card>
      {plugin.status === "available" ? (
        <Alert color="blue">Install the plugin to configure it.</Alert>
      ) : (
        <Tabs defaultValue="config" keepMounted={false}>
          <Tabs.List>
            <Tabs.Tab value="config">Configuration</Tabs.Tab>
            <Tabs.Tab value="dead-letters">Dead letters</Tabs.Tab>
            <Tabs.Tab value="jobs">Job runs</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="config" pt="md">
            <ConfigTab id={id} />
          </Tabs.Panel>
          <Tabs.Panel value="dead-letters" pt="md">
            <DeadLettersTab id={id} />
          </Tabs.Panel>
          <Tabs.Panel value="jobs" pt="md">
            <JobsTab id={id} enabled={plugin.status === "enabled"} />
          </Tabs.Panel>
        </Tabs>
      )}
    </Stack>
  )
}

export default PluginPage
