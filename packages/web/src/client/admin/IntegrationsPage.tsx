/**
 * Integrations (notification destinations of provider plugins): CRUD with
 * the config as JSON (secret fields come back masked and are kept when sent
 * back masked), "Send test" through the provider, deliveries with replay.
 */
import {
  Alert,
  Button,
  Group,
  JsonInput,
  Modal,
  Select,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title
} from "@mantine/core"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import { ApiError } from "../api/Problem.ts"
import type { ResponseOf } from "../api/Types.ts"
import { useSession } from "../auth/Session.tsx"
import {
  ConfirmButton,
  EmptyState,
  ErrorAlert,
  fieldErrorsOf,
  formatDate,
  Loading,
  notifyDone,
  notifyFailed,
  PageHeader,
  Pager,
  readableAlertTitle,
  StateBadge,
  useCursorPages
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
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const fields = fieldErrorsOf(error)
  const configErrors = Object.entries(fields)
    .filter(([k]) => k === "config" || k.startsWith("config."))
    .map(([k, m]) => `${k.replace(/^config\.?/, "") || "config"}: ${m}`)
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setError(undefined)
    let parsed: Record<string, unknown>
    try {
      const value: unknown = JSON.parse(config || "{}")
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not an object")
      parsed = value as Record<string, unknown>
    } catch {
      setError(
        new ApiError({
          status: 400,
          title: "Invalid JSON",
          detail: "config: not a JSON object",
          code: "invalid_json",
          errors: [{ path: "body.config", message: "not a JSON object" }]
        })
      )
      return
    }
    setBusy(true)
    try {
      if (integration) {
        unwrap(
          await api.PATCH("/api/integrations/{id}", {
            params: { path: { id: integration.id } },
            body: { name, enabled, config: parsed }
          })
        )
        notifyDone(`Saved ${name}`)
      } else {
        unwrap(
          await api.POST("/api/integrations", { body: { provider: provider ?? "", name, enabled, config: parsed } })
        )
        notifyDone(`Created ${name}`)
      }
      await queryClient.invalidateQueries({ queryKey: ["integrations"] })
      onDone()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
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
        {error !== undefined && configErrors.length === 0 && !fields["name"] && !fields["provider"] && (
          <ErrorAlert error={error} title="Not saved" />
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={busy}>
            {integration ? "Save" : "Create integration"}
          </Button>
        </Group>
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

const Deliveries = ({ integration }: { readonly integration: Integration }) => {
  const queryClient = useQueryClient()
  const [status, setStatus] = useState<"pending" | "delivered" | "failed" | "dead" | null>(null)
  const [busy, setBusy] = useState<string>()
  const pages = useCursorPages(["integrations", integration.id, "deliveries", status], async (cursor) =>
    unwrap(
      await api.GET("/api/integrations/{id}/deliveries", {
        params: {
          path: { id: integration.id },
          query: { limit: "20", ...(cursor ? { cursor } : {}), ...(status ? { status } : {}) }
        }
      })
    )
  )
  const replay = async (deliveryId: string) => {
    setBusy(deliveryId)
    try {
      const d = unwrap(
        await api.POST("/api/integrations/{id}/deliveries/{deliveryId}/replay", {
          params: { path: { id: integration.id, deliveryId } }
        })
      )
      notifyDone(`Replayed (${d.status})`)
      await queryClient.invalidateQueries({ queryKey: ["integrations", integration.id, "deliveries"] })
    } catch (e) {
      notifyFailed(e, "Replay failed")
    } finally {
      setBusy(undefined)
    }
  }
  return (
    <Stack gap="xs">
      <Group justify="space-between" align="flex-end">
        <Title order={3} size="h4">
          Deliveries of {integration.name}
        </Title>
        <Select
          label="Status"
          placeholder="Any"
          clearable
          data={["pending", "delivered", "failed", "dead"]}
          value={status}
          onChange={(v) => setStatus(v as typeof status)}
          w={160}
        />
      </Group>
      <ErrorAlert error={pages.query.error} />
      {pages.query.isPending ? (
        <Loading />
      ) : pages.items.length === 0 ? (
        <EmptyState>No deliveries{status ? ` with status ${status}` : ""}.</EmptyState>
      ) : (
        <Table.ScrollContainer minWidth={800}>
          <Table aria-label={`Deliveries of ${integration.name}`}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Subject</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Attempts</Table.Th>
                <Table.Th>Response</Table.Th>
                <Table.Th>Error</Table.Th>
                <Table.Th>When</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {pages.items.map((d) => (
                <Table.Tr key={d.id}>
                  <Table.Td>{d.subject}</Table.Td>
                  <Table.Td>
                    <StateBadge state={d.status} />
                  </Table.Td>
                  <Table.Td>{d.attempts}</Table.Td>
                  <Table.Td>{d.responseCode ?? "—"}</Table.Td>
                  <Table.Td>{d.lastError ?? "—"}</Table.Td>
                  <Table.Td>{formatDate(d.createdAt)}</Table.Td>
                  <Table.Td>
                    {(d.status === "dead" || d.status === "failed") && (
                      <Button size="xs" variant="default" loading={busy === d.id} onClick={() => replay(d.id)}>
                        Replay
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Pager pages={pages} />
    </Stack>
  )
}

export const IntegrationsPage = () => {
  const queryClient = useQueryClient()
  const [editing, setEditing] = useState<Integration | "new">()
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
      <ErrorAlert error={integrations.error} title="Integrations could not be read" />
      {outcome && <TestOutcome result={outcome.result} />}
      {testError && <ErrorAlert error={testError.error} title="The test could not be sent" />}
      {integrations.isPending ? (
        <Loading />
      ) : integrations.data?.length === 0 ? (
        <EmptyState>No integrations yet. Enable a notification plugin, then add one.</EmptyState>
      ) : (
        <Table.ScrollContainer minWidth={800}>
          <Table striped aria-label="Integrations">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Provider</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th>Secrets</Table.Th>
                <Table.Th>Updated</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(integrations.data ?? []).map((i) => (
                <Table.Tr key={i.id}>
                  <Table.Td>{i.name}</Table.Td>
                  <Table.Td>{i.provider}</Table.Td>
                  <Table.Td>
                    <StateBadge state={i.enabled ? "enabled" : "disabled"} />
                  </Table.Td>
                  <Table.Td>{i.secretFields.join(", ") || "—"}</Table.Td>
                  <Table.Td>{formatDate(i.updatedAt)}</Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      <Button
                        size="xs"
                        variant="default"
                        loading={testing === i.id}
                        onClick={() => sendTest(i)}
                        aria-label={`Send test through ${i.name}`}
                      >
                        Send test
                      </Button>
                      <Button
                        size="xs"
                        variant={selected === i.id ? "filled" : "default"}
                        onClick={() => setSelected(i.id)}
                        aria-label={`Deliveries of ${i.name}`}
                      >
                        Deliveries
                      </Button>
                      <Button size="xs" variant="default" onClick={() => setEditing(i)} aria-label={`Edit ${i.name}`}>
                        Edit
                      </Button>
                      <ConfirmButton
                        label="Delete"
                        ariaLabel={`Delete ${i.name}`}
                        title={`Delete ${i.name}?`}
                        confirmLabel="Delete integration"
                        onConfirm={() => remove(i)}
                      >
                        <Text size="sm">The integration and its delivery history are removed.</Text>
                      </ConfirmButton>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {current && <Deliveries integration={current} />}
      <Modal
        opened={editing !== undefined}
        onClose={() => setEditing(undefined)}
        title={editing === "new" ? "New integration" : editing ? `Edit ${editing.name}` : ""}
        size="lg"
      >
        {editing !== undefined && (
          <IntegrationForm integration={editing === "new" ? undefined : editing} onDone={() => setEditing(undefined)} />
        )}
      </Modal>
    </Stack>
  )
}

export default IntegrationsPage
