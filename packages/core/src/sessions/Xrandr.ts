/**
 * Applying a layout to an X display with RandR (TigerVNC's Xvnc speaks
 * RandR 1.6 and has one output, `VNC-0`):
 *
 * 1. `xrandr --delmonitor NAME` for every monitor defined earlier with
 *    `--setmonitor` (the automatic one of the output stays);
 * 2. `xrandr --fb WxH --output VNC-0 --mode mm-WxH --pos 0x0`: the
 *    framebuffer becomes the layout's bounding box (a connected VNC client
 *    follows the resize without reconnecting), and so does the output's
 *    CRTC: a CRTC larger than the new framebuffer makes `--fb` fail, and the
 *    X server keeps the pointer inside the CRTCs, so a CRTC smaller than the
 *    box would stop clicks from reaching the other monitors. The mode is
 *    made with `--newmode`/`--addmode` when the output lacks it;
 * 3. one `xrandr --setmonitor NAME W/mmWxH/mmH+X+Y OUTPUT` per monitor: the
 *    primary one on the output, the others on `none` (a monitor with no
 *    output of its own), so window managers maximise into one monitor.
 *
 * Millimetres assume 96 DPI. The commands are argument vectors, never shell text.
 */
import { Data, Effect } from "effect"

/** A monitor of a layout, in desktop pixels (the kernel's `DesktopMonitor`). */
export interface Monitor {
  readonly name: string
  readonly width: number
  readonly height: number
  readonly x: number
  readonly y: number
  readonly primary: boolean
}

const boundingBox = (monitors: ReadonlyArray<Monitor>) => ({
  width: Math.max(...monitors.map((m) => m.x + m.width)),
  height: Math.max(...monitors.map((m) => m.y + m.height))
})

export const DEFAULT_OUTPUT = "VNC-0"

const mm = (px: number) => Math.max(1, Math.round((px * 25.4) / 96))

/** `W/mmWxH/mmH+X+Y`, the geometry `--setmonitor` takes. */
export const geometry = (m: Monitor) => `${m.width}/${mm(m.width)}x${m.height}/${mm(m.height)}+${m.x}+${m.y}`

export interface ListedMonitor {
  readonly index: number
  readonly name: string
  /** Made by the server for an output (`+`), not by `--setmonitor`. */
  readonly automatic: boolean
  readonly primary: boolean
  readonly width: number
  readonly height: number
  readonly x: number
  readonly y: number
}

/** Parses `xrandr --listmonitors` (` 0: +*VNC-0 1280/339x800/212+0+0  VNC-0`). */
export const parseListMonitors = (text: string): ReadonlyArray<ListedMonitor> =>
  text.split("\n").flatMap((line) => {
    const m = /^\s*(\d+):\s+([+]?)([*]?)(\S+)\s+(\d+)\/\d+x(\d+)\/\d+\+(\d+)\+(\d+)/.exec(line)
    if (!m) return []
    return [
      {
        index: Number(m[1]),
        automatic: m[2] === "+",
        primary: m[3] === "*",
        name: m[4]!,
        width: Number(m[5]),
        height: Number(m[6]),
        x: Number(m[7]),
        y: Number(m[8])
      }
    ]
  })

/** The mode names `xrandr` (the query) lists: indented lines under each output. */
export const parseModes = (text: string): ReadonlyArray<string> =>
  text.split("\n").flatMap((line) => {
    const m = /^ {2,}(\S+)\s/.exec(line)
    return m ? [m[1]!] : []
  })

/** The mode the output gets: the bounding box. */
export const modeName = (box: { readonly width: number; readonly height: number }) => `mm-${box.width}x${box.height}`

/**
 * The xrandr invocations (argument vectors, without the program) that turn a display with monitors `current`
 * and modes `modes` into `monitors`.
 */
export const commands = (
  monitors: ReadonlyArray<Monitor>,
  current: ReadonlyArray<ListedMonitor>,
  modes: ReadonlyArray<string>,
  output = DEFAULT_OUTPUT
): ReadonlyArray<ReadonlyArray<string>> => {
  const box = boundingBox(monitors)
  const primary = monitors.find((m) => m.primary) ?? monitors[0]!
  const mode = modeName(box)
  const w = String(box.width)
  const h = String(box.height)
  return [
    ...current.filter((m) => !m.automatic).map((m) => ["--delmonitor", m.name]),
    ...(modes.includes(mode)
      ? []
      : [
          ["--newmode", mode, "0", w, w, w, w, h, h, h, h],
          ["--addmode", output, mode]
        ]),
    ["--fb", `${box.width}x${box.height}`, "--output", output, "--mode", mode, "--pos", "0x0"],
    ...monitors.map((m) => ["--setmonitor", m.name, geometry(m), m === primary ? output : "none"])
  ]
}

export class XrandrError extends Data.TaggedError("XrandrError")<{
  readonly display: string
  readonly args: ReadonlyArray<string>
  readonly message: string
}> {}

const run = (display: string, args: ReadonlyArray<string>) =>
  Effect.tryPromise({
    try: async () => {
      const proc = Bun.spawn(["xrandr", ...args], {
        env: { DISPLAY: display, PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
        stdout: "pipe",
        stderr: "pipe"
      })
      const [out, err, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited
      ])
      if (code !== 0) throw new Error(`xrandr ${args.join(" ")} exited ${code}: ${err.trim() || out.trim()}`)
      return out
    },
    catch: (e) => new XrandrError({ display, args, message: e instanceof Error ? e.message : String(e) })
  })

/** The monitors of X display `display` (`:7`). */
export const listMonitors = (display: string) => Effect.map(run(display, ["--listmonitors"]), parseListMonitors)

/** Applies `monitors` to X display `display`; answers what `--listmonitors` reports afterwards. */
/**
 * One apply at a time per display: the steps read the display, then change it, so two interleaved applies
 * (a plugin applying on start while its user clicks "activate") would both create the same mode (BadName)
 * and delete each other's monitors.
 */
const displayLocks = new Map<string, Effect.Semaphore>()
const lockOf = (display: string) => {
  let lock = displayLocks.get(display)
  if (!lock) {
    lock = Effect.unsafeMakeSemaphore(1)
    displayLocks.set(display, lock)
  }
  return lock
}

export const apply = (display: string, monitors: ReadonlyArray<Monitor>, output = DEFAULT_OUTPUT) =>
  lockOf(display).withPermits(1)(
    Effect.gen(function* () {
      const current = yield* listMonitors(display)
      const modes = parseModes(yield* run(display, []))
      for (const args of commands(monitors, current, modes, output)) yield* run(display, args)
      return yield* listMonitors(display)
    })
  )
