/** Small pieces the portal pages share: page header, error alert, empty state, confirmation dialog, platform info. */
import { Alert, Anchor, Button, Group, Modal, Stack, Text, ThemeIcon, Title } from "@mantine/core"
import { notifications } from "@mantine/notifications"
import { IconAlertTriangle, IconInbox } from "@tabler/icons-react"
import { useQuery } from "@tanstack/react-query"
import { type MouseEvent, type ReactNode, useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import { ApiError } from "../api/Problem.ts"
import type { ResponseOf } from "../api/Types.ts"
import { useSession } from "../auth/Session.tsx"
import { useNavigate } from "../Router.tsx"

/** What went wrong, in the server's words when it said something. */
export const messageOf = (error: unknown): string =>
  error instanceof ApiError
    ? error.problem.detail || error.problem.title
    : error instanceof Error
      ? error.message
      : "something went wrong"

export const PageHeader = ({
  title,
  description,
  actions
}: {
  readonly title: string
  readonly description?: ReactNode
  readonly actions?: ReactNode
}) => (
  <Group justify="space-between" align="flex-start" mb="lg" wrap="wrap">
    <Stack gap={4}>
      <Title order={2}>{title}</Title>
      {description && (
        <Text c="dimmed" size="sm">
          {description}
        </Text>
      )}
    </Stack>
    {actions && <Group gap="sm">{actions}</Group>}
  </Group>
)

/** Alert titles in the text colour: Mantine's light variant colours them below WCAG AA contrast. */
const readableTitle = { title: { color: "var(--mantine-color-text)" } }

/** Something the user must act on (not an error). */
export const Warning = ({ title, children }: { readonly title: string; readonly children: ReactNode }) => (
  <Alert color="yellow" title={title} icon={<IconAlertTriangle size={18} />} styles={readableTitle}>
    {children}
  </Alert>
)

/** Close buttons of dialogs and notifications need a name for screen readers. */
export const closeButtonProps = { "aria-label": "Close" } as const

export const ErrorAlert = ({
  error,
  title = "Could not load"
}: {
  readonly error: unknown
  readonly title?: string
}) => (
  <Alert color="red" role="alert" title={title} icon={<IconAlertTriangle size={18} />} styles={readableTitle}>
    {messageOf(error)}
  </Alert>
)

export const EmptyState = ({
  title,
  children,
  icon
}: {
  readonly title: string
  readonly children?: ReactNode
  readonly icon?: ReactNode
}) => (
  <Stack align="center" gap="xs" py="xl" ta="center">
    <ThemeIcon size={48} radius="xl" variant="light" color="gray" aria-hidden>
      {icon ?? <IconInbox size={26} />}
    </ThemeIcon>
    <Text fw={600}>{title}</Text>
    {children && (
      <Text c="dimmed" size="sm" maw={420}>
        {children}
      </Text>
    )}
  </Stack>
)

/**
 * A destructive action's confirmation: names what will happen, shows the
 * server's error in place when the action fails, closes on success.
 */
export const ConfirmDialog = ({
  opened,
  title,
  children,
  confirmLabel,
  onConfirm,
  onClose
}: {
  readonly opened: boolean
  readonly title: string
  readonly children: ReactNode
  readonly confirmLabel: string
  readonly onConfirm: () => Promise<unknown>
  readonly onClose: () => void
}) => {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const close = () => {
    setError(undefined)
    onClose()
  }
  return (
    <Modal opened={opened} onClose={close} title={title} centered closeButtonProps={closeButtonProps}>
      <Stack>
        <Text size="sm">{children}</Text>
        {error !== undefined && <ErrorAlert error={error} title="Failed" />}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button
            color="red"
            loading={busy}
            onClick={async () => {
              setBusy(true)
              setError(undefined)
              try {
                await onConfirm()
                close()
              } catch (e) {
                setError(e)
              } finally {
                setBusy(false)
              }
            }}
          >
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  )
}

export const notifySuccess = (message: string) =>
  notifications.show({ color: "green", message, closeButtonProps: { "aria-label": "Dismiss notification" } })
export const notifyError = (error: unknown, title = "Failed") =>
  notifications.show({
    color: "red",
    title,
    message: messageOf(error),
    closeButtonProps: { "aria-label": "Dismiss notification" }
  })

export type PlatformInfo = ResponseOf<"/api/platform">

/** `GET /api/platform`: the runtime sessions run on (simulated sessions are labelled), edition, version. */
export const usePlatform = () =>
  useQuery({
    queryKey: ["platform"],
    staleTime: 5 * 60_000,
    queryFn: async () => unwrap(await api.GET("/api/platform"))
  })

/** An in-app text link: a real `<a href>` that navigates without a reload. */
export const InAppLink = ({ to, children }: { readonly to: string; readonly children: ReactNode }) => {
  const navigate = useNavigate()
  return (
    <Anchor
      href={to}
      size="sm"
      onClick={(e: MouseEvent<HTMLAnchorElement>) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
        e.preventDefault()
        navigate(to)
      }}
    >
      {children}
    </Anchor>
  )
}

/** Template id → display name (sessions carry the template's short name), from the catalog's query. */
export const useTemplateNames = (): ReadonlyMap<string, string> => {
  const session = useSession()
  const templates = useQuery({
    queryKey: ["templates", "categories"],
    enabled: session.can("templates:read"),
    queryFn: async () => unwrap(await api.GET("/api/templates", { params: { query: { limit: "500" } } }))
  })
  return new Map((templates.data?.items ?? []).map((t) => [t.id, t.displayName]))
}
