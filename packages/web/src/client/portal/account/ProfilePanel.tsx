/** Display name and email (PATCH /api/users/:id on yourself). */
import { Button, Group, Stack, Text, TextInput } from "@mantine/core"
import { useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { api, unwrap } from "../../api/ApiClient.ts"
import { type Me, useSession } from "../../auth/Session.tsx"
import { ProblemAlert, useSubmit } from "../../ui/Problems.tsx"
import { notifySuccess } from "../Common.tsx"

const ProfileForm = ({ me }: { readonly me: Me }) => {
  const queryClient = useQueryClient()
  const [displayName, setDisplayName] = useState(me.displayName)
  const [email, setEmail] = useState(me.email ?? "")
  const { submit, busy, error, fields } = useSubmit(async () => {
    unwrap(
      await api.PATCH("/api/users/{id}", {
        params: { path: { id: me.id } },
        body: { displayName: displayName.trim(), email: email.trim() === "" ? null : email.trim() }
      })
    )
    await queryClient.invalidateQueries({ queryKey: ["me"] })
    notifySuccess("Profile saved")
  })
  return (
    <form onSubmit={submit} aria-label="Profile" noValidate>
      <Stack maw={480}>
        <TextInput label="Username" value={me.username} readOnly description="Your username cannot be changed." />
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
        <Text size="xs" c="dimmed">
          User ID: <span data-testid="user-id">{me.id}</span> · Roles: {me.roles.join(", ")}
        </Text>
        <ProblemAlert error={error} placed={["displayName", "email"]} title="Could not save" />
        <Group>
          <Button type="submit" loading={busy}>
            Save profile
          </Button>
        </Group>
      </Stack>
    </form>
  )
}

export const ProfilePanel = () => {
  const me = useSession().me
  return me ? <ProfileForm me={me} /> : null
}
