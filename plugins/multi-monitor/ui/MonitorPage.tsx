/**
 * One monitor's window (`/plugins/multi-monitor/monitor?session=…&monitor=N`,
 * opened from "Monitor layouts"): draws monitor N's rectangle of the
 * session's desktop from the viewer window the hub opened (one stream for
 * every monitor) and forwards pointer and keys there, moved by the monitor's
 * offset.
 */
import { Alert, Badge, Box, Button, Group, Loader, Stack, Text, useLocation, usePluginApi } from "@streamspace/web/sdk"
import { useQuery } from "@tanstack/react-query"
import { useEffect, useRef, useState } from "react"
import { forwardKey, forwardMouse, type SessionLayout, sourceCanvas } from "./lib/windows.ts"

export default function MonitorPage() {
  const api = usePluginApi()
  const { search } = useLocation()
  const sessionId = search.get("session") ?? ""
  const index = Number(search.get("monitor") ?? "0")
  const layout = useQuery({
    queryKey: ["plugin", api.plugin, "session-layout", sessionId],
    queryFn: () => api.get<SessionLayout>(`/sessions/${encodeURIComponent(sessionId)}/layout`),
    enabled: sessionId !== ""
  })
  const monitor = layout.data?.layout.monitors[index]
  const canvas = useRef<HTMLCanvasElement>(null)
  const [linked, setLinked] = useState(false)

  useEffect(() => {
    const target = canvas.current
    if (!monitor || !target) return
    const ctx = target.getContext("2d")
    if (!ctx) return
    let frame = 0
    const draw = () => {
      const source = sourceCanvas(sessionId)
      setLinked(source !== null)
      if (source)
        ctx.drawImage(source, monitor.x, monitor.y, monitor.width, monitor.height, 0, 0, monitor.width, monitor.height)
      frame = requestAnimationFrame(draw)
    }
    frame = requestAnimationFrame(draw)
    const desktopPoint = (e: MouseEvent) => {
      const box = target.getBoundingClientRect()
      return {
        x: monitor.x + Math.floor(((e.clientX - box.left) * monitor.width) / box.width),
        y: monitor.y + Math.floor(((e.clientY - box.top) * monitor.height) / box.height)
      }
    }
    const onMouse = (e: MouseEvent) => {
      const source = sourceCanvas(sessionId)
      if (!source) return
      e.preventDefault()
      if (e.type === "mousedown") target.focus()
      const p = desktopPoint(e)
      forwardMouse(source, e, p.x, p.y)
    }
    const onKey = (e: KeyboardEvent) => {
      const source = sourceCanvas(sessionId)
      if (!source) return
      e.preventDefault()
      forwardKey(source, e)
    }
    const mouse = ["mousedown", "mouseup", "mousemove"] as const
    for (const type of mouse) target.addEventListener(type, onMouse)
    target.addEventListener("keydown", onKey)
    target.addEventListener("keyup", onKey)
    return () => {
      cancelAnimationFrame(frame)
      for (const type of mouse) target.removeEventListener(type, onMouse)
      target.removeEventListener("keydown", onKey)
      target.removeEventListener("keyup", onKey)
    }
  }, [monitor, sessionId])

  if (sessionId === "") return <Alert title="No session">Open monitors from the Monitor layouts page.</Alert>
  if (layout.isPending) return <Loader aria-label="Loading the layout" />
  if (layout.isError)
    return (
      <Alert color="red" title="The layout could not be loaded">
        {layout.error.message}
      </Alert>
    )
  if (!monitor)
    return (
      <Alert color="red" title="No such monitor">
        The layout has no monitor {index + 1}.
      </Alert>
    )
  return (
    <Stack gap="xs">
      <Group>
        <Text fw={600}>
          Monitor {index + 1}: {monitor.name}
        </Text>
        <Text size="sm" c="dimmed">
          {monitor.width}×{monitor.height} at +{monitor.x}+{monitor.y}
        </Text>
        <Badge variant={linked ? "filled" : "outline"}>{linked ? "Live" : "Waiting for the desktop window"}</Badge>
        <Button size="xs" variant="default" onClick={() => void canvas.current?.requestFullscreen()}>
          Fullscreen
        </Button>
      </Group>
      <Box
        role="application"
        aria-label={`Monitor ${index + 1} (${monitor.name}) of the session's desktop`}
        style={{ overflow: "auto" }}
      >
        <canvas
          ref={canvas}
          width={monitor.width}
          height={monitor.height}
          tabIndex={0}
          data-monitor={monitor.name}
          style={{ display: "block", maxWidth: "100%", background: "#000", cursor: "default" }}
        />
      </Box>
    </Stack>
  )
}
