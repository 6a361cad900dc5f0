/** Username and password, then (when the account has TOTP) a code or a recovery code. */
import { Alert, Anchor, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core"
import { type FormEvent, useState } from "react"
import { ApiError } from "../api/Problem.ts"
import { useSession } from "./Session.tsx"

export const LoginPage = () => {
  const session = useSession()
  const [username, setUsername] = useState("")
  const [password, setPassword] = useState("")
  const [totp, setTotp] = useState("")
  const [step, setStep] = useState<"password" | "mfa">("password")
  const [recovery, setRecovery] = useState(false)
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const result = await session.login(username, password, step === "mfa" ? totp.trim() : undefined)
      if (result === "mfa") setStep("mfa")
    } catch (err) {
      setError(err instanceof ApiError ? err.problem.detail : "the server could not be reached")
    } finally {
      setBusy(false)
    }
  }
  return (
    <Center mih="100vh" p="md">
      <Paper component="form" onSubmit={submit} withBorder shadow="sm" p="xl" w={380} aria-labelledby="login-title">
        <Stack>
          <Title order={1} size="h2" id="login-title">
            StreamSpace
          </Title>
          {step === "password" ? (
            <>
              <TextInput
                label="Username"
                autoComplete="username"
                required
                value={username}
                onChange={(e) => setUsername(e.currentTarget.value)}
                data-autofocus
              />
              <PasswordInput
                label="Password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.currentTarget.value)}
              />
            </>
          ) : (
            <>
              <Text size="sm">
                {recovery
                  ? "Enter one of the recovery codes you saved when you set up two-factor authentication."
                  : "Enter the 6-digit code from your authenticator app."}
              </Text>
              <TextInput
                label={recovery ? "Recovery code" : "Authentication code"}
                autoComplete="one-time-code"
                inputMode={recovery ? "text" : "numeric"}
                required
                autoFocus
                value={totp}
                onChange={(e) => setTotp(e.currentTarget.value)}
              />
              <Anchor component="button" type="button" size="sm" onClick={() => setRecovery(!recovery)}>
                {recovery ? "Use an authentication code" : "Use a recovery code instead"}
              </Anchor>
            </>
          )}
          {error && (
            <Alert color="red" role="alert" title="Could not log in">
              {error}
            </Alert>
          )}
          <Button type="submit" loading={busy}>
            {step === "password" ? "Log in" : "Verify"}
          </Button>
        </Stack>
      </Paper>
    </Center>
  )
}
