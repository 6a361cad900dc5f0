/** Who a session is shared with (view: watch; control: use), adding and revoking shares. */
import {
  Badge,
  Button,
  Group,
  Loader,
  Modal,
  SegmentedControl,
  Select,
  Stack,
  Table,
  Text,
  TextInput
} from "@mantine/core"
import { useDebouncedValue } from "@mantine/hooks"
import { IconTrash } from "@tabler/icons-react"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import { useSession } from "../auth/Session.tsx"
import { ProblemAlert, useSubmit } from "../ui/Problems.tsx"
import {
  closeButtonProps,
  EmptyState,
  IconAction,
  ListTable,
  notifyError,
  notifySuccess,
  QueryStates
} from "./Common.tsx"

type ShareAccess = "view" | "control"

/** A user picker: search by name for callers who may list users, otherwise the user's id. */
const UserField = ({
  value,
  onChange,
  error
}: {
  readonly value: string
  readonly onChange: (id: string) => void
  readonly error?: string | undefined
}) => {
  const session = useSession()
  const [search, setSearch] = useState("")
  const [q] = useDebouncedValue(search.trim(), 250)
  const canList = session.can("users:read")
  const users = useQuery({
    queryKey: ["users", "share-picker", q],
    enabled: canList,
    queryFn: async () =>
      unwrap(await api.GET("/api/users", { params: { query: { limit: "20", ...(q ? { q } : {}) } } }))
  })
  if (!canList) {
    return (
      <TextInput
        label="User ID"
        description="The ID of the user to share with (ask them: it is on their Account page)"
        required
        value={value}
        onChange={(e) => onChange(e.currentTarget.value.trim())}
        error={error}
      />
    )
  }
  const data = (users.data?.items ?? [])
    .filter((u) => u.id !== session.me?.id)
    .map((u) => ({ value: u.id, label: u.displayName ? `${u.displayName} (${u.username})` : u.username }))
  return (
    <Select
      label="User"
      placeholder="Search by name"
      searchable
      required
      data={data}
      value={value || null}
      onChange={(v) => onChange(v ?? "")}
      searchValue={search}
      onSearchChange={setSearch}
      nothingFoundMessage={users.isFetching ? "Searching…" : "No such user"}
      rightSection={users.isFetching ? <Loader size="xs" /> : undefined}
      filter={({ options }) => options}
      error={error}
    />
  )
}

export const ShareDialog = ({
  sessionId,
  title,
  opened,
  onClose
}: {
  readonly sessionId: string
  readonly title: string
  readonly opened: boolean
  readonly onClose: () => void
}) => {
  const queryClient = useQueryClient()
  const [userId, setUserId] = useState("")
  const [access, setAccess] = useState<ShareAccess>("view")
  const shares = useQuery({
    queryKey: ["session", sessionId, "shares"],
    enabled: opened,
    queryFn: async () => unwrap(await api.GET("/api/sessions/{id}/shares", { params: { path: { id: sessionId } } }))
  })
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["session", sessionId, "shares"] })
  const {
    submit: add,
    busy,
    error,
    fields
  } = useSubmit(async () => {
    unwrap(
      await api.POST("/api/sessions/{id}/shares", {
        params: { path: { id: sessionId } },
        body: { userId, access }
      })
    )
    notifySuccess(`Shared (${access})`)
    setUserId("")
    await refresh()
  })
  const revoke = async (user: string, username: string) => {
    try {
      unwrap(
        await api.DELETE("/api/sessions/{id}/shares/{userId}", { params: { path: { id: sessionId, userId: user } } })
      )
      notifySuccess(`${username} no longer has access`)
      await refresh()
    } catch (err) {
      notifyError(err, "Could not revoke the share")
    }
  }
  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={`Share ${title}`}
      size="lg"
      centered
      closeButtonProps={closeButtonProps}
    >
      <Stack>
        <form onSubmit={add} aria-label="Add a share">
          <Stack gap="sm">
            <UserField value={userId} onChange={setUserId} error={fields["userId"]} />
            <div>
              <Text size="sm" fw={500} id="share-access-label" mb={4}>
                Access
              </Text>
              <SegmentedControl
                aria-labelledby="share-access-label"
                value={access}
                onChange={(v) => setAccess(v === "control" ? "control" : "view")}
                data={[
                  { value: "view", label: "View: watch only" },
                  { value: "control", label: "Control: use it" }
                ]}
              />
            </div>
            <ProblemAlert error={error} placed={["userId"]} title="Could not share" />
            <Group justify="flex-end">
              <Button type="submit" loading={busy} disabled={!userId}>
                Share
              </Button>
            </Group>
          </Stack>
        </form>
        <Text fw={600} size="sm" component="h3" m={0}>
          Shared with
        </Text>
        <QueryStates
          query={shares}
          loading={<Loader size="sm" aria-label="Loading shares" />}
          isEmpty={(data) => data.items.length === 0}
          empty={<EmptyState title="Not shared">Only you (and administrators) can see this session.</EmptyState>}
        >
          {(data) => (
            <ListTable label="Shares" columns={["User", "Access", "Since"]}>
              {data.items.map((s) => (
                <Table.Tr key={s.userId}>
                  <Table.Td>{s.username}</Table.Td>
                  <Table.Td>
                    <Badge variant="dot" color={s.access === "control" ? "orange" : "blue"} tt="none">
                      {s.access}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{new Date(s.createdAt).toLocaleString()}</Table.Td>
                  <Table.Td>
                    <IconAction
                      tooltip="Revoke"
                      label={`Revoke access for ${s.username}`}
                      color="red"
                      onClick={() => void revoke(s.userId, s.username)}
                    >
                      <IconTrash size={16} />
                    </IconAction>
                  </Table.Td>
                </Table.Tr>
              ))}
            </ListTable>
          )}
        </QueryStates>
      </Stack>
    </Modal>
  )
}
