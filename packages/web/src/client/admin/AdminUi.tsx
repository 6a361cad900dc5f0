/**
 * Pieces every admin page shares: the page header, the problem alert, a
 * confirmation dialog for destructive actions, cursor pagination over the
 * API's `{ items, nextCursor }` pages, state badges and date formatting.
 */
import { Badge, Button, Center, Group, Loader, Modal, Stack, Table, Text, Title } from "@mantine/core"
import { notifications } from "@mantine/notifications"
import { type QueryKey, useQuery, useQueryClient } from "@tanstack/react-query"
import { type ReactNode, useState } from "react"
import { ErrorAlert as ProblemErrorAlert, messageOf, useSubmit } from "../ui/Problems.tsx"

export { PageHeader } from "../ui/PageHeader.tsx"
export { fieldErrorsOf, readableAlertTitle } from "../ui/Problems.tsx"

export const ErrorAlert = ({
  error,
  title = "Something went wrong"
}: {
  readonly error: unknown
  readonly title?: string
}) => <ProblemErrorAlert error={error || undefined} title={title} mb="md" />

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

const dismissProps = { "aria-label": "Dismiss notification" }
/** Close buttons of dialogs need a name for screen readers. */
const closeButtonProps = { "aria-label": "Close" } as const
export const notifyDone = (message: string) =>
  notifications.show({ color: "green", message, closeButtonProps: dismissProps })
export const notifyFailed = (error: unknown, title = "Failed") =>
  notifications.show({ color: "red", title, message: messageOf(error), closeButtonProps: dismissProps })

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
  const confirm = useSubmit(async () => {
    await onConfirm()
    setOpen(false)
  })
  return (
    <>
      <Button
        color={color}
        variant={variant}
        size={size}
        disabled={disabled}
        aria-label={ariaLabel}
        onClick={() => {
          confirm.clear()
          setOpen(true)
        }}
      >
        {label}
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title={title} centered closeButtonProps={closeButtonProps}>
        <Stack>
          <div>{children}</div>
          <ErrorAlert error={confirm.error} title="It did not work" />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button color={color === "red" ? "red.9" : color} loading={confirm.busy} onClick={() => confirm.submit()}>
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

/** Cancel and submit at the foot of an editor form. */
export const FormActions = ({
  busy,
  submitLabel,
  onCancel
}: {
  readonly busy: boolean
  readonly submitLabel: string
  readonly onCancel: () => void
}) => (
  <Group justify="flex-end">
    <Button variant="default" onClick={onCancel}>
      Cancel
    </Button>
    <Button type="submit" loading={busy}>
      {submitLabel}
    </Button>
  </Group>
)

/**
 * A row's actions: whatever the page adds first (`children`), then Edit and
 * Delete; Delete asks first and says what is removed (`consequence`).
 */
export const RowActions = ({
  name,
  onEdit,
  editLabel = "Edit",
  deleteConfirmLabel,
  consequence,
  onDelete,
  deleteDisabled,
  children
}: {
  readonly name: string
  readonly onEdit?: () => void
  readonly editLabel?: string
  readonly deleteConfirmLabel?: string
  readonly consequence?: ReactNode
  readonly onDelete?: () => Promise<unknown>
  readonly deleteDisabled?: boolean
  readonly children?: ReactNode
}) => (
  <Group gap="xs" wrap="nowrap">
    {children}
    {onEdit && (
      <Button size="xs" variant="default" onClick={onEdit} aria-label={`${editLabel} ${name}`}>
        {editLabel}
      </Button>
    )}
    {onDelete && deleteConfirmLabel && (
      <ConfirmButton
        label="Delete"
        ariaLabel={`Delete ${name}`}
        title={`Delete ${name}?`}
        confirmLabel={deleteConfirmLabel}
        disabled={deleteDisabled}
        onConfirm={onDelete}
      >
        <Text size="sm">{consequence}</Text>
      </ConfirmButton>
    )}
  </Group>
)

/** The row button that shows a detail panel (deliveries, members) under the table. */
export const ShowButton = ({
  label,
  name,
  active,
  onShow
}: {
  readonly label: string
  readonly name: string
  readonly active: boolean
  readonly onShow: () => void
}) => (
  <Button size="xs" variant={active ? "filled" : "default"} onClick={onShow} aria-label={`${label} of ${name}`}>
    {label}
  </Button>
)

/** What an editor modal edits: a new item, an existing one, or nothing (closed). */
export type Editing<T> = T | "new" | undefined

/**
 * The create/edit dialog of an admin list: the form gets the item (undefined
 * for a new one) and a close callback. The dialog keeps its title while it
 * fades out, so it is never a dialog without a name.
 */
export const EditorModal = <T,>({
  editing,
  onClose,
  newTitle,
  editTitle,
  size,
  form
}: {
  readonly editing: Editing<T>
  readonly onClose: () => void
  readonly newTitle: string
  readonly editTitle: (item: T) => string
  readonly size?: "lg"
  readonly form: (item: T | undefined, done: () => void) => ReactNode
}) => {
  const [titled, setTitled] = useState<Editing<T>>(editing)
  if (editing !== undefined && editing !== titled) setTitled(editing)
  return (
    <Modal
      opened={editing !== undefined}
      onClose={onClose}
      title={titled === "new" ? newTitle : titled !== undefined ? editTitle(titled) : ""}
      size={size}
      closeButtonProps={closeButtonProps}
    >
      {editing !== undefined && form(editing === "new" ? undefined : editing, onClose)}
    </Modal>
  )
}

/**
 * A list as a table, with its states: the read error, loading, and the
 * empty message. `row` gives one row's cells.
 */
export const DataTable = <T,>({
  label,
  columns,
  rows,
  rowKey,
  row,
  rowTestId,
  minWidth,
  striped,
  highlightOnHover,
  error,
  errorTitle,
  pending,
  empty
}: {
  readonly label: string
  /** Column headings; `false` leaves a column out (e.g. Actions without write access). */
  readonly columns: ReadonlyArray<string | false>
  readonly rows: ReadonlyArray<T>
  readonly rowKey: (item: T) => string
  readonly row: (item: T) => ReactNode
  readonly rowTestId?: (item: T) => string | undefined
  /** Scrolls sideways below this width. */
  readonly minWidth?: number
  readonly striped?: boolean
  readonly highlightOnHover?: boolean
  readonly error?: unknown
  readonly errorTitle?: string
  readonly pending: boolean
  readonly empty: ReactNode
}) => {
  const table = (
    <Table striped={striped} highlightOnHover={highlightOnHover} aria-label={label}>
      <Table.Thead>
        <Table.Tr>{columns.map((c) => c !== false && <Table.Th key={c}>{c}</Table.Th>)}</Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((item) => (
          <Table.Tr key={rowKey(item)} data-testid={rowTestId?.(item)}>
            {row(item)}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  )
  return (
    <>
      <ErrorAlert error={error} title={errorTitle} />
      {pending ? (
        <Loading />
      ) : rows.length === 0 ? (
        <EmptyState>{empty}</EmptyState>
      ) : minWidth === undefined ? (
        table
      ) : (
        <Table.ScrollContainer minWidth={minWidth}>{table}</Table.ScrollContainer>
      )}
    </>
  )
}

/**
 * A row's action that runs in place: `busy` is the id of the row whose
 * action runs (its button shows a spinner); a failure is notified under
 * `failedTitle`.
 */
export const useRowAction = () => {
  const [busy, setBusy] = useState<string>()
  const run = async (rowId: string, failedTitle: string, action: () => Promise<unknown>) => {
    setBusy(rowId)
    try {
      await action()
    } catch (e) {
      notifyFailed(e, failedTitle)
    } finally {
      setBusy(undefined)
    }
  }
  return { busy, run }
}

/**
 * The deliveries of a webhook or an integration: a cursor-paged table with
 * status, attempts, the endpoint's answer, and Replay for the ones that may
 * be sent again.
 */
export interface Delivery {
  readonly id: string
  readonly status: string
  readonly attempts: number
  readonly responseCode: number | null
  readonly lastError: string | null
  readonly createdAt: string
}

export const Deliveries = <D extends Delivery>({
  of,
  queryKey,
  filterKey,
  fetchPage,
  filter,
  subject,
  response = (d) => d.responseCode ?? "—",
  canReplay,
  replay,
  replayedMessage,
  replayLabel,
  rowTestId,
  empty
}: {
  /** The webhook's or integration's name. */
  readonly of: string
  /** Invalidated after a replay, with the pages of every filter. */
  readonly queryKey: QueryKey
  /** The filter in effect: a change starts again at the first page. */
  readonly filterKey?: unknown
  readonly fetchPage: (cursor: string | undefined) => Promise<PageOf<D>>
  /** Shown at the right of the heading (a status filter, a refresh button). */
  readonly filter?: ReactNode
  readonly subject: { readonly label: string; readonly value: (d: D) => ReactNode }
  readonly response?: (d: D) => ReactNode
  readonly canReplay: (d: D) => boolean
  readonly replay: (d: D) => Promise<{ readonly status: string }>
  readonly replayedMessage: (status: string) => string
  readonly replayLabel?: (d: D) => string
  readonly rowTestId?: (d: D) => string
  readonly empty: string
}) => {
  const queryClient = useQueryClient()
  const { busy, run } = useRowAction()
  const pages = useCursorPages(filterKey === undefined ? queryKey : [...queryKey, filterKey], fetchPage)
  const replayOne = (d: D) =>
    run(d.id, "Replay failed", async () => {
      const replayed = await replay(d)
      notifyDone(replayedMessage(replayed.status))
      await queryClient.invalidateQueries({ queryKey })
    })
  return (
    <Stack gap="xs">
      <Group justify="space-between" align="flex-end">
        <Title order={3} size="h4">
          Deliveries of {of}
        </Title>
        {filter}
      </Group>
      <DataTable
        label={`Deliveries of ${of}`}
        columns={[subject.label, "Status", "Attempts", "Response", "Error", "When", "Actions"]}
        rows={pages.items}
        rowKey={(d) => d.id}
        rowTestId={rowTestId}
        row={(d) => (
          <>
            <Table.Td>{subject.value(d)}</Table.Td>
            <Table.Td>
              <StateBadge state={d.status} />
            </Table.Td>
            <Table.Td>{d.attempts}</Table.Td>
            <Table.Td>{response(d)}</Table.Td>
            <Table.Td>{d.lastError ?? "—"}</Table.Td>
            <Table.Td>{formatDate(d.createdAt)}</Table.Td>
            <Table.Td>
              {canReplay(d) && (
                <Button
                  size="xs"
                  variant="default"
                  loading={busy === d.id}
                  onClick={() => replayOne(d)}
                  aria-label={replayLabel?.(d)}
                >
                  Replay
                </Button>
              )}
            </Table.Td>
          </>
        )}
        minWidth={800}
        error={pages.query.error}
        pending={pages.query.isPending}
        empty={empty}
      />
      <Pager pages={pages} />
    </Stack>
  )
}
