/** Groups: cursor pages, create, rename, delete, and members (add by username search, remove). */
import { Button, Group, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core"
import { useDebouncedValue } from "@mantine/hooks"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import type { ResponseOf } from "../api/Types.ts"
import { ProblemAlert, useSubmit } from "../ui/Problems.tsx"
import { useSession } from "../auth/Session.tsx"
import {
  ConfirmButton,
  DataTable,
  type Editing,
  EditorModal,
  FormActions,
  formatDate,
  notifyDone,
  notifyFailed,
  PageHeader,
  Pager,
  RowActions,
  ShowButton,
  useCursorPages
} from "./AdminUi.tsx"
import { useUserSearch } from "./UserSearch.ts"

type GroupItem = ResponseOf<"/api/groups">["items"][number]

const GroupForm = ({ group, onDone }: { readonly group?: GroupItem; readonly onDone: () => void }) => {
  const queryClient = useQueryClient()
  const [name, setName] = useState(group?.name ?? "")
  const { submit, busy, error, fields } = useSubmit(async () => {
    if (group) unwrap(await api.PATCH("/api/groups/{id}", { params: { path: { id: group.id } }, body: { name } }))
    else unwrap(await api.POST("/api/groups", { body: { name } }))
    notifyDone(group ? `Renamed to ${name}` : `Created ${name}`)
    await queryClient.invalidateQueries({ queryKey: ["groups"] })
    onDone()
  })
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
        <ProblemAlert error={error} placed={["name"]} title="Not saved" />
        <FormActions busy={busy} submitLabel={group ? "Save" : "Create group"} onCancel={onDone} />
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
  const candidates = useUserSearch(q, canWrite && session.can("users:read"))
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
      <DataTable
        label={`Members of ${group.name}`}
        columns={["Username", "Name", "Added", canWrite && "Actions"]}
        rows={members.data ?? []}
        rowKey={(m) => m.id}
        row={(m) => (
          <>
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
          </>
        )}
        error={members.error}
        pending={members.isPending}
        empty="No members yet."
      />
    </Stack>
  )
}

export const GroupsPage = () => {
  const session = useSession()
  const queryClient = useQueryClient()
  const canWrite = session.can("groups:write")
  const [editing, setEditing] = useState<Editing<GroupItem>>()
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
      <DataTable
        label="Groups"
        columns={["Name", "Members", "Created", "Actions"]}
        rows={pages.items}
        rowKey={(g) => g.id}
        row={(g) => (
          <>
            <Table.Td>{g.name}</Table.Td>
            <Table.Td>{g.memberCount}</Table.Td>
            <Table.Td>{formatDate(g.createdAt)}</Table.Td>
            <Table.Td>
              <RowActions
                name={g.name}
                onEdit={canWrite ? () => setEditing(g) : undefined}
                editLabel="Rename"
                deleteConfirmLabel="Delete group"
                consequence="Members keep their accounts; the group and its quota are removed."
                onDelete={canWrite ? () => remove(g) : undefined}
              >
                <ShowButton label="Members" name={g.name} active={selected === g.id} onShow={() => setSelected(g.id)} />
              </RowActions>
            </Table.Td>
          </>
        )}
        striped
        error={pages.query.error}
        errorTitle="Groups could not be read"
        pending={pages.query.isPending}
        empty="No groups yet."
      />
      <Pager pages={pages} />
      {current && <Members group={current} canWrite={canWrite} />}
      <EditorModal
        editing={editing}
        onClose={() => setEditing(undefined)}
        newTitle="New group"
        editTitle={(g) => `Rename ${g.name}`}
        form={(g, done) => <GroupForm group={g} onDone={done} />}
      />
    </Stack>
  )
}

export default GroupsPage
