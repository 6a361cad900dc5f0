/** Small pieces the portal pages share: page header, error alert, empty state, confirmation dialog, platform info. */
import {
  ActionIcon,
  Alert,
  Anchor,
  Button,
  Group,
  Modal,
  Stack,
  Table,
  Text,
  ThemeIcon,
  Tooltip,
  VisuallyHidden
} from "@mantine/core"
import { notifications } from "@mantine/notifications"
import { IconAlertTriangle, IconInbox } from "@tabler/icons-react"
import { type UseQueryResult, useQuery } from "@tanstack/react-query"
import { type ComponentProps, type MouseEvent, type ReactNode } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import { ErrorAlert as ProblemErrorAlert, messageOf, readableAlertTitle, useSubmit } from "../ui/Problems.tsx"
import type { ResponseOf } from "../api/Types.ts"
import { PageHeader as SharedPageHeader } from "../ui/PageHeader.tsx"
import { useSession } from "../auth/Session.tsx"
import { useNavigate } from "../Router.tsx"

export { messageOf } from "../ui/Problems.tsx"

export const PageHeader = (props: ComponentProps<typeof SharedPageHeader>) => (
  <SharedPageHeader spacing="roomy" {...props} />
)

/** Something the user must act on (not an error). */
export const Warning = ({ title, children }: { readonly title: string; readonly children: ReactNode }) => (
  <Alert color="yellow" title={title} icon={<IconAlertTriangle size={18} />} styles={readableAlertTitle}>
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
}) => <ProblemErrorAlert error={error ?? "something went wrong"} title={title} />

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
  const confirm = useSubmit(async () => {
    await onConfirm()
    close()
  })
  const close = () => {
    confirm.clear()
    onClose()
  }
  return (
    <Modal opened={opened} onClose={close} title={title} centered closeButtonProps={closeButtonProps}>
      <Stack>
        <Text size="sm">{children}</Text>
        {confirm.error !== undefined && <ErrorAlert error={confirm.error} title="Failed" />}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button color="red" loading={confirm.busy} onClick={() => confirm.submit()}>
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

/** The whole catalog (up to 500 templates): the catalog's categories and the template names come from it. */
export const useWholeCatalog = (enabled = true) =>
  useQuery({
    queryKey: ["templates", "categories"],
    enabled,
    queryFn: async () => unwrap(await api.GET("/api/templates", { params: { query: { limit: "500" } } }))
  })

/** Template id → display name (sessions carry the template's short name), from the catalog's query. */
export const useTemplateNames = (): ReadonlyMap<string, string> => {
  const templates = useWholeCatalog(useSession().can("templates:read"))
  return new Map((templates.data?.items ?? []).map((t) => [t.id, t.displayName]))
}

/** What a query shows: its error, `loading` while it runs, `empty` when `isEmpty`, else `children` with the data. */
export const QueryStates = <T,>({
  query,
  loading,
  isEmpty,
  empty,
  children
}: {
  readonly query: UseQueryResult<T>
  readonly loading: ReactNode
  readonly isEmpty: (data: T) => boolean
  readonly empty: ReactNode
  readonly children: (data: T) => ReactNode
}) => (
  <>
    {query.isError ? (
      <ErrorAlert error={query.error} />
    ) : query.isPending ? (
      loading
    ) : isEmpty(query.data) ? (
      empty
    ) : (
      children(query.data)
    )}
  </>
)

/** A table whose last column holds each row's action buttons (its heading only for screen readers). */
export const ListTable = ({
  label,
  columns,
  striped,
  highlightOnHover,
  children
}: {
  readonly label: string
  readonly columns: ReadonlyArray<string>
  readonly striped?: boolean
  readonly highlightOnHover?: boolean
  readonly children: ReactNode
}) => (
  <Table striped={striped} highlightOnHover={highlightOnHover} aria-label={label}>
    <Table.Thead>
      <Table.Tr>
        {columns.map((c) => (
          <Table.Th key={c}>{c}</Table.Th>
        ))}
        <Table.Th>
          <VisuallyHidden>Actions</VisuallyHidden>
        </Table.Th>
      </Table.Tr>
    </Table.Thead>
    <Table.Tbody>{children}</Table.Tbody>
  </Table>
)

/** An icon button with its name as tooltip; `label` is what screen readers hear. */
export const IconAction = ({
  tooltip,
  label,
  color,
  onClick,
  children
}: {
  readonly tooltip: string
  readonly label: string
  readonly color?: "red"
  readonly onClick: () => void
  readonly children: ReactNode
}) => (
  <Tooltip label={tooltip}>
    <ActionIcon variant="subtle" color={color} aria-label={label} onClick={onClick}>
      {children}
    </ActionIcon>
  </Tooltip>
)

/** "Load more" under an infinite list while the server has another page. */
export const LoadMore = ({
  list
}: {
  readonly list: {
    readonly hasNextPage: boolean
    readonly isFetchingNextPage: boolean
    readonly fetchNextPage: () => Promise<unknown>
  }
}) =>
  list.hasNextPage ? (
    <Group justify="center">
      <Button variant="default" onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
        Load more
      </Button>
    </Group>
  ) : null
