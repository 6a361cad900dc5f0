/** Outgoing webhooks: CRUD (the signing secret shown once), and each webhook's deliveries with replay. */
import {
  Alert,
  Button,
  Code,
  Group,
  Modal,
  MultiSelect,
  PasswordInput,
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
import type { ResponseOf } from "../api/Types.ts"
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

type Webhook = ResponseOf<"/api/webhooks">["items"][number]

export const useEventTypes = () =>
  useQuery({
    queryKey: ["event-catalogue"],
    staleTime: 60_000,
    queryFn: async () => unwrap(await api.GET("/api/events/catalogue")).items.map((e) => e.type)
  })

const WebhookForm = ({ webhook, onDone }: { readonly webhook?: Webhook; readonly onDone: () => void }) => {
  const queryClient = useQueryClient()
  const eventTypes = useEventTypes()
  const [name, setName] = useState(webhook?.name ?? "")
  const [url, setUrl] = useState(webhook?.url ?? "")
  const [types, setTypes] = useState<Array<string>>([...(webhook?.eventTypes ?? [])])
  const [secret, setSecret] = useState("")
  const [enabled, setEnabled] = useState(webhook?.enabled ?? true)
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const [createdSecret, setCreatedSecret] = useState<string>()
  const fields = fieldErrorsOf(error)
  const options = [...new Set([...(eventTypes.data ?? []), ...types, "*"])].sort()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      if (webhook) {
        unwrap(
          await api.PATCH("/api/webhooks/{id}", {
            params: { path: { id: webhook.id } },
            body: { name, url, eventTypes: types, enabled }
          })
        )
        notifyDone(`Saved ${name}`)
        onDone()
      } else {
        const created = unwrap(
          await api.POST("/api/webhooks", {
            body: { name, url, eventTypes: types, enabled, ...(secret ? { secret } : {}) }
          })
        )
        setCreatedSecret(created.secret)
      }
      await queryClient.invalidateQueries({ queryKey: ["webhooks"] })
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  if (createdSecret)
    return (
      <Stack>
        <Alert color="green" title="Webhook created" styles={readableAlertTitle}>
          Deliveries are signed with this secret. Copy it now: it is not shown again.
        </Alert>
        <Code block data-testid="webhook-secret">
          {createdSecret}
        </Code>
        <Group justify="flex-end">
          <Button onClick={onDone}>Done</Button>
        </Group>
      </Stack>
    )
  const known = ["name", "url", "eventTypes", "secret", "enabled"]
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <TextInput
          label="Name"
          required
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={fields["name"]}
        />
        <TextInput
          label="URL"
          required
          placeholder="https://example.com/hooks/streamspace"
          value={url}
          onChange={(e) => setUrl(e.currentTarget.value)}
          error={fields["url"]}
        />
        <MultiSelect
          label="Event types"
          required
          searchable
          data={options}
          value={types}
          onChange={setTypes}
          error={fields["eventTypes"] ?? Object.entries(fields).find(([k]) => k.startsWith("eventTypes."))?.[1]}
        />
        {!webhook && (
          <PasswordInput
            label="Signing secret (optional: one is generated)"
            autoComplete="new-password"
            value={secret}
            onChange={(e) => setSecret(e.currentTarget.value)}
            error={fields["secret"]}
          />
        )}
        <Switch label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        {error !== undefined && Object.keys(fields).every((f) => !known.some((k) => f.startsWith(k))) && (
          <ErrorAlert error={error} title="Not saved" />
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={busy}>
            {webhook ? "Save" : "Create webhook"}
          </Button>
        </Group>
      </Stack>
    </form>
  )
}

const Deliveries = ({ webhook }: { readonly webhook: Webhook }) => {
  const queryClient = useQueryClient()
  const [busy, setBusy] = useState<string>()
  const pages = useCursorPages(["webhooks", webhook.id, "deliveries"], async (cursor) =>
    unwrap(
      await api.GET("/api/webhooks/{id}/deliveries", {
        params: { path: { id: webhook.id }, query: { limit: "20", ...(cursor ? { cursor } : {}) } }
      })
    )
  )
  const replay = async (deliveryId: string) => {
    setBusy(deliveryId)
    try {
      const d = unwrap(
        await api.POST("/api/webhooks/{id}/deliveries/{deliveryId}/replay", {
          params: { path: { id: webhook.id, deliveryId } }
        })
      )
      notifyDone(`Replay queued (${d.status})`)
      await queryClient.invalidateQueries({ queryKey: ["webhooks", webhook.id, "deliveries"] })
    } catch (e) {
      notifyFailed(e, "Replay failed")
    } finally {
      setBusy(undefined)
    }
  }
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Title order={3} size="h4">
          Deliveries of {webhook.name}
        </Title>
        <Button
          size="xs"
          variant="default"
          onClick={() => queryClient.invalidateQueries({ queryKey: ["webhooks", webhook.id, "deliveries"] })}
        >
          Refresh
        </Button>
      </Group>
      <ErrorAlert error={pages.query.error} />
      {pages.query.isPending ? (
        <Loading />
      ) : pages.items.length === 0 ? (
        <EmptyState>Nothing was sent to this webhook yet.</EmptyState>
      ) : (
        <Table.ScrollContainer minWidth={800}>
          <Table aria-label={`Deliveries of ${webhook.name}`}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Event</Table.Th>
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
                <Table.Tr key={d.id} data-testid={`delivery-${d.id}`}>
                  <Table.Td>{d.eventType}</Table.Td>
                  <Table.Td>
                    <StateBadge state={d.status} />
                  </Table.Td>
                  <Table.Td>{d.attempts}</Table.Td>
                  <Table.Td>
                    {d.responseCode ?? "—"}
                    {d.durationMs !== null && ` · ${d.durationMs} ms`}
                  </Table.Td>
                  <Table.Td>{d.lastError ?? "—"}</Table.Td>
                  <Table.Td>{formatDate(d.createdAt)}</Table.Td>
                  <Table.Td>
                    {d.status !== "pending" && (
                      <Button
                        size="xs"
                        variant="default"
                        loading={busy === d.id}
                        onClick={() => replay(d.id)}
                        aria-label={`Replay delivery of ${d.eventType} from ${formatDate(d.createdAt)}`}
                      >
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

export const WebhooksPage = () => {
  const queryClient = useQueryClient()
  const [editing, setEditing] = useState<Webhook | "new">()
  const [selected, setSelected] = useState<string>()
  const webhooks = useQuery({
    queryKey: ["webhooks"],
    queryFn: async () => unwrap(await api.GET("/api/webhooks")).items
  })
  const remove = async (w: Webhook) => {
    unwrap(await api.DELETE("/api/webhooks/{id}", { params: { path: { id: w.id } } }))
    notifyDone(`Deleted ${w.name}`)
    if (selected === w.id) setSelected(undefined)
    await queryClient.invalidateQueries({ queryKey: ["webhooks"] })
  }
  const current = webhooks.data?.find((w) => w.id === selected)
  return (
    <Stack>
      <PageHeader
        title="Webhooks"
        description="Signed HTTP callbacks for platform events, retried with backoff; dead deliveries can be replayed."
        actions={<Button onClick={() => setEditing("new")}>New webhook</Button>}
      />
      <ErrorAlert error={webhooks.error} title="Webhooks could not be read" />
      {webhooks.isPending ? (
        <Loading />
      ) : webhooks.data?.length === 0 ? (
        <EmptyState>No webhooks yet.</EmptyState>
      ) : (
        <Table.ScrollContainer minWidth={800}>
          <Table striped aria-label="Webhooks">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>URL</Table.Th>
                <Table.Th>Events</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(webhooks.data ?? []).map((w) => (
                <Table.Tr key={w.id}>
                  <Table.Td>{w.name}</Table.Td>
                  <Table.Td>
                    <Text size="sm" ff="monospace">
                      {w.url}
                    </Text>
                  </Table.Td>
                  <Table.Td>{w.eventTypes.join(", ")}</Table.Td>
                  <Table.Td>
                    <StateBadge state={w.enabled ? "enabled" : "disabled"} />
                  </Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      <Button
                        size="xs"
                        variant={selected === w.id ? "filled" : "default"}
                        onClick={() => setSelected(w.id)}
                        aria-label={`Deliveries of ${w.name}`}
                      >
                        Deliveries
                      </Button>
                      <Button size="xs" variant="default" onClick={() => setEditing(w)} aria-label={`Edit ${w.name}`}>
                        Edit
                      </Button>
                      <ConfirmButton
                        label="Delete"
                        ariaLabel={`Delete ${w.name}`}
                        title={`Delete ${w.name}?`}
                        confirmLabel="Delete webhook"
                        onConfirm={() => remove(w)}
                      >
                        <Text size="sm">The webhook and its delivery history are removed.</Text>
                      </ConfirmButton>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {current && <Deliveries webhook={current} />}
      <Modal
        opened={editing !== undefined}
        onClose={() => setEditing(undefined)}
        title={editing === "new" ? "New webhook" : editing ? `Edit ${editing.name}` : ""}
        size="lg"
      >
        {editing !== undefined && (
          <WebhookForm webhook={editing === "new" ? undefined : editing} onDone={() => setEditing(undefined)} />
        )}
      </Modal>
    </Stack>
  )
}

export default WebhooksPage
