/**
 * One session's desktop in the browser: noVNC's RFB client over the VNC
 * proxy's WebSocket (`/api/sessions/:id/vnc?ticket=…`). Every (re)connect
 * asks for a new ticket (they are single use and short-lived). A drop is
 * retried with exponential backoff (1 s, 2 s, 4 s … 30 s) unless the close
 * code says retrying cannot help, or the page — which looks at the session
 * again — says the session is hibernated or ended.
 *
 * The proxy refuses the ExtendedDesktopSize extension, so the remote desktop
 * cannot be resized from here (`resizeSession` stays off); scaling is local.
 */
import RFB from "@novnc/novnc"
import { ApiError } from "../api/Problem.ts"

export type ConnectionStatus =
  | { readonly kind: "connecting"; readonly attempt: number }
  | { readonly kind: "connected" }
  | { readonly kind: "retrying"; readonly attempt: number; readonly at: number; readonly reason: string }
  | { readonly kind: "stopped"; readonly reason: string | undefined }

/** How a connection ended: the WebSocket's close code and reason, and whether RFB got as far as `connect`. */
export interface Drop {
  readonly code: number
  readonly reason: string
  readonly wasConnected: boolean
}

/** After a drop the page decides: try again (with backoff), or stop, saying why (or nothing when it shows why itself). */
export type DropDecision = { readonly kind: "retry" } | { readonly kind: "stop"; readonly reason?: string }

export interface DesktopConnectionOptions {
  /** The element noVNC draws into (it adds its own screen and canvas). */
  readonly target: HTMLElement
  /** A fresh ticket's WebSocket path (`/api/sessions/:id/vnc?ticket=…`); rejects with an ApiError when refused. */
  readonly ticketPath: () => Promise<string>
  readonly afterDrop: (drop: Drop) => Promise<DropDecision>
  readonly onStatus: (status: ConnectionStatus) => void
  readonly onClipboard: (text: string) => void
  /** `performance.now()` when the first framebuffer update of a connection was drawn. */
  readonly onFirstFrame: (at: number) => void
  readonly viewOnly: boolean
  readonly scale: boolean
}

export const maxRetryDelayMs = 30_000

/** The wait before retry number `failures` (1, 2, …): 1 s doubling up to 30 s. */
export const retryDelayMs = (failures: number): number =>
  Math.min(maxRetryDelayMs, 1000 * 2 ** Math.max(0, failures - 1))

/** Close codes (VncProxy's) after which a new ticket would be refused the same way. */
const finalCloseCodes: ReadonlyMap<number, string> = new Map([
  [4403, "You may not connect to this session"],
  [4404, "This session does not exist or is not visible to you"]
])

const describeDrop = (drop: Drop) =>
  drop.reason
    ? `${drop.wasConnected ? "Connection lost" : "Could not connect"}: ${drop.reason}`
    : drop.wasConnected
      ? "Connection lost"
      : "Could not connect"

const webSocketUrl = (path: string) =>
  `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}${path}`

/** RFB server-to-client message type 0. */
const isFramebufferUpdate = (data: unknown) => data instanceof ArrayBuffer && new Uint8Array(data)[0] === 0

export class DesktopConnection {
  private rfb: RFB | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  /** Failed attempts since the last successful connect: picks the backoff delay. */
  private failures = 0
  /** Bumped by every connect and stop, so late callbacks of an older connection do nothing. */
  private generation = 0
  private active = false
  private viewOnly: boolean
  private scale: boolean

  constructor(private readonly options: DesktopConnectionOptions) {
    this.viewOnly = options.viewOnly
    this.scale = options.scale
  }

  /** Connects (again, resetting the backoff). */
  start(): void {
    this.active = true
    this.failures = 0
    void this.connect()
  }

  /** Disconnects on purpose: no retry. */
  stop(reason?: string): void {
    this.active = false
    this.generation++
    clearTimeout(this.retryTimer)
    this.rfb?.disconnect()
    this.rfb = undefined
    this.options.onStatus({ kind: "stopped", reason })
  }

  /** Skips the rest of a backoff wait. */
  reconnectNow(): void {
    if (!this.active) this.active = true
    clearTimeout(this.retryTimer)
    void this.connect()
  }

  setViewOnly(viewOnly: boolean): void {
    this.viewOnly = viewOnly
    if (this.rfb) this.rfb.viewOnly = viewOnly
  }

  setScale(scale: boolean): void {
    this.scale = scale
    if (this.rfb) this.rfb.scaleViewport = scale
  }

  sendCtrlAltDel(): void {
    if (!this.viewOnly) this.rfb?.sendCtrlAltDel()
  }

  /** Sends text as the remote clipboard (a view share's is dropped by the proxy anyway). */
  paste(text: string): void {
    if (!this.viewOnly) this.rfb?.clipboardPasteFrom(text)
  }

  focus(): void {
    this.rfb?.focus()
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation
    this.rfb?.disconnect()
    this.rfb = undefined
    this.options.onStatus({ kind: "connecting", attempt: this.failures + 1 })
    let path: string
    try {
      path = await this.options.ticketPath()
    } catch (e) {
      if (generation !== this.generation) return
      if (e instanceof ApiError && e.problem.status < 500 && e.problem.status !== 429) return this.stop(e.message)
      return this.retryLater(e instanceof Error ? `Could not connect: ${e.message}` : "Could not connect")
    }
    if (generation !== this.generation) return

    const socket = new WebSocket(webSocketUrl(path))
    let closed = { code: 1006, reason: "" }
    let wasConnected = false
    let drawn = false
    // Registered before noVNC's own handlers, so the code is known when its `disconnect` fires.
    socket.addEventListener("close", (e) => {
      closed = { code: e.code, reason: e.reason }
    })
    let rfb: RFB
    try {
      rfb = new RFB(this.options.target, socket, { shared: true })
    } catch (e) {
      socket.close()
      return this.retryLater(`Could not connect: ${e instanceof Error ? e.message : String(e)}`)
    }
    this.rfb = rfb
    rfb.viewOnly = this.viewOnly
    rfb.scaleViewport = this.scale
    rfb.resizeSession = false
    rfb.clipViewport = false
    // Registered after noVNC's handler: the update this message carries has been drawn (the proxy sends whole messages).
    socket.addEventListener("message", (e) => {
      if (!wasConnected || drawn || !isFramebufferUpdate(e.data)) return
      drawn = true
      requestAnimationFrame(() => {
        if (generation === this.generation) this.options.onFirstFrame(performance.now())
      })
    })
    rfb.addEventListener("connect", () => {
      if (generation !== this.generation) return
      wasConnected = true
      this.failures = 0
      this.options.onStatus({ kind: "connected" })
    })
    rfb.addEventListener("clipboard", (e) => {
      if (generation === this.generation) this.options.onClipboard(e.detail.text)
    })
    rfb.addEventListener("disconnect", () => {
      if (generation !== this.generation) return
      this.rfb = undefined
      void this.dropped({ ...closed, wasConnected })
    })
  }

  private async dropped(drop: Drop): Promise<void> {
    const generation = this.generation
    const final = finalCloseCodes.get(drop.code)
    if (final) return this.stop(drop.reason ? `${final}: ${drop.reason}` : final)
    const decision = await this.options.afterDrop(drop)
    if (generation !== this.generation || !this.active) return
    if (decision.kind === "stop") return this.stop(decision.reason)
    this.retryLater(describeDrop(drop))
  }

  private retryLater(reason: string): void {
    this.failures++
    const delay = retryDelayMs(this.failures)
    this.options.onStatus({ kind: "retrying", attempt: this.failures, at: Date.now() + delay, reason })
    clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => void this.connect(), delay)
  }
}
