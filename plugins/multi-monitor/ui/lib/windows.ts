/**
 * One desktop stream, many windows. The "Monitor layouts" page (the hub)
 * opens the console's own viewer (`/sessions/:id/view`: tickets, reconnects,
 * wake-on-open) in a window of its own — the one RFB connection — and one
 * window per monitor. A monitor window reaches the viewer's canvas through
 * its opener (same origin), copies its monitor's rectangle each animation
 * frame, and forwards its pointer and keyboard to the viewer's canvas at the
 * matching desktop coordinate, where noVNC sends them on.
 */

/** What the hub keeps on its window for the monitor windows it opens. */
export interface Hub {
  streamspaceDesktops?: Record<string, Window | null>
}

export interface Rect {
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

export const viewerWindowName = (sessionId: string) => `streamspace-desktop-${sessionId}`

const hubOf = (w: Window): Hub => w as unknown as Hub

/** Opens (or focuses) the session's viewer window from the hub. */
export const openDesktop = (sessionId: string): Window | null => {
  const viewer = window.open(`/sessions/${encodeURIComponent(sessionId)}/view`, viewerWindowName(sessionId), "popup")
  const hub = hubOf(window)
  hub.streamspaceDesktops = { ...hub.streamspaceDesktops, [sessionId]: viewer }
  return viewer
}

export const openMonitor = (sessionId: string, index: number, rect: Rect): Window | null =>
  window.open(
    `/plugins/multi-monitor/monitor?session=${encodeURIComponent(sessionId)}&monitor=${index}`,
    `streamspace-monitor-${sessionId}-${index}`,
    `popup,width=${Math.min(rect.width, 1920)},height=${Math.min(rect.height, 1200)}`
  )

/** The desktop canvas of the session's viewer window, found through this window's opener. */
export const sourceCanvas = (sessionId: string): HTMLCanvasElement | null => {
  const opener = window.opener as unknown
  if (opener === null || typeof opener !== "object") return null
  const viewer = (opener as Hub).streamspaceDesktops?.[sessionId]
  if (!viewer || viewer.closed) return null
  try {
    return viewer.document.querySelector<HTMLCanvasElement>('[role="application"] canvas')
  } catch {
    return null
  }
}

/** The viewer canvas' client point of desktop point (x, y) (the canvas is scaled to fit its window). */
export const clientPointOf = (canvas: HTMLCanvasElement, x: number, y: number) => {
  const box = canvas.getBoundingClientRect()
  return {
    clientX: box.left + ((x + 0.5) * box.width) / canvas.width,
    clientY: box.top + ((y + 0.5) * box.height) / canvas.height
  }
}

/** Re-dispatches a mouse event of a monitor window on the viewer's canvas at desktop point (x, y). */
export const forwardMouse = (source: HTMLCanvasElement, e: MouseEvent, x: number, y: number) => {
  const view = source.ownerDocument.defaultView
  if (!view) return
  source.dispatchEvent(
    new view.MouseEvent(e.type, {
      bubbles: true,
      cancelable: true,
      ...clientPointOf(source, x, y),
      button: e.button,
      buttons: e.buttons,
      ctrlKey: e.ctrlKey,
      shiftKey: e.shiftKey,
      altKey: e.altKey,
      metaKey: e.metaKey
    })
  )
}

export const forwardKey = (source: HTMLCanvasElement, e: KeyboardEvent) => {
  const view = source.ownerDocument.defaultView
  if (!view) return
  source.dispatchEvent(
    new view.KeyboardEvent(e.type, {
      bubbles: true,
      cancelable: true,
      key: e.key,
      code: e.code,
      location: e.location,
      repeat: e.repeat,
      ctrlKey: e.ctrlKey,
      shiftKey: e.shiftKey,
      altKey: e.altKey,
      metaKey: e.metaKey
    })
  )
}

export interface Monitor {
  readonly name: string
  readonly width: number
  readonly height: number
  readonly x: number
  readonly y: number
  readonly primary: boolean
}

export interface Layout {
  readonly id: string
  readonly scope: "user" | "template" | "preset"
  readonly name: string
  readonly monitors: ReadonlyArray<Monitor>
  readonly isDefault: boolean
  readonly width: number
  readonly height: number
}

export interface SessionLayout {
  readonly sessionId: string
  readonly templateId: string
  readonly state: string
  readonly layout: Layout
}
