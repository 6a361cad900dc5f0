/** Users: search, server-side cursor pages, create, edit roles and disabled, delete with confirmation. */
import { Button, Group, Modal, MultiSelect, PasswordInput, Stack, Switch, Table, Text, TextInput } from "@mantine/core"
import { useDebouncedValue } from "@mantine/hooks"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import type { BodyOf, ResponseOf } from "../api/Types.ts"
import { useSession } from "../auth/Session.tsx"
import {
  ConfirmButton,
  EmptyState,
  ErrorAlert,
  fieldErrorsOf,
  formatDate,
  Loading,
  notifyDone,
  PageHeader,
  Pager,
  StateBadge,
  useCursorPages
} from "./AdminUi.tsx"

type User = ResponseOf<"/api/users">["items"][number]
type RoleName = NonNullable<BodyOf<"/api/users", "post">["roles"]>[number]

export const useRoleNames = () => {
  const roles = useQuery({
    queryKey: ["roles"],
    queryFn: async () => unwrap(await api.GET("/api/roles"))
  })
  return (roles.data?.items.map((r) => r.name) ?? ["admin", "operator", "user", "viewer"]) as ReadonlyArray<RoleName>
}

const UserForm = ({ user, onDone }: { readonly user?: User; readonly onDone: () => void }) => {
  const queryClient = useQueryClient()
  const roleNames = useRoleNames()
  const [username, setUsername] = useState(user?.username ?? "")
  const [password, setPassword] = useState("")
  const [email, setEmail] = useState(user?.email ?? "")
  const [displayName, setDisplayName] = useState(user?.displayName ?? "")
  const [roles, setRoles] = useState<ReadonlyArray<string>>(user?.roles ?? ["user"])
  const [disabled, setDisabled] = useState(user?.disabled ?? false)
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const fields = fieldErrorsOf(error)
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const chosen = roles as Array<RoleName>
      if (user) {
        unwrap(
          await api.PATCH("/api/users/{id}", {
            params: { path: { id: user.id } },
            body: {
              displayName,
              email: email === "" ? null : email,
              roles: chosen,
              disabled,
              ...(password ? { password } : {})
            }
          })
        )
        notifyDone(`Saved ${user.username}`)
      } else {
        unwrap(
          await api.POST("/api/users", {
            body: {
              username,
              password,
              roles: chosen,
              ...(email ? { email } : {}),
              ...(displayName ? { displayName } : {})
            }
          })
        )
        notifyDone(`Created ${username}`)
      }
      await queryClient.invalidateQueries({ queryKey: ["users"] })
      await queryClient.invalidateQueries({ queryKey: ["admin-stats"] })
      onDone()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  const unplaced = Object.keys(fields).filter(
    (f) => !["username", "password", "email", "displayName", "roles", "disabled"].includes(f)
  )
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {!user && (
          <TextInput
            label="Username"
            required
            value={username}
            onChange={(e) => setUsername(e.currentTarget.value)}
            error={fields["username"]}
            data-autofocus
          />
        )}
        <PasswordInput
          label={user ? "New password (leave empty to keep)" : "Password"}
          required={!user}
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
          error={fields["password"]}
        />
        <TextInput
          label="Display name"
          value={displayName}
          onChange={(e) => setDisplayName(e.currentTarget.value)}
          error={fields["displayName"]}
        />
        <TextInput
          label="Email"
          type="email"
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
          error={fields["email"]}
        />
        <MultiSelect
          label="Roles"
          data={[...roleNames]}
          value={[...roles]}
          onChange={setRoles}
          error={fields["roles"]}
        />
        {user && (
          <Switch
            label="Disabled (cannot log in)"
            checked={disabled}
            onChange={(e) => setDisabled(e.currentTarget.checked)}
          />
        )}
        {(unplaced.length > 0 || (error !== undefined && Object.keys(fields).length === 0)) && (
          <ErrorAlert error={error} title={user ? "Could not save" : "Could not create the user"} />
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={busy}>
            {user ? "Save" : "Create user"}
          </Button>
        </Group>
      </Stack>
    </form>
  )
}

export const UsersPage = () => {
  const session = useSession()
  const queryClient = useQueryClient()
  const [search, setSearch] = useState("")
  const [q] = useDebouncedValue(search.trim(), 250)
  const [editing, setEditing] = useState<User | "new" | undefined>()
  const canWrite = session.can("users:write")
  const pages = useCursorPages(["users", { q }], async (cursor) =>
    unwrap(
      await api.GET("/api/users", {
        params: { query: { limit: "25", ...(cursor ? { cursor } : {}), ...(q ? { q } : {}) } }
      })
    )
  )
  const remove = async (user: User) => {
    unwrap(await api.DELETE("/api/users/{id}", { params: { path: { id: user.id } } }))
    notifyDone(`Deleted ${user.username}`)
    await queryClient.invalidateQueries({ queryKey: ["users"] })
    await queryClient.invalidateQueries({ queryKey: ["admin-stats"] })
  }
  return (
    <Stack gap="sm">
      <PageHeader
        title="Users"
        description="Local accounts, their roles and whether they may log in."
        actions={canWrite && <Button onClick={() => setEditing("new")}>New user</Button>}
      />
      <TextInput
        label="Search users"
        placeholder="username, name or email"
        value={search}
        onChange={(e) => setSearch(e.currentTarget.value)}
        maw={360}
      />
      <ErrorAlert error={pages.query.error} title="Users could not be read" />
      {pages.query.isPending ? (
        <Loading />
      ) : pages.items.length === 0 ? (
        <EmptyState>{q ? `No user matches “${q}”.` : "No users yet."}</EmptyState>
      ) : (
        <Table.ScrollContainer minWidth={700}>
          <Table striped highlightOnHover aria-label="Users">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Username</Table.Th>
                <Table.Th>Name</Table.Th>
                <Table.Th>Email</Table.Th>
                <Table.Th>Roles</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Created</Table.Th>
                {canWrite && <Table.Th>Actions</Table.Th>}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {pages.items.map((u) => (
                <Table.Tr key={u.id}>
                  <Table.Td>{u.username}</Table.Td>
                  <Table.Td>{u.displayName || "—"}</Table.Td>
                  <Table.Td>{u.email ?? "—"}</Table.Td>
                  <Table.Td>{u.roles.join(", ") || "—"}</Table.Td>
                  <Table.Td>
                    <StateBadge state={u.disabled ? "disabled" : "enabled"} />
                    {u.mfaEnabled && (
                      <Text span size="xs" ml={4}>
                        MFA
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{formatDate(u.createdAt)}</Table.Td>
                  {canWrite && (
                    <Table.Td>
                      <Group gap="xs" wrap="nowrap">
                        <Button
                          size="xs"
                          variant="default"
                          onClick={() => setEditing(u)}
                          aria-label={`Edit ${u.username}`}
                        >
                          Edit
                        </Button>
                        <ConfirmButton
                          label="Delete"
                          ariaLabel={`Delete ${u.username}`}
                          title={`Delete ${u.username}?`}
                          confirmLabel="Delete user"
                          disabled={u.id === session.me?.id}
                          onConfirm={() => remove(u)}
                        >
                          <Text size="sm">
                            The account, its sessions and its API keys are removed. This cannot be undone.
                          </Text>
                        </ConfirmButton>
                      </Group>
                    </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Pager pages={pages} />
      <Modal
        opened={editing !== undefined}
        onClose={() => setEditing(undefined)}
        title={editing === "new" ? "New user" : editing ? `Edit ${editing.username}` : ""}
      >
        {editing !== undefined && (
          <UserForm user={editing === "new" ? undefined : editing} onDone={() => setEditing(undefined)} />
        )}
      </Modal>
    </Stack>
  )
}

export default UsersPage
