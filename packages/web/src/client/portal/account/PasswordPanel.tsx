/** Change your password: the current one, then a new one the server's password policy accepts. */
import { Button, Group, PasswordInput, Stack, Text } from "@mantine/core"
import { useState } from "react"
import { api, unwrap } from "../../api/ApiClient.ts"
import { useSession } from "../../auth/Session.tsx"
import { ProblemAlert, useSubmit } from "../../ui/Problems.tsx"
import { notifySuccess } from "../Common.tsx"

export const PasswordPanel = () => {
  const session = useSession()
  const me = session.me
  const [current, setCurrent] = useState("")
  const [next, setNext] = useState("")
  const [repeat, setRepeat] = useState("")
  const mismatch = repeat.length > 0 && repeat !== next
  const { submit, busy, error, fields } = useSubmit(async () => {
    if (!me || mismatch) return
    unwrap(
      await api.PATCH("/api/users/{id}", {
        params: { path: { id: me.id } },
        body: { currentPassword: current, password: next }
      })
    )
    setCurrent("")
    setNext("")
    setRepeat("")
    notifySuccess("Password changed: your other logins were signed out")
    // The change revoked every refresh token, this console's too: log in again with the new password.
    const again = await session.login(me.username, next).catch(() => "failed" as const)
    if (again !== "ok") await session.logout()
  })
  return (
    <Stack component="form" onSubmit={submit} maw={480} aria-label="Change password">
      <PasswordInput
        label="Current password"
        autoComplete="current-password"
        required
        value={current}
        onChange={(e) => setCurrent(e.currentTarget.value)}
        error={fields["currentPassword"]}
      />
      <PasswordInput
        label="New password"
        autoComplete="new-password"
        required
        description="At least 10 characters, hard to guess, and not containing your name or username."
        value={next}
        onChange={(e) => setNext(e.currentTarget.value)}
        error={fields["password"]}
      />
      <PasswordInput
        label="Repeat the new password"
        autoComplete="new-password"
        required
        value={repeat}
        onChange={(e) => setRepeat(e.currentTarget.value)}
        error={mismatch ? "does not match the new password" : undefined}
      />
      <ProblemAlert error={error} placed={["password", "currentPassword"]} title="Could not change the password" />
      <Text size="xs" c="dimmed">
        Changing your password signs out every other login of your account.
      </Text>
      <Group>
        <Button type="submit" loading={busy} disabled={mismatch}>
          Change password
        </Button>
      </Group>
    </Stack>
  )
}
