/**
 * "My sessions": the caller's sessions and those shared with them, with
 * their state kept current by the live event stream (no polling), and what
 * may be done with each: open, hibernate, wake, files, share, delete.
 */
import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  Indicator,
  SegmentedControl,
  SimpleGrid,
  Skeleton,
  Stack,
  Text,
  Tooltip
} from "@mantine/core"
import {
  IconDeviceDesktop,
  IconFiles,
  IconPlayerPause,
  IconPlayerPlay,
  IconShare,
  IconTrash,
  IconWorld
} from "@tabler/icons-react"
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query"
import { type MouseEvent, type ReactNode, useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import type { ResponseOf } from "../api/Types.ts"
import { useSession } from "../auth/Session.tsx"
import { useLiveEvent, useLiveStatus } from "../live/LiveEvents.tsx"
import { useNavigate } from "../Router.tsx"
import {
  ConfirmDialog,
  EmptyState,
  ErrorAlert,
  LoadMore,
  notifyError,
  notifySuccess,
  PageHeader,
  type PlatformInfo,
  usePlatform,
  useTemplateNames
} from "./Common.tsx"
import { actionsFor, formatCpu, formatMemory, isActive, stateColor, stateLabel } from "./SessionState.ts"
import { ShareDialog } from "./ShareDialog.tsx"

type Page = ResponseOf<"/api/sessions">
type SessionItem = Page["items"][number]
type Filter = "current" | "terminated" | "failed"

const PAGE = 24

/** A button that is also a real link (middle-click, copy link) and navigates in-app. */
const LinkButton = ({
  to,
  children,
  icon,
  variant = "default",
  label
}: {
  readonly to: string
  readonly children: ReactNode
  readonly icon?: ReactNode
  readonly variant?: "default" | "filled" | "light"
  readonly label?: string
}) => {
  const navigate = useNavigate()
  return (
    <Button
      component="a"
      href={to}
      size="xs"
      variant={variant}
      leftSection={icon}
      aria-label={label}
      onClick={(e: MouseEvent<HTMLAnchorElement>) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
        e.preventDefault()
        navigate(to)
      }}
    >
      {children}
    </Button>
  )
}

const SimulatedNote = ({ platform }: { readonly platform: PlatformInfo | undefined }) =>
  platform?.runtime === "simulated" ? (
    <Stack gap={2}>
      <Badge color="grape" variant="dot" size="lg" tt="none">
        Simulated desktop
      </Badge>
      {platform.installHint && (
        <Text size="xs" c="dimmed">
          For real desktops: <Code>{platform.installHint}</Code>
        </Text>
      )}
    </Stack>
  ) : null

const SessionCard = ({
  session,
  title,
  platform,
  viewerId
}: {
  readonly session: SessionItem
  /** The template's display name (the session carries its short name). */
  readonly title: string
  readonly platform: PlatformInfo | undefined
  readonly viewerId: string | undefined
}) => {
  const queryClient = useQueryClient()
  const [busy, setBusy] = useState<"hibernate" | "wake" | undefined>()
  const [confirmDelete, setConfirmDelete] = useState(false)
  const [sharing, setSharing] = useState(false)
  const can = actionsFor(session)
  const intent = async (kind: "hibernate" | "wake") => {
    setBusy(kind)
    try {
      const path = kind === "hibernate" ? "/api/sessions/{id}/hibernate" : "/api/sessions/{id}/wake"
      unwrap(await api.POST(path, { params: { path: { id: session.id } } }))
      // The live stream reports when it lands; meanwhile the badge shows where it is going.
      await queryClient.invalidateQueries({ queryKey: ["sessions"] })
    } catch (e) {
      notifyError(e, kind === "hibernate" ? "Could not hibernate" : "Could not wake")
    } finally {
      setBusy(undefined)
    }
  }
  const remove = async () => {
    unwrap(await api.DELETE("/api/sessions/{id}", { params: { path: { id: session.id } } }))
    notifySuccess(`${title} is being deleted`)
    await queryClient.invalidateQueries({ queryKey: ["sessions"] })
  }
  const titleId = `session-${session.id}`
  const shared = session.access === "view" || session.access === "control"
  return (
    <Card withBorder radius="md" padding="md" component="article" aria-labelledby={titleId}>
      <Stack gap="sm">
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Stack gap={2} style={{ minWidth: 0 }}>
            <Text fw={600} id={titleId} component="h3" m={0} size="md" truncate>
              {title}
            </Text>
            <Text size="xs" c="dimmed">
              Started {new Date(session.createdAt).toLocaleString()} · {formatCpu(session.cpu)} ·{" "}
              {formatMemory(session.memory)}
            </Text>
          </Stack>
          <Badge
            color={stateColor(session)}
            variant="dot"
            size="lg"
            tt="none"
            role="status"
            aria-label={`State: ${stateLabel(session)}`}
            data-state={session.state}
          >
            {stateLabel(session)}
          </Badge>
        </Group>
        {shared && (
          <Text size="xs">
            <Badge size="xs" variant="default" mr={6}>
              {session.access}
            </Badge>
            Shared with you
          </Text>
        )}
        {session.access === "admin" && session.userId !== viewerId && (
          <Text size="xs" c="dimmed">
            Another user's session (you administer sessions)
          </Text>
        )}
        {session.state === "failed" && session.reason && (
          <Alert color="red" p="xs" title="Failed" styles={{ title: { color: "var(--mantine-color-text)" } }}>
            {session.reason}
          </Alert>
        )}
        <SimulatedNote platform={platform} />
        <Group gap="xs">
          {can.open && (
            <LinkButton
              to={`/sessions/${encodeURIComponent(session.id)}/view`}
              variant="filled"
              icon={<IconWorld size={14} />}
              label={`Open ${title}`}
            >
              {session.state === "hibernated" ? "Wake & open" : "Open"}
            </LinkButton>
          )}
          {can.hibernate && (
            <Button
              size="xs"
              variant="default"
              leftSection={<IconPlayerPause size={14} />}
              loading={busy === "hibernate"}
              onClick={() => void intent("hibernate")}
            >
              Hibernate
            </Button>
          )}
          {can.wake && (
            <Button
              size="xs"
              variant="default"
              leftSection={<IconPlayerPlay size={14} />}
              loading={busy === "wake"}
              onClick={() => void intent("wake")}
            >
              Wake
            </Button>
          )}
          {can.files && (
            <LinkButton to={`/sessions/${encodeURIComponent(session.id)}/files`} icon={<IconFiles size={14} />}>
              Files
            </LinkButton>
          )}
          {can.share && (
            <Button size="xs" variant="default" leftSection={<IconShare size={14} />} onClick={() => setSharing(true)}>
              Share
            </Button>
          )}
          {can.delete && (
            <Tooltip label="Delete this session">
              <Button
                size="xs"
                variant="subtle"
                color="red"
                leftSection={<IconTrash size={14} />}
                onClick={() => setConfirmDelete(true)}
              >
                Delete
              </Button>
            </Tooltip>
          )}
        </Group>
      </Stack>
      <ConfirmDialog
        opened={confirmDelete}
        title={`Delete ${title}?`}
        confirmLabel="Delete session"
        onConfirm={remove}
        onClose={() => setConfirmDelete(false)}
      >
        The desktop stops and the session is removed.{" "}
        {session.persistentHome ? "Its home directory is kept for your next session." : "Its data is lost."}
      </ConfirmDialog>
      {can.share && (
        <ShareDialog sessionId={session.id} title={title} opened={sharing} onClose={() => setSharing(false)} />
      )}
    </Card>
  )
}

const LiveIndicator = () => {
  const status = useLiveStatus()
  const label = status === "live" ? "Live" : status === "connecting" ? "Connecting…" : "Offline: reconnecting"
  return (
    <Group gap={6} aria-live="polite">
      <Indicator
        color={status === "live" ? "green" : status === "connecting" ? "yellow" : "red"}
        size={8}
        processing={status === "live"}
      >
        <span />
      </Indicator>
      <Text size="xs" c="dimmed" data-testid="live-status">
        {label}
      </Text>
    </Group>
  )
}

export const SessionsPage = () => {
  const platform = usePlatform()
  const [filter, setFilter] = useState<Filter>("current")
  const session = useSession()
  const displayNames = useTemplateNames()
  // A failure is worth saying out loud; other changes just update the badges.
  useLiveEvent("session.failed", (e) => {
    const name = displayNames.get(String(e.data["templateId"])) ?? "A session"
    notifyError(new Error(typeof e.data["reason"] === "string" ? e.data["reason"] : "it stopped"), `${name} failed`)
  })
  const list = useInfiniteQuery({
    queryKey: ["sessions", { filter }],
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: Page) => last.nextCursor ?? undefined,
    queryFn: async ({ pageParam }): Promise<ResponseOf<"/api/sessions">> =>
      unwrap(
        await api.GET("/api/sessions", {
          params: {
            query: {
              limit: String(PAGE),
              ...(pageParam ? { cursor: pageParam } : {}),
              ...(filter === "current" ? {} : { state: filter })
            }
          }
        })
      )
  })
  const items = (list.data?.pages.flatMap((p) => p.items) ?? []).filter((s) =>
    filter === "current" ? isActive(s) : true
  )
  return (
    <Stack>
      <PageHeader
        title="My sessions"
        description="Your desktops and those shared with you. States update live."
        actions={
          <>
            <LiveIndicator />
            <LinkButton to="/catalog" variant="filled">
              Launch from the catalog
            </LinkButton>
          </>
        }
      />
      <SegmentedControl
        w="fit-content"
        aria-label="Which sessions"
        value={filter}
        onChange={(v) => setFilter(v === "terminated" || v === "failed" ? v : "current")}
        data={[
          { value: "current", label: "Current" },
          { value: "terminated", label: "Deleted" },
          { value: "failed", label: "Failed" }
        ]}
      />
      {list.isError ? (
        <ErrorAlert error={list.error} />
      ) : list.isPending ? (
        <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
          {[0, 1].map((i) => (
            <Skeleton key={i} h={160} radius="md" />
          ))}
        </SimpleGrid>
      ) : items.length === 0 ? (
        <EmptyState title={filter === "current" ? "No sessions yet" : "None"} icon={<IconDeviceDesktop size={26} />}>
          {filter === "current" ? "Launch an application from the catalog to get a desktop in your browser." : ""}
        </EmptyState>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
          {items.map((s) => (
            <SessionCard
              key={s.id}
              session={s}
              title={displayNames.get(s.templateId) ?? s.templateName}
              platform={platform.data}
              viewerId={session.me?.id}
            />
          ))}
        </SimpleGrid>
      )}
      <LoadMore list={list} />
    </Stack>
  )
}

export default SessionsPage
