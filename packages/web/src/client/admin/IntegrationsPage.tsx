/**
 * Integrations (notification destinations of provider plugins): CRUD with
 * the config as JSON (secret fields come back masked and are kept when sent
 * back masked), "Send test" through the provider, deliveries with replay.
 */
import { Alert, Button, JsonInput, Select, Stack, Switch, Table, Text, TextInput } from "@mantine/core"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import { ApiError } from "../api/Problem.ts"
import type { ResponseOf } from "../api/Types.ts"
import { ProblemAlert, useSubmit } from "../ui/Problems.tsx"
import { useSession } from "../auth/Session.tsx"
import {
  DataTable,
  Deliveries,
  type Editing,
  EditorModal,
  ErrorAlert,
  FormActions,
  formatDate,
  notifyDone,
  PageHeader,
  readableAlertTitle,
  RowActions,
  ShowButton,
  StateBadge
} from "./AdminUi.tsx"
import { usePluginList } from "./PluginQueries.ts"

type Integration = ResponseOf<"/api/integrations">["items"][number]
type TestResult = ResponseOf<"/api/integrations/{id}/test", "post">

const IntegrationForm = ({
  integration,
  onDone
}: {
  readonly integration?: Integration
  readonly onDone: () => void
}) => {
  const queryClient = useQueryClient()
  const session = useSession()
  const plugins = usePluginList(session.can("plugins:admin"))
  const providers = (plugins.data ?? []).filter((p) => p.type === "integration").map((p) => p.id)
  const [provider, setProvider] = useState<string | null>(integration?.provider ?? null)
  const [name, setName] = useState(integration?.name ?? "")
  const [enabled, setEnabled] = useState(integration?.enabled ?? true)
  const [config, setConfig] = useState(JSON.stringify(integration?.config ?? {}, null, 2))
  const { submit, busy, error, fields } = useSubmit(async () => {
    let parsed: Record<string, unknown>
    try {
      const value: unknown = JSON.parse(config || "{}")
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not an object")
      parsed = value as Record<string, unknown>
    } catch {
      throw new ApiError({
        status: 400,
        title: "Invalid JSON",
        detail: "config: not a JSON object",
        code: "invalid_json",
        errors: [{ path: "body.config", message: "not a JSON object" }]
      })
    }
    if (integration) {
      unwrap(
        await api.PATCH("/api/integrations/{id}", {
          params: { path: { id: integration.id } },
          body: { name, enabled, config: parsed }
        })
      )
      notifyDone(`Saved ${name}`)
    } else {
      unwrap(await api.POST("/api/integrations", { body: { provider: provider ?? "", name, enabled, config: parsed } }))
      notifyDone(`Created ${name}`)
    }
    await queryClient.invalidateQueries({ queryKey: ["integrations"] })
    onDone()
  })
  const configErrors = Object.entries(fields)
    .filter(([k]) => k === "config" || k.startsWith("config."))
    .map(([k, m]) => `${k.replace(/^config\.?/, "") || "config"}: ${m}`)
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {integration ? (
          <Text size="sm">Provider: {integration.provider}</Text>
        ) : providers.length > 0 ? (
          <Select
            label="Provider"
            required
            data={providers}
            value={provider}
            onChange={setProvider}
            error={fields["provider"]}
          />
        ) : (
          <TextInput
            label="Provider"
            required
            description="The id of a notification plugin, e.g. slack"
            value={provider ?? ""}
            onChange={(e) => setProvider(e.currentTarget.value)}
            error={fields["provider"]}
          />
        )}
        <TextInput
          label="Name"
          required
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={fields["name"]}
        />
        <JsonInput
          label="Configuration (JSON)"
          description="Secret fields read back as ******** and keep their value when left so."
          autosize
          minRows={6}
          value={config}
          onChange={setConfig}
          error={configErrors.length > 0 ? configErrors.join("; ") : undefined}
          formatOnBlur
        />
        <Switch label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        <ProblemAlert error={error} placed={["config", "name", "provider"]} title="Not saved" />
        <FormActions busy={busy} submitLabel={integration ? "Save" : "Create integration"} onCancel={onDone} />
      </Stack>
    </form>
  )
}

const TestOutcome = ({ result }: { readonly result: TestResult }) => (
  <Alert
    color={result.ok ? "green" : "red"}
    title={result.ok ? "Test notification delivered" : "Test notification not delivered"}
    role="status"
    styles={readableAlertTitle}
  >
    {result.deliveries.length === 0
      ? "The provider made no message for the test."
      : result.deliveries.map((d) => (
          <Text size="sm" key={d.id}>
            {d.status}
            {d.responseCode !== null && ` · HTTP ${d.responseCode}`}
            {d.latencyMs !== null && ` · ${d.latencyMs} ms`}
            {d.lastError && ` · ${d.lastError}`}
          </Text>
        ))}
  </Alert>
)

const IntegrationDeliveries = ({ integration }: { readonly integration: Integration }) => {
  const [status, setStatus] = useState<"pending" | "delivered" | "failed" | "dead" | null>(null)
  return (
    <Deliveries
      of={integration.name}
      queryKey={["integrations", integration.id, "deliveries"]}
      filterKey={status}
      fetchPage={async (cursor) =>
        unwrap(
          await api.GET("/api/integrations/{id}/deliveries", {
            params: {
              path: { id: integration.id },
              query: { limit: "20", ...(cursor ? { cursor } : {}), ...(status ? { status } : {}) }
            }
          })
        )
      }
      filter={
        <Select
          label="Status"
          placeholder="Any"
          clearable
          data={["pending", "delivered", "failed", "dead"]}
          value={status}
          onChange={(v) => setStatus(v as typeof status)}
          w={160}
        />
      }
      subject={{ label: "Subject", value: (d) => d.subject }}
      canReplay={(d) => d.status === "dead" || d.status === "failed"}
      replay={async (d) =>
        unwrap(
          await api.POST("/api/integrations/{id}/deliveries/{deliveryId}/replay", {
            params: { path: { id: integration.id, deliveryId: d.id } }
          })
        )
      }
      replayedMessage={(replayed) => `Replayed (${replayed})`}
      empty={`No deliveries${status ? ` with status ${status}` : ""}.`}
    />
  )
}

export const IntegrationsPage = () => {
  const queryClient = useQueryClient()
  const [editing, setEditing] = useState<Editing<Integration>>()
  const [selected, setSelected] = useState<string>()
  const [testing, setTesting] = useState<string>()
  const [outcome, setOutcome] = useState<{ id: string; result: TestResult }>()
  const [testError, setTestError] = useState<{ id: string; error: unknown }>()
  const integrations = useQuery({
    queryKey: ["integrations"],
    queryFn: async () => unwrap(await api.GET("/api/integrations")).items
  })
  const remove = async (i: Integration) => {
    unwrap(await api.DELETE("/api/integrations/{id}", { params: { path: { id: i.id } } }))
    notifyDone(`Deleted ${i.name}`)
    if (selected === i.id) setSelected(undefined)
    await queryClient.invalidateQueries({ queryKey: ["integrations"] })
  }
  const sendTest = async (i: Integration) => {
    setTesting(i.id)
    setOutcome(undefined)
    setTestError(undefined)
    try {
      const result = unwrap(await api.POST("/api/integrations/{id}/test", { params: { path: { id: i.id } }, body: {} }))
      setOutcome({ id: i.id, result })
      await queryClient.invalidateQueries({ queryKey: ["integrations", i.id, "deliveries"] })
    } catch (e) {
      setTestError({ id: i.id, error: e })
    } finally {
      setTesting(undefined)
    }
  }
  const current = integrations.data?.find((i) => i.id === selected)
  return (
    <Stack>
      <PageHeader
        title="Integrations"
        description="Where notification plugins send: Slack, Teams, Discord, PagerDuty, email."
        actions={<Button onClick={() => setEditing("new")}>New integration</Button>}
      />
      {outcome && <TestOutcome result={outcome.result} />}
      {testError && <ErrorAlert error={testError.error} title="The test could not be sent" />}
      <DataTable
        label="Integrations"
        columns={["Name", "Provider", "State", "Secrets", "Updated", "Actions"]}
        rows={integrations.data ?? []}
        rowKey={(i) => i.id}
        row={(i) => (
          <>
            <Table.Td>{i.name}</Table.Td>
            <Table.Td>{i.provider}</Table.Td>
            <Table.Td>
              <StateBadge state={i.enabled ? "enabled" : "disabled"} />
            </Table.Td>
            <Table.Td>{i.secretFields.join(", ") || "—"}</Table.Td>
            <Table.Td>{formatDate(i.updatedAt)}</Table.Td>
            <Table.Td>
              <RowActions
                name={i.name}
                onEdit={() => setEditing(i)}
                deleteConfirmLabel="Delete integration"
                consequence="The integration and its delivery history are removed."
                onDelete={() => remove(i)}
              >
                <Button
                  size="xs"
                  variant="default"
                  loading={testing === i.id}
                  onClick={() => sendTest(i)}
                  aria-label={`Send test through ${i.name}`}
                >
                  Send test
                </Button>
                <ShowButton
                  label="Deliveries"
                  name={i.name}
                  active={selected === i.id}
                  onShow={() => setSelected(i.id)}
                />
              </RowActions>
            </Table.Td>
          </>
        )}
        minWidth={800}
        striped
        error={integrations.error}
        errorTitle="Integrations could not be read"
        pending={integrations.isPending}
        empty="No integrations yet. Enable a notification plugin, then add one."
      />
      {current && <IntegrationDeliveries integration={current} />}
      <EditorModal
        editing={editing}
        onClose={() => setEditing(undefined)}
        newTitle="New integration"
        editTitle={(i) => `Edit ${i.name}`}
        size="lg"
        form={(i, done) => <IntegrationForm integration={i} onDone={done} />}
      />
    </Stack>
  )
}

export default IntegrationsPage
