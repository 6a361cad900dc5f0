/**
 * `/sessions/:id/view`: the session's desktop (noVNC through the VNC proxy)
 * under a bar of session actions. Opening a hibernated session wakes it and
 * shows "Waking…" until it runs. The session is read under the query key
 * ["session", id], which the live event stream invalidates on session.*
 * events, so the page learns that a woken session runs without polling; it
 * connects then (not earlier: a connection waiting in the proxy would ask
 * for the wake again and again). It also reads the session again when a
 * connection drops, to tell a network drop (reconnect with backoff) from a
 * hibernated or ended session.
 */
import { ActionIcon, Alert, Badge, Box, Button, Center, Group, Loader, Stack, Text, Title } from "@mantine/core"
import { notifications } from "@mantine/notifications"
import {
  IconArrowLeft,
  IconAspectRatio,
  IconKeyboard,
  IconMaximize,
  IconMinimize,
  IconPlayerPause,
  IconPlayerPlay,
  IconRefresh
} from "@tabler/icons-react"
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import { type ReactNode, useCallback, useEffect, useRef, useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import { ApiError } from "../api/Problem.ts"
import type { ResponseOf } from "../api/Types.ts"
import { useLiveStatus } from "../live/LiveEvents.tsx"
import { useNavigate } from "../Router.tsx"
import type { PageProps } from "../routes.ts"
import { ClipboardPanel } from "./ClipboardPanel.tsx"
import { type ConnectionStatus, DesktopConnection, type DropDecision } from "./DesktopConnection.ts"
import { DeleteSessionButton } from "./DeleteSessionButton.tsx"
import { ConsentNotice, RecordingBadge, useRecordingState } from "./RecordingIndicator.tsx"

type Session = ResponseOf<"/api/sessions/{id}">

const scaleKey = "streamspace.viewer.scaleToFit"

export const sessionQueryKey = (id: string) => ["session", id] as const

const readSession = async (id: string): Promise<Session> =>
  unwrap(await api.GET("/api/sessions/{id}", { params: { path: { id } } }))

const ticketPath = async (id: string): Promise<string> =>
  unwrap(await api.POST("/api/sessions/{id}/vnc-ticket", { params: { path: { id } } })).url

const canControl = (s: Session) => s.access !== "view"
const canManage = (s: Session) => s.access === "owner" || s.access === "admin"
/**
 * The page connects to a session meant to run that is running or starting. A waking session (hibernated, desired
 * running) is connected once it runs: the live stream says when.
 */
const connectsTo = (s: Session) => s.desired === "running" && (s.state === "running" || s.state === "pending")
const isWaking = (s: Session) => s.desired === "running" && s.state === "hibernated"

const stateColour: Record<Session["state"], string> = {
  pending: "yellow",
  running: "green",
  hibernated: "gray",
  terminated: "dark",
  failed: "red"
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** Re-renders every `ms` while `active` (the reconnect countdown). */
const useNow = (active: boolean, ms = 250) => {
  const [now, setNow] = useState(Date.now)
  useEffect(() => {
    if (!active) return
    setNow(Date.now())
    const timer = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(timer)
  }, [active, ms])
  return now
}

const useFullscreen = (element: () => HTMLElement | null) => {
  const [fullscreen, setFullscreen] = useState(false)
  useEffect(() => {
    const onChange = () => setFullscreen(document.fullscreenElement !== null)
    document.addEventListener("fullscreenchange", onChange)
    return () => document.removeEventListener("fullscreenchange", onChange)
  }, [])
  const toggle = useCallback(() => {
    if (document.fullscreenElement) void document.exitFullscreen()
    else
      void element()
        ?.requestFullscreen()
        .catch((e: unknown) => notifications.show({ color: "red", title: "Fullscreen refused", message: messageOf(e) }))
  }, [element])
  return { fullscreen, toggle }
}

const StatusOverlay = ({ children }: { readonly children: ReactNode }) => (
  <Center pos="absolute" inset={0} style={{ pointerEvents: "none", zIndex: 2 }}>
    <Stack
      align="center"
      gap="sm"
      p="lg"
      role="status"
      aria-live="polite"
      bg="var(--mantine-color-body)"
      style={{ pointerEvents: "auto", borderRadius: "var(--mantine-radius-md)", maxWidth: 480, textAlign: "center" }}
    >
      {children}
    </Stack>
  </Center>
)

const ViewerPage = ({ params }: PageProps) => {
  const id = params["id"] ?? ""
  const queryClient = useQueryClient()
  const navigate = useNavigate()
  const stageRef = useRef<HTMLDivElement>(null)
  const screenRef = useRef<HTMLDivElement>(null)
  const connectionRef = useRef<DesktopConnection | undefined>(undefined)
  const [status, setStatus] = useState<ConnectionStatus>({ kind: "stopped", reason: undefined })
  const [remoteClipboard, setRemoteClipboard] = useState("")
  const [firstFrameAt, setFirstFrameAt] = useState<number | undefined>(undefined)
  const [scale, setScale] = useState(() => localStorage.getItem(scaleKey) !== "false")
  /** The page asked for a wake (opened hibernated, or "Wake" clicked): it says "Waking…" until connected. */
  const [waking, setWaking] = useState(false)
  const openedHibernated = useRef<boolean | undefined>(undefined)

  const session = useQuery({ queryKey: sessionQueryKey(id), queryFn: () => readSession(id) })
  const platform = useQuery({
    queryKey: ["platform"],
    enabled: session.data?.runtime === "simulated",
    queryFn: async () => unwrap(await api.GET("/api/platform"))
  })
  const data = session.data
  const viewOnly = data ? !canControl(data) : true
  const { fullscreen, toggle: toggleFullscreen } = useFullscreen(useCallback(() => stageRef.current, []))

  const storeSession = useCallback((s: Session) => queryClient.setQueryData(sessionQueryKey(id), s), [queryClient, id])

  const wake = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/sessions/{id}/wake", { params: { path: { id } } })),
    onMutate: () => setWaking(true),
    onSuccess: storeSession,
    onError: (e) => {
      setWaking(false)
      notifications.show({ color: "red", title: "Could not wake the session", message: messageOf(e) })
      void queryClient.invalidateQueries({ queryKey: sessionQueryKey(id) })
    }
  })
  const hibernate = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/sessions/{id}/hibernate", { params: { path: { id } } })),
    onSuccess: (s) => {
      setWaking(false)
      storeSession(s)
    },
    onError: (e) => notifications.show({ color: "red", title: "Could not hibernate", message: messageOf(e) })
  })

  const wakeNow = wake.mutate
  // Opening a hibernated session wakes it (once: a session hibernated while the page is open stays so until "Wake").
  useEffect(() => {
    if (!data || openedHibernated.current !== undefined) return
    openedHibernated.current = data.state === "hibernated" && data.desired === "hibernated"
    if (openedHibernated.current && canControl(data)) wakeNow()
  }, [data, wakeNow])

  const connectable = data !== undefined && connectsTo(data)

  /** After a drop: the session as it is now decides between reconnecting and showing why not. */
  const afterDrop = useCallback(async (): Promise<DropDecision> => {
    try {
      const fresh = await queryClient.fetchQuery({
        queryKey: sessionQueryKey(id),
        queryFn: () => readSession(id),
        staleTime: 0
      })
      return connectsTo(fresh) ? { kind: "retry" } : { kind: "stop" }
    } catch (e) {
      if (e instanceof ApiError && e.problem.status === 404) return { kind: "stop", reason: e.message }
      return { kind: "retry" }
    }
  }, [queryClient, id])

  const latest = useRef({ afterDrop, viewOnly, scale })
  latest.current = { afterDrop, viewOnly, scale }

  useEffect(() => {
    const target = screenRef.current
    if (!connectable || !target) return
    const connection = new DesktopConnection({
      target,
      ticketPath: () => ticketPath(id),
      afterDrop: () => latest.current.afterDrop(),
      onStatus: (next) => {
        setStatus(next)
        if (next.kind === "connected") {
          setWaking(false)
          performance.mark("streamspace:viewer:connect")
          // The desktop answered, so the session runs: read it once for the bar.
          void queryClient.invalidateQueries({ queryKey: sessionQueryKey(id) })
        }
      },
      onClipboard: setRemoteClipboard,
      onFirstFrame: (at) => {
        performance.mark("streamspace:viewer:first-frame")
        setFirstFrameAt(at)
      },
      viewOnly: latest.current.viewOnly,
      scale: latest.current.scale
    })
    connectionRef.current = connection
    connection.start()
    return () => {
      connection.stop()
      connectionRef.current = undefined
    }
  }, [connectable, id, queryClient])

  useEffect(() => connectionRef.current?.setViewOnly(viewOnly), [viewOnly])
  useEffect(() => {
    connectionRef.current?.setScale(scale)
    localStorage.setItem(scaleKey, String(scale))
  }, [scale])

  const live = useLiveStatus()
  const connected = status.kind === "connected"
  const retrying = status.kind === "retrying"
  const now = useNow(retrying)
  const recording = useRecordingState(id, connected)

  if (session.isPending) {
    return (
      <Center p="xl">
        <Loader aria-label="Loading the session" />
      </Center>
    )
  }
  if (session.isError || !data) {
    return (
      <Stack p="md" maw={640}>
        <Title order={2}>Desktop</Title>
        <Alert color="red" title="This session cannot be opened">
          {messageOf(session.error)}
        </Alert>
        <Button variant="default" leftSection={<IconArrowLeft size={16} />} onClick={() => navigate("/sessions")}>
          Back to sessions
        </Button>
      </Stack>
    )
  }

  const overlay = (() => {
    if (data.state === "terminated" || data.desired === "terminated")
      return (
        <StatusOverlay>
          <Title order={3}>This session has ended</Title>
          <Button variant="default" onClick={() => navigate("/sessions")}>
            Back to sessions
          </Button>
        </StatusOverlay>
      )
    if (data.state === "failed")
      return (
        <StatusOverlay>
          <Title order={3}>This session failed</Title>
          {data.reason && <Text>{data.reason}</Text>}
        </StatusOverlay>
      )
    // The first render of a hibernated session shows "Waking…" already: the wake is sent right after it.
    const wakingSoon = openedHibernated.current === undefined && data.state === "hibernated" && canControl(data)
    if (!connectable && (wake.isPending || wakingSoon || isWaking(data)))
      return (
        <StatusOverlay>
          <Loader aria-hidden />
          <Text fw={600}>Waking…</Text>
          {live !== "live" && !wake.isPending && (
            <>
              <Text size="sm">Live updates are offline, so this page cannot tell when the desktop is up.</Text>
              <Button variant="default" onClick={() => void session.refetch()}>
                Check again
              </Button>
            </>
          )}
        </StatusOverlay>
      )
    if (!connectable) {
      const asleep = data.state === "hibernated"
      return (
        <StatusOverlay>
          <Title order={3}>{asleep ? "Hibernated" : "Hibernating…"}</Title>
          <Text>
            {canControl(data)
              ? "The desktop is stopped; its home directory is kept."
              : "The desktop is stopped. Its owner (or a control share) can wake it; this page connects when it runs."}
          </Text>
          {canControl(data) ? (
            <Button leftSection={<IconPlayerPlay size={16} />} loading={wake.isPending} onClick={() => wake.mutate()}>
              Wake and connect
            </Button>
          ) : (
            <Button variant="default" onClick={() => void session.refetch()}>
              Check again
            </Button>
          )}
        </StatusOverlay>
      )
    }
    if (status.kind === "connecting") {
      const label =
        waking || data.state === "hibernated" ? "Waking…" : data.state === "pending" ? "Starting…" : "Connecting…"
      return (
        <StatusOverlay>
          <Loader aria-hidden />
          <Text fw={600}>{label}</Text>
          {status.attempt > 1 && <Text size="sm">Attempt {status.attempt}</Text>}
        </StatusOverlay>
      )
    }
    if (status.kind === "retrying") {
      const seconds = Math.max(0, Math.ceil((status.at - now) / 1000))
      return (
        <StatusOverlay>
          <Text fw={600}>Reconnecting in {seconds} s…</Text>
          <Text size="sm">{status.reason}</Text>
          <Button leftSection={<IconRefresh size={16} />} onClick={() => connectionRef.current?.reconnectNow()}>
            Reconnect now
          </Button>
        </StatusOverlay>
      )
    }
    if (status.kind === "stopped" && status.reason)
      return (
        <StatusOverlay>
          <Alert color="red" title="Disconnected">
            {status.reason}
          </Alert>
          <Button variant="default" onClick={() => connectionRef.current?.start()}>
            Try again
          </Button>
        </StatusOverlay>
      )
    return null
  })()

  const name = data.templateName
  return (
    <Stack gap="xs" h="calc(100dvh - var(--app-shell-header-height, 56px) - 2 * var(--mantine-spacing-md))">
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Group gap="xs" wrap="nowrap" miw={0}>
          <ActionIcon
            variant="default"
            size="lg"
            aria-label="Back to sessions"
            title="Back to sessions"
            onClick={() => navigate("/sessions")}
          >
            <IconArrowLeft size={18} />
          </ActionIcon>
          <Title order={2} size="h4" lineClamp={1}>
            {name}
          </Title>
          <Badge color={stateColour[data.state]} variant="dot" data-testid="session-state">
            {data.state}
          </Badge>
          {viewOnly && (
            <Badge color="blue" variant="dot">
              View only
            </Badge>
          )}
          {data.runtime === "simulated" && (
            <Badge color="orange" variant="dot">
              Simulated
            </Badge>
          )}
          <RecordingBadge state={recording.data} />
        </Group>
        <Group gap="xs">
          <ActionIcon
            variant={scale ? "filled" : "default"}
            size="lg"
            aria-label="Scale to fit"
            aria-pressed={scale}
            title={scale ? "Scaled to fit: click for actual size" : "Scale to fit"}
            onClick={() => setScale((s) => !s)}
          >
            <IconAspectRatio size={18} />
          </ActionIcon>
          <ActionIcon
            variant="default"
            size="lg"
            aria-label={fullscreen ? "Exit fullscreen" : "Fullscreen"}
            title={fullscreen ? "Exit fullscreen" : "Fullscreen"}
            onClick={toggleFullscreen}
          >
            {fullscreen ? <IconMinimize size={18} /> : <IconMaximize size={18} />}
          </ActionIcon>
          <ClipboardPanel
            remoteText={remoteClipboard}
            canSend={connected && !viewOnly}
            viewOnly={viewOnly}
            onSend={(text) => connectionRef.current?.paste(text)}
            onDone={() => connectionRef.current?.focus()}
          />
          <ActionIcon
            variant="default"
            size="lg"
            aria-label="Send Ctrl-Alt-Del"
            title="Send Ctrl-Alt-Del"
            disabled={!connected || viewOnly}
            onClick={() => connectionRef.current?.sendCtrlAltDel()}
          >
            <IconKeyboard size={18} />
          </ActionIcon>
          {canControl(data) && (
            <Button
              variant="default"
              leftSection={<IconPlayerPause size={16} />}
              disabled={data.state !== "running" || data.desired !== "running"}
              loading={hibernate.isPending}
              onClick={() => hibernate.mutate()}
            >
              Hibernate
            </Button>
          )}
          {canManage(data) && (
            <DeleteSessionButton
              sessionId={id}
              name={name}
              disabled={data.desired === "terminated"}
              onDeleted={() => navigate("/sessions")}
            />
          )}
        </Group>
      </Group>
      <ConsentNotice state={recording.data} />
      {data.runtime === "simulated" && (
        <Text size="sm" c="dimmed">
          Simulated session: no real desktop runs on this server, the screen is a stand-in.
          {platform.data?.installHint && (
            <>
              {" "}
              For real desktops, install on the server: <code>{platform.data.installHint}</code>
            </>
          )}
        </Text>
      )}
      <Box
        ref={stageRef}
        pos="relative"
        flex={1}
        mih={0}
        bg="dark.8"
        style={{ borderRadius: fullscreen ? 0 : "var(--mantine-radius-sm)", overflow: "hidden" }}
        data-first-frame={firstFrameAt === undefined ? undefined : firstFrameAt.toFixed(1)}
        data-connection={status.kind}
      >
        <div
          ref={screenRef}
          role="application"
          aria-roledescription="remote desktop"
          aria-label={`Desktop of ${name}${viewOnly ? " (view only: your input is not sent)" : ""}. Click it to send keyboard and mouse input.`}
          style={{ position: "absolute", inset: 0 }}
        />
        {overlay}
      </Box>
    </Stack>
  )
}

export default ViewerPage
