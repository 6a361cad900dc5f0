/** Outgoing webhooks: CRUD (the signing secret shown once), and each webhook's deliveries with replay. */
import {
  Alert,
  Button,
  Code,
  Group,
  MultiSelect,
  PasswordInput,
  Stack,
  Switch,
  Table,
  Text,
  TextInput
} from "@mantine/core"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import type { ResponseOf } from "../api/Types.ts"
import { listFieldError, ProblemAlert, useSubmit } from "../ui/Problems.tsx"
import {
  DataTable,
  Deliveries,
  type Editing,
  EditorModal,
  FormActions,
  formatDate,
  notifyDone,
  PageHeader,
  readableAlertTitle,
  RowActions,
  ShowButton,
  StateBadge
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
  const [createdSecret, setCreatedSecret] = useState<string>()
  const options = [...new Set([...(eventTypes.data ?? []), ...types, "*"])].sort()
  const { submit, busy, error, fields } = useSubmit(async () => {
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
  })
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
          error={listFieldError(fields, "eventTypes")}
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
        <ProblemAlert error={error} placed={["name", "url", "eventTypes", "secret", "enabled"]} title="Not saved" />
        <FormActions busy={busy} submitLabel={webhook ? "Save" : "Create webhook"} onCancel={onDone} />
      </Stack>
    </form>
  )
}

const WebhookDeliveries = ({ webhook }: { readonly webhook: Webhook }) => {
  const queryClient = useQueryClient()
  const queryKey = ["webhooks", webhook.id, "deliveries"]
  return (
    <Deliveries
      of={webhook.name}
      queryKey={queryKey}
      fetchPage={async (cursor) =>
        unwrap(
          await api.GET("/api/webhooks/{id}/deliveries", {
            params: { path: { id: webhook.id }, query: { limit: "20", ...(cursor ? { cursor } : {}) } }
          })
        )
      }
      filter={
        <Button size="xs" variant="default" onClick={() => queryClient.invalidateQueries({ queryKey })}>
          Refresh
        </Button>
      }
      subject={{ label: "Event", value: (d) => d.eventType }}
      response={(d) => (
        <>
          {d.responseCode ?? "—"}
          {d.durationMs !== null && ` · ${d.durationMs} ms`}
        </>
      )}
      canReplay={(d) => d.status !== "pending"}
      replay={async (d) =>
        unwrap(
          await api.POST("/api/webhooks/{id}/deliveries/{deliveryId}/replay", {
            params: { path: { id: webhook.id, deliveryId: d.id } }
          })
        )
      }
      replayedMessage={(status) => `Replay queued (${status})`}
      replayLabel={(d) => `Replay delivery of ${d.eventType} from ${formatDate(d.createdAt)}`}
      rowTestId={(d) => `delivery-${d.id}`}
      empty="Nothing was sent to this webhook yet."
    />
  )
}

export const WebhooksPage = () => {
  const queryClient = useQueryClient()
  const [editing, setEditing] = useState<Editing<Webhook>>()
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
      <DataTable
        label="Webhooks"
        columns={["Name", "URL", "Events", "State", "Actions"]}
        rows={webhooks.data ?? []}
        rowKey={(w) => w.id}
        row={(w) => (
          <>
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
              <RowActions
                name={w.name}
                onEdit={() => setEditing(w)}
                deleteConfirmLabel="Delete webhook"
                consequence="The webhook and its delivery history are removed."
                onDelete={() => remove(w)}
              >
                <ShowButton
                  label="Deliveries"
                  name={w.name}
                  active={selected === w.id}
                  onShow={() => setSelected(w.id)}
                />
              </RowActions>
            </Table.Td>
          </>
        )}
        minWidth={800}
        striped
        error={webhooks.error}
        errorTitle="Webhooks could not be read"
        pending={webhooks.isPending}
        empty="No webhooks yet."
      />
      {current && <WebhookDeliveries webhook={current} />}
      <EditorModal
        editing={editing}
        onClose={() => setEditing(undefined)}
        newTitle="New webhook"
        editTitle={(w) => `Edit ${w.name}`}
        size="lg"
        form={(w, done) => <WebhookForm webhook={w} onDone={done} />}
      />
    </Stack>
  )
}

export default WebhooksPage
