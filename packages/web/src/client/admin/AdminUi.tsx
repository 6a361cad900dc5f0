/**
 * Pieces every admin page shares: the page header, the problem alert, a
 * confirmation dialog for destructive actions, cursor pagination over the
 * API's `{ items, nextCursor }` pages, state badges and date formatting.
 */
import { Alert, Badge, Button, Center, Group, Loader, Modal, Stack, Text, Title } from "@mantine/core"
import { notifications } from "@mantine/notifications"
import { type QueryKey, useQuery } from "@tanstack/react-query"
import { type ReactNode, useState } from "react"
import { ApiError, fieldErrors, type Problem } from "../api/Problem.ts"

export const PageHeader = ({
  title,
  description,
  actions
}: {
  readonly title: string
  readonly description?: string
  readonly actions?: ReactNode
}) => (
  <Group justify="space-between" align="flex-start" mb="md" wrap="wrap">
    <Stack gap={2}>
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

/** The problem document of an error, or a generic one for a network failure. */
export const problemOf = (error: unknown): Problem =>
  error instanceof ApiError
    ? error.problem
    : { status: 0, title: "Network error", detail: "the server could not be reached", code: "network" }

/** Alert titles in the body colour: Mantine's light-variant titles fail WCAG contrast. */
export const readableAlertTitle = { title: { color: "var(--mantine-color-text)" } } as const

export const ErrorAlert = ({
  error,
  title = "Something went wrong"
}: {
  readonly error: unknown
  readonly title?: string
}) =>
  error ? (
    <Alert color="red" role="alert" title={title} mb="md" styles={readableAlertTitle}>
      {problemOf(error).detail}
    </Alert>
  ) : null

export const Loading = ({ label = "Loading" }: { readonly label?: string }) => (
  <Center p="xl">
    <Loader aria-label={label} />
  </Center>
)

export const EmptyState = ({ children }: { readonly children: ReactNode }) => (
  <Text c="dimmed" ta="center" p="xl">
    {children}
  </Text>
)

const closeButtonProps = { "aria-label": "Dismiss notification" }
export const notifyDone = (message: string) => notifications.show({ color: "green", message, closeButtonProps })
export const notifyFailed = (error: unknown, title = "Failed") =>
  notifications.show({ color: "red", title, message: problemOf(error).detail, closeButtonProps })

/**
 * A button that asks before it acts: the dialog names what will happen, and
 * shows the server's problem when the action fails (the dialog stays open).
 */
export const ConfirmButton = ({
  label,
  title,
  children,
  confirmLabel,
  onConfirm,
  color = "red",
  variant = "light",
  size = "xs",
  disabled,
  ariaLabel
}: {
  readonly label: ReactNode
  readonly title: string
  readonly children: ReactNode
  readonly confirmLabel: string
  readonly onConfirm: () => Promise<unknown>
  readonly color?: string
  readonly variant?: "light" | "filled" | "subtle" | "outline" | "default"
  readonly size?: "xs" | "sm" | "md"
  readonly disabled?: boolean
  readonly ariaLabel?: string
}) => {
  const [open, setOpen] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const confirm = async () => {
    setBusy(true)
    setError(undefined)
    try {
      await onConfirm()
      setOpen(false)
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }
  return (
    <>
      <Button
        color={color}
        variant={variant}
        size={size}
        disabled={disabled}
        aria-label={ariaLabel}
        onClick={() => {
          setError(undefined)
          setOpen(true)
        }}
      >
        {label}
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title={title} centered>
        <Stack>
          <div>{children}</div>
          <ErrorAlert error={error} title="It did not work" />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button color={color === "red" ? "red.9" : color} loading={busy} onClick={confirm}>
              {confirmLabel}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  )
}

export interface PageOf<T> {
  readonly items: ReadonlyArray<T>
  readonly nextCursor: string | null
}

/**
 * Server-side cursor pagination: the cursors of the pages seen so far, so
 * "Previous" goes back without the server knowing about it. A change of
 * `key` (a new filter) starts again at the first page.
 */
export const useCursorPages = <T,>(key: QueryKey, fetchPage: (cursor: string | undefined) => Promise<PageOf<T>>) => {
  const [state, setState] = useState<{ key: string; cursors: ReadonlyArray<string | undefined> }>({
    key: JSON.stringify(key),
    cursors: [undefined]
  })
  const keyString = JSON.stringify(key)
  const cursors = state.key === keyString ? state.cursors : [undefined]
  const cursor = cursors[cursors.length - 1]
  const query = useQuery({ queryKey: [...key, cursor ?? null], queryFn: () => fetchPage(cursor) })
  const next = query.data?.nextCursor ?? null
  return {
    query,
    items: query.data?.items ?? [],
    page: cursors.length,
    hasNext: next !== null,
    hasPrevious: cursors.length > 1,
    next: () => next && setState({ key: keyString, cursors: [...cursors, next] }),
    previous: () => setState({ key: keyString, cursors: cursors.slice(0, -1) })
  }
}

export const Pager = ({
  pages
}: {
  readonly pages: {
    readonly page: number
    readonly hasNext: boolean
    readonly hasPrevious: boolean
    readonly next: () => void
    readonly previous: () => void
  }
}) =>
  pages.hasNext || pages.hasPrevious ? (
    <Group justify="flex-end" mt="sm" gap="xs">
      <Button variant="default" size="xs" disabled={!pages.hasPrevious} onClick={pages.previous}>
        Previous
      </Button>
      <Text size="sm" aria-live="polite">
        Page {pages.page}
      </Text>
      <Button variant="default" size="xs" disabled={!pages.hasNext} onClick={pages.next}>
        Next
      </Button>
    </Group>
  ) : null

const stateColors: Record<string, string> = {
  running: "green",
  enabled: "green",
  delivered: "green",
  success: "green",
  ok: "green",
  pending: "yellow",
  installed: "blue",
  hibernated: "blue",
  available: "gray",
  disabled: "gray",
  terminated: "gray",
  failed: "red",
  dead: "red",
  failure: "red",
  denied: "orange"
}

/** Never cut a state to "SUCC…" in a narrow table column. */
const badgeStyles = { root: { maxWidth: "none", flexShrink: 0, overflow: "visible" }, label: { overflow: "visible" } }

export const StateBadge = ({ state }: { readonly state: string }) => (
  // The dot variant keeps the text in the body colour: light tints fail WCAG contrast.
  <Badge color={stateColors[state] ?? "gray"} variant="dot" styles={badgeStyles}>
    {state}
  </Badge>
)

export const formatDate = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : "—")

/** A failed request's field errors keyed by field (`body.name` → `name`). */
export const fieldErrorsOf = (error: unknown): Record<string, string> =>
  error instanceof ApiError ? fieldErrors(error.problem) : {}
