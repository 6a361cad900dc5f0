/** API keys: list, create (scopes, expiry; the key is shown once), revoke. */
import {
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Modal,
  MultiSelect,
  Select,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput
} from "@mantine/core"
import { IconCheck, IconCopy, IconKey, IconPlus } from "@tabler/icons-react"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { api, unwrap } from "../../api/ApiClient.ts"
import type { ResponseOf } from "../../api/Types.ts"
import { useSession } from "../../auth/Session.tsx"
import { listFieldError, ProblemAlert, useSubmit } from "../../ui/Problems.tsx"
import {
  closeButtonProps,
  ConfirmDialog,
  EmptyState,
  ListTable,
  notifySuccess,
  QueryStates,
  Warning
} from "../Common.tsx"
import { expiryOf, scopeOptions } from "./Scopes.ts"

type ApiKey = ResponseOf<"/api/api-keys">["items"][number]
type CreatedKey = ResponseOf<"/api/api-keys", "post">

const keysKey = ["api-keys"]

const expiries = [
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
  { value: "0", label: "Never" }
]

const CreateKeyDialog = ({ opened, onClose }: { readonly opened: boolean; readonly onClose: () => void }) => {
  const queryClient = useQueryClient()
  const me = useSession().me
  const [name, setName] = useState("")
  const [scopes, setScopes] = useState<Array<string>>([])
  const [expiry, setExpiry] = useState("90")
  const [created, setCreated] = useState<CreatedKey>()
  const options = scopeOptions(me?.permissions ?? [])
  const { submit, busy, error, fields, clear } = useSubmit(async () => {
    const expiresAt = expiryOf(expiry)
    const key = unwrap(
      await api.POST("/api/api-keys", { body: { name: name.trim(), scopes, ...(expiresAt ? { expiresAt } : {}) } })
    )
    setCreated(key)
    await queryClient.invalidateQueries({ queryKey: keysKey })
  })
  const close = () => {
    setName("")
    setScopes([])
    setExpiry("90")
    clear()
    setCreated(undefined)
    onClose()
  }
  const scopeError = listFieldError(fields, "scopes")
  return (
    <Modal
      opened={opened}
      onClose={close}
      title={created ? "Your new API key" : "Create an API key"}
      size="lg"
      centered
      closeButtonProps={closeButtonProps}
    >
      {created ? (
        <Stack>
          <Warning title="Copy the key now">
            This is the only time the key is shown. Store it somewhere safe; if you lose it, revoke it and create
            another.
          </Warning>
          <Code block data-testid="new-api-key" style={{ wordBreak: "break-all" }}>
            {created.key}
          </Code>
          <Group justify="space-between">
            <CopyButton value={created.key}>
              {({ copied, copy }) => (
                <Button
                  variant="default"
                  leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                  onClick={copy}
                >
                  {copied ? "Copied" : "Copy key"}
                </Button>
              )}
            </CopyButton>
            <Button onClick={close}>Done</Button>
          </Group>
        </Stack>
      ) : (
        <Stack component="form" onSubmit={submit}>
          <TextInput
            label="Name"
            description="What the key is for, e.g. the script or machine using it"
            required
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={fields["name"]}
            data-autofocus
          />
          <MultiSelect
            label="Scopes"
            description="What the key may do: at most what you may do yourself"
            placeholder={scopes.length === 0 ? "Choose scopes" : undefined}
            required
            searchable
            data={options.map((o) => ({ value: o.value, label: o.value }))}
            renderOption={({ option }) => (
              <Stack gap={0}>
                <Text size="sm">{option.value}</Text>
                <Text size="xs" c="dimmed">
                  {options.find((o) => o.value === option.value)?.description}
                </Text>
              </Stack>
            )}
            value={scopes}
            onChange={setScopes}
            error={scopeError}
          />
          <Select
            label="Expires"
            data={expiries}
            value={expiry}
            onChange={(v) => setExpiry(v ?? "90")}
            allowDeselect={false}
            error={fields["expiresAt"]}
          />
          <ProblemAlert error={error} placed={["name", "scopes", "expiresAt"]} title="Could not create the key" />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={busy} disabled={scopes.length === 0 || name.trim() === ""}>
              Create key
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  )
}

const formatDate = (d: string | null | undefined, none: string) => (d ? new Date(d).toLocaleDateString() : none)

export const ApiKeysPanel = () => {
  const queryClient = useQueryClient()
  const [creating, setCreating] = useState(false)
  const [revoking, setRevoking] = useState<ApiKey>()
  const keys = useQuery({
    queryKey: keysKey,
    queryFn: async () => unwrap(await api.GET("/api/api-keys"))
  })
  const revoke = async (key: ApiKey) => {
    unwrap(await api.DELETE("/api/api-keys/{id}", { params: { path: { id: key.id } } }))
    notifySuccess(`Revoked ${key.name}`)
    await queryClient.invalidateQueries({ queryKey: keysKey })
  }
  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed" maw={560}>
          API keys let scripts and tools call the StreamSpace API as you, limited to the scopes you give them. Send one
          as <Code>Authorization: Bearer &lt;key&gt;</Code>.
        </Text>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
          Create API key
        </Button>
      </Group>
      <QueryStates
        query={keys}
        loading={<Skeleton h={100} />}
        isEmpty={(data) => data.items.length === 0}
        empty={
          <EmptyState title="No API keys" icon={<IconKey size={26} />}>
            Create one to use the API from scripts.
          </EmptyState>
        }
      >
        {(data) => (
          <ListTable label="API keys" columns={["Name", "Key", "Scopes", "Expires", "Last used"]} striped>
            {data.items.map((k) => (
              <Table.Tr key={k.id}>
                <Table.Td>{k.name}</Table.Td>
                <Table.Td>
                  <Code>{k.prefix}…</Code>
                </Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    {k.scopes.map((s) => (
                      <Badge key={s} variant="default" size="sm" radius="sm" tt="none">
                        {s}
                      </Badge>
                    ))}
                  </Group>
                </Table.Td>
                <Table.Td>{formatDate(k.expiresAt, "Never")}</Table.Td>
                <Table.Td>{formatDate(k.lastUsedAt, "Not yet")}</Table.Td>
                <Table.Td>
                  <Button
                    size="xs"
                    variant="subtle"
                    color="red"
                    onClick={() => setRevoking(k)}
                    aria-label={`Revoke ${k.name}`}
                  >
                    Revoke
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </ListTable>
        )}
      </QueryStates>
      <CreateKeyDialog opened={creating} onClose={() => setCreating(false)} />
      <ConfirmDialog
        opened={revoking !== undefined}
        title={`Revoke ${revoking?.name ?? "key"}?`}
        confirmLabel="Revoke key"
        onConfirm={() => (revoking ? revoke(revoking) : Promise.resolve())}
        onClose={() => setRevoking(undefined)}
      >
        Anything using this key stops working at once. This cannot be undone.
      </ConfirmDialog>
    </Stack>
  )
}
