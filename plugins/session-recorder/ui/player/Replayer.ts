/**
 * Plays recorded connections through noVNC's own decoder, with no server:
 * noVNC's `RFB` accepts a WebSocket-like channel instead of a URL (1.7:
 * `send`, `close`, `binaryType`, `onopen`, `onmessage`, `onerror`,
 * `protocol`, `readyState` — core/websock.js), so `ReplayChannel` hands it
 * the desktop's recorded bytes (handshake, then ServerData and ServerCutText) at their
 * recorded times, scaled by the speed, and drops everything noVNC sends.
 *
 * Seeking uses keyframes: the recorder asks the desktop for a full
 * (non-incremental) update every `keyframeSeconds`, so from the latest
 * keyframe before the target (Records.seekStart) the whole picture is
 * redrawn. A seek restarts the connection live at the target, feeds it its
 * records before that keyframe with drawing switched off (noVNC still parses
 * them: Tight and ZRLE keep zlib state across messages, so the stream cannot
 * be entered mid-way, but nothing is painted, no JPEG decoded), then the
 * records from the keyframe to the target with drawing on (fast-forward
 * from the keyframe only).
 *
 * At the end the last picture stays (the channel is not closed, noVNC would
 * remove its canvas).
 */
import RFB from "@novnc/novnc"
import { type Connection, seekStart } from "./Records.ts"

/** The raw channel noVNC's Websock attaches to (the property names are checked on attach). */
export class ReplayChannel {
  binaryType = "arraybuffer"
  protocol = ""
  readyState: "connecting" | "open" | "closing" | "closed" = "connecting"
  onopen: ((event: Event) => void) | null = null
  onmessage: ((event: { readonly data: ArrayBuffer }) => void) | null = null
  onerror: ((event: Event) => void) | null = null
  onclose: ((event: { readonly code: number; readonly reason: string; readonly wasClean: boolean }) => void) | null =
    null
  /** Bytes noVNC sent (requests, its half of the handshake): dropped, only counted. */
  sent = 0

  send(data: ArrayBufferView | ArrayBuffer): void {
    this.sent += data.byteLength
  }

  close(): void {
    if (this.readyState === "closed") return
    this.readyState = "closed"
    setTimeout(() => this.onclose?.({ code: 1000, reason: "", wasClean: true }), 0)
  }

  open(): void {
    this.readyState = "open"
    this.onopen?.(new Event("open"))
  }

  /** One recorded server message, as if it had just arrived. */
  deliver(bytes: Uint8Array): void {
    if (this.readyState !== "open") return
    this.onmessage?.({ data: bytes.slice().buffer })
  }
}

export interface ReplayerState {
  readonly position: number
  readonly playing: boolean
  readonly speed: number
  /** The recorded connection being shown (index), if any. */
  readonly connection: number | undefined
  readonly lastSeek: SeekInfo | undefined
}

export const speeds = [0.5, 1, 2, 4, 8] as const

/** What a seek did: where drawing started (a keyframe, or the connection's start) and how many ServerData records it parsed undrawn. */
export interface SeekInfo {
  readonly target: number
  readonly drawnFrom: number
  readonly keyframe: boolean
  readonly undrawnRecords: number
}

/** The drawing methods of noVNC's Display (core/display.js) that the decoders call. */
const drawing = ["fillRect", "copyImage", "imageRect", "videoFrame", "blitImage", "flip"] as const

/**
 * Runs `feed` with noVNC's drawing switched off: the display's drawing methods are shadowed on the instance by
 * no-ops and the prototype's come back afterwards. `_display` is noVNC's private field (1.7), checked here so a
 * noVNC without it draws everything (correct, only slower).
 */
const undrawn = (rfb: RFB, feed: () => void): boolean => {
  const display = (rfb as unknown as { readonly _display?: Record<string, unknown> })._display
  if (!display || drawing.some((m) => typeof display[m] !== "function")) {
    feed()
    return false
  }
  for (const m of drawing) display[m] = () => undefined
  try {
    feed()
  } finally {
    for (const m of drawing) delete display[m]
  }
  return true
}

interface Live {
  readonly connection: Connection
  readonly rfb: RFB
  readonly channel: ReplayChannel
  readonly host: HTMLElement
  /** Next server record of the connection to deliver. */
  next: number
}

export class Replayer {
  private position = 0
  private playing = false
  private speed = 1
  /** Wall clock (performance.now) and position when playback last (re)started. */
  private baseWall = 0
  private basePosition = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private live: Live | undefined
  /** The last seek, for the page (and tests) to show where drawing started. */
  lastSeek: SeekInfo | undefined

  constructor(
    private readonly target: HTMLElement,
    private readonly connections: ReadonlyArray<Connection>,
    readonly duration: number,
    private readonly onChange: (state: ReplayerState) => void
  ) {
    this.seek(0)
  }

  state(): ReplayerState {
    return {
      position: this.position,
      playing: this.playing,
      speed: this.speed,
      connection: this.live?.connection.index,
      lastSeek: this.lastSeek
    }
  }

  play(): void {
    if (this.playing) return
    if (this.position >= this.duration) this.seek(0)
    this.playing = true
    this.rebase()
    this.schedule()
    this.emit()
  }

  pause(): void {
    if (!this.playing) return
    this.position = this.now()
    this.playing = false
    clearTimeout(this.timer)
    this.emit()
  }

  setSpeed(speed: number): void {
    this.position = this.now()
    this.speed = Math.min(8, Math.max(0.5, speed))
    this.rebase()
    this.emit()
  }

  /** Restarts the connection live at `target`, parses it undrawn up to the keyframe before, and draws from there. */
  seek(target: number): void {
    const to = Math.min(this.duration, Math.max(0, target))
    clearTimeout(this.timer)
    this.stopLive()
    this.position = to
    const connection = [...this.connections].reverse().find((c) => c.start <= to) ?? this.connections[0]
    if (connection) {
      this.startLive(connection)
      const from = seekStart(connection, to)
      const live = this.live
      let undrawnRecords = 0
      const skipped =
        live !== undefined &&
        from > connection.start &&
        undrawn(live.rfb, () => {
          const records = connection.server
          // `resize` is not shadowed: the handshake still sizes the canvas.
          while (live.next < records.length && records[live.next]!.t < from) {
            if (records[live.next]!.type === "ServerData") undrawnRecords++
            live.channel.deliver(records[live.next++]!.bytes)
          }
        })
      this.lastSeek = { target: to, drawnFrom: skipped ? from : connection.start, keyframe: skipped, undrawnRecords }
      this.deliverUntil(to)
    }
    this.rebase()
    if (this.playing) this.schedule()
    this.emit()
  }

  destroy(): void {
    this.playing = false
    clearTimeout(this.timer)
    this.stopLive()
  }

  private now(): number {
    if (!this.playing) return this.position
    return Math.min(this.duration, this.basePosition + (performance.now() - this.baseWall) * this.speed)
  }

  private rebase(): void {
    this.baseWall = performance.now()
    this.basePosition = this.position
  }

  private emit(): void {
    this.onChange(this.state())
  }

  private startLive(connection: Connection): void {
    const host = document.createElement("div")
    host.style.width = "100%"
    host.style.height = "100%"
    this.target.appendChild(host)
    const channel = new ReplayChannel()
    const rfb = new RFB(host, channel as unknown as WebSocket, { shared: true })
    rfb.viewOnly = true
    rfb.scaleViewport = true
    rfb.resizeSession = false
    rfb.clipViewport = false
    rfb.focusOnClick = false
    channel.open()
    this.live = { connection, rfb, channel, host, next: 0 }
  }

  private stopLive(): void {
    const live = this.live
    this.live = undefined
    if (!live) return
    live.rfb.disconnect()
    live.host.remove()
  }

  /** Delivers the live connection's records up to `t`; moves to the next connection once it has started. */
  private deliverUntil(t: number): void {
    for (;;) {
      const live = this.live
      if (!live) return
      const records = live.connection.server
      while (live.next < records.length && records[live.next]!.t <= t) live.channel.deliver(records[live.next++]!.bytes)
      const following = this.connections[live.connection.index + 1]
      if (!following || following.start > t) return
      this.stopLive()
      this.startLive(following)
    }
  }

  /** When the next record (or connection) is due, in recording time. */
  private nextDue(): number {
    const live = this.live
    const record = live?.connection.server[live.next]
    const following = this.connections[(live?.connection.index ?? -1) + 1]
    return Math.min(record?.t ?? Number.POSITIVE_INFINITY, following?.start ?? Number.POSITIVE_INFINITY, this.duration)
  }

  private schedule(): void {
    clearTimeout(this.timer)
    if (!this.playing) return
    // Wakes for the next record, and at least every 100 ms to move the position shown.
    const wait = Math.max(0, Math.min(100, (this.nextDue() - this.now()) / this.speed))
    this.timer = setTimeout(() => this.tick(), wait)
  }

  private tick(): void {
    if (!this.playing) return
    this.position = this.now()
    this.deliverUntil(this.position)
    if (this.position >= this.duration) {
      this.playing = false
      this.emit()
      return
    }
    this.emit()
    this.schedule()
  }
}
