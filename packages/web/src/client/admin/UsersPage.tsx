/** Users: search, server-side cursor pages, create, edit roles and disabled, delete with confirmation. */
import { Button, MultiSelect, PasswordInput, Stack, Switch, Table, Text, TextInput } from "@mantine/core"
import { useDebouncedValue } from "@mantine/hooks"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import type { BodyOf, ResponseOf } from "../api/Types.ts"
import { ProblemAlert, useSubmit } from "../ui/Problems.tsx"
import { useSession } from "../auth/Session.tsx"
import {
  DataTable,
  type Editing,
  EditorModal,
  FormActions,
  formatDate,
  notifyDone,
  PageHeader,
  Pager,
  RowActions,
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
  const { submit, busy, error, fields } = useSubmit(async () => {
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
  })
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
        <ProblemAlert
          error={error}
          placed={["username", "password", "email", "displayName", "roles", "disabled"]}
          title={user ? "Could not save" : "Could not create the user"}
        />
        <FormActions busy={busy} submitLabel={user ? "Save" : "Create user"} onCancel={onDone} />
      </Stack>
    </form>
  )
}

export const UsersPage = () => {
  const session = useSession()
  const queryClient = useQueryClient()
  const [search, setSearch] = useState("")
  const [q] = useDebouncedValue(search.trim(), 250)
  const [editing, setEditing] = useState<Editing<User>>()
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
      <DataTable
        label="Users"
        columns={["Username", "Name", "Email", "Roles", "Status", "Created", canWrite && "Actions"]}
        rows={pages.items}
        rowKey={(u) => u.id}
        row={(u) => (
          <>
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
                <RowActions
                  name={u.username}
                  onEdit={() => setEditing(u)}
                  deleteConfirmLabel="Delete user"
                  consequence="The account, its sessions and its API keys are removed. This cannot be undone."
                  deleteDisabled={u.id === session.me?.id}
                  onDelete={() => remove(u)}
                />
              </Table.Td>
            )}
          </>
        )}
        minWidth={700}
        striped
        highlightOnHover
        error={pages.query.error}
        errorTitle="Users could not be read"
        pending={pages.query.isPending}
        empty={q ? `No user matches “${q}”.` : "No users yet."}
      />
      <Pager pages={pages} />
      <EditorModal
        editing={editing}
        onClose={() => setEditing(undefined)}
        newTitle="New user"
        editTitle={(u) => `Edit ${u.username}`}
        form={(u, done) => <UserForm user={u} onDone={done} />}
      />
    </Stack>
  )
}

export default UsersPage
