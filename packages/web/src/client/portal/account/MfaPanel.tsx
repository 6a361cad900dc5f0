/**
 * Two-factor authentication (TOTP): enrol with a QR code of the otpauth URI
 * (drawn by `uqr` as SVG, shown as a data: image, which the CSP allows),
 * confirm with a code, then the recovery codes are shown once; or turn it
 * off with a code or a recovery code.
 */
import {
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Image,
  List,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  TextInput
} from "@mantine/core"
import { IconCheck, IconCopy } from "@tabler/icons-react"
import { useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { renderSVG } from "uqr"
import { api, unwrap } from "../../api/ApiClient.ts"
import { useSession } from "../../auth/Session.tsx"
import { messageOf, useSubmit } from "../../ui/Problems.tsx"
import { ErrorAlert, notifySuccess, Warning } from "../Common.tsx"

/** The otpauth URI as a QR code in a data: URL (an image, so no markup of ours is injected). */
export const qrDataUrl = (uri: string): string =>
  `data:image/svg+xml;charset=utf-8,${encodeURIComponent(renderSVG(uri, { ecc: "M", border: 2 }))}`

const CodeForm = ({
  label,
  submitLabel,
  color,
  description,
  onSubmit
}: {
  readonly label: string
  readonly submitLabel: string
  readonly color?: string
  readonly description?: string
  readonly onSubmit: (code: string) => Promise<void>
}) => {
  const [code, setCode] = useState("")
  const { submit, busy, error, fields } = useSubmit(async () => {
    await onSubmit(code.trim())
    setCode("")
  })
  return (
    <Stack component="form" onSubmit={submit} gap="sm" maw={360}>
      <TextInput
        label={label}
        description={description}
        autoComplete="one-time-code"
        required
        value={code}
        onChange={(e) => setCode(e.currentTarget.value)}
        error={fields["code"] ?? (error !== undefined ? messageOf(error) : undefined)}
      />
      <Group>
        <Button type="submit" loading={busy} color={color}>
          {submitLabel}
        </Button>
      </Group>
    </Stack>
  )
}

const RecoveryCodes = ({ codes, onDone }: { readonly codes: ReadonlyArray<string>; readonly onDone: () => void }) => (
  <Paper withBorder p="md" radius="md">
    <Stack>
      <Warning title="Save your recovery codes now">
        Each code logs you in once if you lose your authenticator. They are shown only this once.
      </Warning>
      <SimpleGrid
        cols={2}
        spacing="xs"
        aria-label="Recovery codes"
        component="ul"
        style={{ listStyle: "none", padding: 0 }}
      >
        {codes.map((c) => (
          <li key={c}>
            <Code fz="sm">{c}</Code>
          </li>
        ))}
      </SimpleGrid>
      <Group>
        <CopyButton value={codes.join("\n")}>
          {({ copied, copy }) => (
            <Button
              variant="default"
              leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
              onClick={copy}
            >
              {copied ? "Copied" : "Copy recovery codes"}
            </Button>
          )}
        </CopyButton>
        <Button onClick={onDone}>I have saved them</Button>
      </Group>
    </Stack>
  </Paper>
)

export const MfaPanel = () => {
  const session = useSession()
  const queryClient = useQueryClient()
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauthUri: string }>()
  const [recoveryCodes, setRecoveryCodes] = useState<ReadonlyArray<string>>()
  const [error, setError] = useState<unknown>()
  const [starting, setStarting] = useState(false)
  const enabled = session.me?.mfaEnabled ?? false

  const start = async () => {
    setStarting(true)
    setError(undefined)
    try {
      setEnrolment(unwrap(await api.POST("/api/auth/mfa/totp/enroll")))
    } catch (e) {
      setError(e)
    } finally {
      setStarting(false)
    }
  }
  const verify = async (code: string) => {
    const { recoveryCodes } = unwrap(await api.POST("/api/auth/mfa/totp/verify", { body: { code } }))
    setEnrolment(undefined)
    setRecoveryCodes(recoveryCodes)
    await queryClient.invalidateQueries({ queryKey: ["me"] })
  }
  const disable = async (code: string) => {
    unwrap(await api.POST("/api/auth/mfa/totp/disable", { body: { code } }))
    await queryClient.invalidateQueries({ queryKey: ["me"] })
    notifySuccess("Two-factor authentication is off")
  }

  if (recoveryCodes) return <RecoveryCodes codes={recoveryCodes} onDone={() => setRecoveryCodes(undefined)} />

  return (
    <Stack maw={640}>
      <Group gap="sm">
        <Text fw={600}>Status:</Text>
        {enabled ? (
          <Badge color="green" variant="dot" size="lg" tt="none">
            On
          </Badge>
        ) : (
          <Badge color="gray" variant="dot" size="lg" tt="none">
            Off
          </Badge>
        )}
      </Group>
      {enabled ? (
        <>
          <Text size="sm">
            Logging in asks for a code from your authenticator app. To turn this off, enter a current code or one of
            your recovery codes.
          </Text>
          <CodeForm
            label="Code or recovery code"
            submitLabel="Turn off two-factor authentication"
            color="red"
            onSubmit={disable}
          />
        </>
      ) : enrolment ? (
        <Paper withBorder p="md" radius="md">
          <Stack>
            <List type="ordered" spacing="xs" size="sm">
              <List.Item>Scan this QR code with an authenticator app (or enter the key by hand).</List.Item>
              <List.Item>Enter the 6-digit code the app shows.</List.Item>
            </List>
            <Group align="flex-start" wrap="wrap">
              <Image
                src={qrDataUrl(enrolment.otpauthUri)}
                alt="QR code of your authenticator key"
                w={200}
                h={200}
                bg="white"
                radius="sm"
              />
              <Stack gap={4}>
                <Text size="sm" fw={500}>
                  Key
                </Text>
                <Group gap="xs">
                  <Code data-testid="totp-secret">{enrolment.secret}</Code>
                  <CopyButton value={enrolment.secret}>
                    {({ copied, copy }) => (
                      <Button size="compact-xs" variant="default" onClick={copy}>
                        {copied ? "Copied" : "Copy key"}
                      </Button>
                    )}
                  </CopyButton>
                </Group>
              </Stack>
            </Group>
            <CodeForm label="Authentication code" submitLabel="Verify and turn on" onSubmit={verify} />
            <Group>
              <Button variant="subtle" onClick={() => setEnrolment(undefined)}>
                Cancel
              </Button>
            </Group>
          </Stack>
        </Paper>
      ) : (
        <>
          <Text size="sm">
            Protect your account with a second step at login: a code from an authenticator app on your phone.
          </Text>
          {error !== undefined && <ErrorAlert error={error} title="Could not start" />}
          <Group>
            <Button onClick={() => void start()} loading={starting}>
              Set up two-factor authentication
            </Button>
          </Group>
        </>
      )}
    </Stack>
  )
}
