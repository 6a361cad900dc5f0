/** Groups: cursor pages, create, rename, delete, and members (add by username search, remove). */
import { Button, Group, Modal, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core"
import { useDebouncedValue } from "@mantine/hooks"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
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
  useCursorPages
} from "./AdminUi.tsx"

type GroupItem = ResponseOf<"/api/groups">["items"][number]

const GroupForm = ({ group, onDone }: { readonly group?: GroupItem; readonly onDone: () => void }) => {
  const queryClient = useQueryClient()
  const [name, setName] = useState(group?.name ?? "")
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const fields = fieldErrorsOf(error)
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      if (group) unwrap(await api.PATCH("/api/groups/{id}", { params: { path: { id: group.id } }, body: { name } }))
      else unwrap(await api.POST("/api/groups", { body: { name } }))
      notifyDone(group ? `Renamed to ${name}` : `Created ${name}`)
      await queryClient.invalidateQueries({ queryKey: ["groups"] })
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
        <TextInput
          label="Name"
          required
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={fields["name"]}
          data-autofocus
        />
        {error !== undefined && !fields["name"] && <ErrorAlert error={error} title="Not saved" />}
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={busy}>
            {group ? "Save" : "Create group"}
          </Button>
        </Group>
      </Stack>
    </form>
  )
}

const Members = ({ group, canWrite }: { readonly group: GroupItem; readonly canWrite: boolean }) => {
  const queryClient = useQueryClient()
  const session = useSession()
  const [search, setSearch] = useState("")
  const [q] = useDebouncedValue(search, 250)
  const [pick, setPick] = useState<string | null>(null)
  const members = useQuery({
    queryKey: ["groups", group.id, "members"],
    queryFn: async () => unwrap(await api.GET("/api/groups/{id}/members", { params: { path: { id: group.id } } })).items
  })
  const candidates = useQuery({
    queryKey: ["users", { q, picker: true }],
    enabled: canWrite && session.can("users:read"),
    queryFn: async () =>
      unwrap(await api.GET("/api/users", { params: { query: { limit: "20", ...(q ? { q } : {}) } } })).items
  })
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: ["groups"] })
  }
  const add = async () => {
    if (!pick) return
    try {
      unwrap(await api.POST("/api/groups/{id}/members", { params: { path: { id: group.id } }, body: { userId: pick } }))
      notifyDone("Member added")
      setPick(null)
      setSearch("")
      await refresh()
    } catch (e) {
      notifyFailed(e, "Could not add the member")
    }
  }
  const remove = async (userId: string) => {
    unwrap(await api.DELETE("/api/groups/{id}/members/{userId}", { params: { path: { id: group.id, userId } } }))
    notifyDone("Member removed")
    await refresh()
  }
  const memberIds = new Set((members.data ?? []).map((m) => m.id))
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        Members of {group.name}
      </Title>
      {canWrite && (
        <Group align="flex-end">
          <Select
            label="Add a user"
            placeholder="Search by username"
            searchable
            searchValue={search}
            onSearchChange={setSearch}
            data={(candidates.data ?? [])
              .filter((u) => !memberIds.has(u.id))
              .map((u) => ({ value: u.id, label: u.username }))}
            value={pick}
            onChange={setPick}
            nothingFoundMessage="No such user"
            w={280}
          />
          <Button onClick={add} disabled={!pick}>
            Add
          </Button>
        </Group>
      )}
      <ErrorAlert error={members.error} />
      {members.isPending ? (
        <Loading />
      ) : members.data?.length === 0 ? (
        <EmptyState>No members yet.</EmptyState>
      ) : (
        <Table aria-label={`Members of ${group.name}`}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Username</Table.Th>
              <Table.Th>Name</Table.Th>
              <Table.Th>Added</Table.Th>
              {canWrite && <Table.Th>Actions</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(members.data ?? []).map((m) => (
              <Table.Tr key={m.id}>
                <Table.Td>{m.username}</Table.Td>
                <Table.Td>{m.displayName || "—"}</Table.Td>
                <Table.Td>{formatDate(m.addedAt)}</Table.Td>
                {canWrite && (
                  <Table.Td>
                    <ConfirmButton
                      label="Remove"
                      ariaLabel={`Remove ${m.username}`}
                      title={`Remove ${m.username} from ${group.name}?`}
                      confirmLabel="Remove"
                      onConfirm={() => remove(m.id)}
                    >
                      <Text size="sm">The user keeps the account but loses what the group grants (its quota).</Text>
                    </ConfirmButton>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  )
}

export const GroupsPage = () => {
  const session = useSession()
  const queryClient = useQueryClient()
  const canWrite = session.can("groups:write")
  const [editing, setEditing] = useState<GroupItem | "new">()
  const [selected, setSelected] = useState<string>()
  const pages = useCursorPages(["groups"], async (cursor) =>
    unwrap(await api.GET("/api/groups", { params: { query: { limit: "25", ...(cursor ? { cursor } : {}) } } }))
  )
  const remove = async (g: GroupItem) => {
    unwrap(await api.DELETE("/api/groups/{id}", { params: { path: { id: g.id } } }))
    notifyDone(`Deleted ${g.name}`)
    if (selected === g.id) setSelected(undefined)
    await queryClient.invalidateQueries({ queryKey: ["groups"] })
  }
  const current = pages.items.find((g) => g.id === selected)
  return (
    <Stack gap="sm">
      <PageHeader
        title="Groups"
        description="Groups of users; a group's quota binds each member."
        actions={canWrite && <Button onClick={() => setEditing("new")}>New group</Button>}
      />
      <ErrorAlert error={pages.query.error} title="Groups could not be read" />
      {pages.query.isPending ? (
        <Loading />
      ) : pages.items.length === 0 ? (
        <EmptyState>No groups yet.</EmptyState>
      ) : (
        <Table striped aria-label="Groups">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Members</Table.Th>
              <Table.Th>Created</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {pages.items.map((g) => (
              <Table.Tr key={g.id}>
                <Table.Td>{g.name}</Table.Td>
                <Table.Td>{g.memberCount}</Table.Td>
                <Table.Td>{formatDate(g.createdAt)}</Table.Td>
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    <Button
                      size="xs"
                      variant={selected === g.id ? "filled" : "default"}
                      onClick={() => setSelected(g.id)}
                      aria-label={`Members of ${g.name}`}
                    >
                      Members
                    </Button>
                    {canWrite && (
                      <>
                        <Button
                          size="xs"
                          variant="default"
                          onClick={() => setEditing(g)}
                          aria-label={`Rename ${g.name}`}
                        >
                          Rename
                        </Button>
                        <ConfirmButton
                          label="Delete"
                          ariaLabel={`Delete ${g.name}`}
                          title={`Delete ${g.name}?`}
                          confirmLabel="Delete group"
                          onConfirm={() => remove(g)}
                        >
                          <Text size="sm">Members keep their accounts; the group and its quota are removed.</Text>
                        </ConfirmButton>
                      </>
                    )}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Pager pages={pages} />
      {current && <Members group={current} canWrite={canWrite} />}
      <Modal
        opened={editing !== undefined}
        onClose={() => setEditing(undefined)}
        title={editing === "new" ? "New group" : editing ? `Rename ${editing.name}` : ""}
      >
        {editing !== undefined && (
          <GroupForm group={editing === "new" ? undefined : editing} onDone={() => setEditing(undefined)} />
        )}
      </Modal>
    </Stack>
  )
}

export default GroupsPage
