/**
 * One local desktop: a TigerVNC `Xvnc` X server whose RFB port listens on
 * loopback only, a window manager when one is installed, and the session's
 * program, each in a process group of its own (so a Ctrl-C in the server's
 * terminal reaches none of them, and stopping one ends what it started).
 * Everything started is stopped when the caller's Scope closes.
 *
 * Xvnc picks its display itself (`-displayfd`: the first free one, so two
 * servers never race for a number); the RFB port is one the OS just handed
 * out, tried again with another when something took it in between. The
 * desktop is ready once that port greets with "RFB 003.008".
 */
import type { Subprocess } from "bun"
import { Clock, Data, Deferred, Duration, Effect, Option, type Scope } from "effect"
import * as Fs from "node:fs"

export interface DesktopSpec {
  /** Absolute path of Xvnc. */
  readonly xvnc: string
  /** The desktop name clients see in ServerInit. */
  readonly name: string
  readonly width: number
  readonly height: number
  readonly depth: number
  /** Working directory and HOME of every process. */
  readonly home: string
  /** Where the processes' output goes (truncated at each start). */
  readonly logFile: string
  /** Absolute path of the window manager, when there is one. */
  readonly windowManager: string | undefined
  /** The session's program (absolute path first), when there is one. */
  readonly program: ReadonlyArray<string> | undefined
  /** The environment of every process (DISPLAY is added for the clients). */
  readonly env: Readonly<Record<string, string>>
  /** How long Xvnc may take to greet. */
  readonly startTimeout: Duration.DurationInput
}

export interface Desktop {
  readonly display: number
  /** The RFB port on 127.0.0.1. */
  readonly port: number
  /** Xvnc, the window manager, the program as they are now (process group leaders; the program restarts). */
  readonly pids: () => ReadonlyArray<number>
  /** Completes when Xvnc ends, with a one-line account of how (for a `failed` reason). */
  readonly exited: Effect.Effect<string>
}

export class DesktopError extends Data.TaggedError("DesktopError")<{
  readonly message: string
  /** True when another attempt may succeed (the RFB port was taken meanwhile). */
  readonly retryable: boolean
}> {}

/** Process waits and readiness polls run on wall time even when a test moves a simulated clock. */
const wallClock = Clock.make()

const GREETING = "RFB 003.008\n"
const ATTEMPTS = 3

/** A loopback port nothing listens on right now (the OS's choice). */
const freePort = (): number => {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: () => undefined } })
  const port = probe.port
  probe.stop(true)
  return port
}

/** Signals a process group, ignoring one that is gone. */
const signalGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal)
  } catch {
    // the group has ended
  }
}

/** SIGTERM to the process's group, SIGKILL after three seconds. */
const terminate = (proc: Subprocess) =>
  Effect.gen(function* () {
    signalGroup(proc.pid, "SIGTERM")
    const ended = yield* Effect.promise(() => proc.exited).pipe(Effect.timeout("3 seconds"), Effect.option)
    // Members of the group may outlive its leader: they get the last word too.
    signalGroup(proc.pid, "SIGKILL")
    if (Option.isNone(ended)) yield* Effect.promise(() => proc.exited).pipe(Effect.timeout("2 seconds"), Effect.ignore)
  }).pipe(Effect.withClock(wallClock))

/** The last of Xvnc's error lines ("(EE) …") in the log, or "" when it wrote none. */
export const logTail = (logFile: string, lines = 2): string => {
  let text = ""
  try {
    const fd = Fs.openSync(logFile, "r")
    try {
      const size = Fs.fstatSync(fd).size
      const length = Math.min(size, 8192)
      const buffer = Buffer.alloc(length)
      Fs.readSync(fd, buffer, 0, length, size - length)
      text = buffer.toString("utf8")
    } finally {
      Fs.closeSync(fd)
    }
  } catch {
    return ""
  }
  return text
    .split("\n")
    .filter((l) => l.startsWith("(EE)"))
    .map((l) => l.slice(4).trim())
    .filter((l) => l.length > 0)
    .slice(-lines)
    .join(" / ")
    .slice(0, 300)
}

const describeExit = (proc: Subprocess, logFile: string) => {
  const how = proc.signalCode ? `was killed by ${proc.signalCode}` : `exited with code ${proc.exitCode}`
  const tail = logTail(logFile)
  return `Xvnc ${how}${tail ? `: ${tail}` : ""}`
}

/** The display number Xvnc writes to its stdout (`-displayfd 1`) once it runs; undefined if it ended first. */
const readDisplay = (proc: Subprocess<"ignore", "pipe", number>) =>
  Effect.promise(async () => {
    const reader = proc.stdout.getReader()
    const decoder = new TextDecoder()
    let text = ""
    try {
      while (!text.includes("\n")) {
        const { value, done } = await reader.read()
        if (done) break
        text += decoder.decode(value, { stream: true })
      }
    } finally {
      reader.releaseLock()
    }
    const display = Number.parseInt(text, 10)
    return Number.isInteger(display) && display >= 0 ? display : undefined
  })

/** Connects to the port and reads the greeting; true only for "RFB 003.008\n". */
export const greets = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    let received = ""
    // Resolved before `end`, which runs the close handler at once.
    const done = (ok: boolean, socket: { end: () => void }) => {
      resolve(ok)
      socket.end()
    }
    const timer = setTimeout(() => resolve(false), 2000)
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (socket, chunk) => {
          received += new TextDecoder("latin1").decode(chunk)
          if (received.length >= GREETING.length) {
            clearTimeout(timer)
            done(received.startsWith(GREETING), socket)
          }
        },
        close: () => {
          clearTimeout(timer)
          resolve(false)
        },
        error: () => {
          clearTimeout(timer)
          resolve(false)
        }
      }
    }).catch(() => {
      clearTimeout(timer)
      resolve(false)
    })
  })

/** Starts a client of the display in a process group of its own, stopped with the Scope. */
const startClient = (argv: ReadonlyArray<string>, spec: DesktopSpec, display: number, log: number) =>
  Effect.acquireRelease(
    Effect.try({
      try: () =>
        Bun.spawn([...argv], {
          cwd: spec.home,
          env: { ...spec.env, DISPLAY: `:${display}` },
          stdin: "ignore",
          stdout: log,
          stderr: log,
          detached: true
        }),
      catch: (e) =>
        new DesktopError({
          message: `${argv[0]} did not start: ${e instanceof Error ? e.message : String(e)}`,
          retryable: false
        })
    }),
    terminate
  )

/**
 * Waits (up to 3 s) until the window manager has announced itself on the root window
 * (`_NET_SUPPORTING_WM_CHECK`, read with `xprop`). A program that maps its window while the
 * manager is still starting can have that request dropped and stay invisible.
 * Without `xprop` there is nothing to wait on.
 */
const windowManagerReady = (display: number, env: Readonly<Record<string, string>>) =>
  Effect.gen(function* () {
    const xprop = Bun.which("xprop")
    if (!xprop) return
    const announced = () =>
      Bun.spawnSync([xprop, "-root", "_NET_SUPPORTING_WM_CHECK"], {
        env: { ...env, DISPLAY: `:${display}` },
        stdout: "pipe",
        stderr: "ignore"
      })
        .stdout.toString()
        .includes("window id")
    for (let i = 0; i < 60 && !announced(); i++) yield* Effect.sleep("50 millis")
  })

/** A program that ends this soon after starting counts towards giving up on it. */
const QUICK_EXIT_MS = 10_000
const QUICK_EXITS = 3

/**
 * Runs the session's program and starts it again when it ends (a user who closes the last window gets it
 * back, as a container would restart), until it ended quickly three times running. Stopped with the Scope.
 * Resolves once the first start went through; `pid` reads the current process.
 */
const supervise = (argv: ReadonlyArray<string>, spec: DesktopSpec, display: number, log: number) =>
  Effect.gen(function* () {
    let pid: number | undefined
    const started = yield* Deferred.make<void, DesktopError>()
    const runOnce = Effect.scoped(
      Effect.gen(function* () {
        const proc = yield* startClient(argv, spec, display, log)
        pid = proc.pid
        yield* Deferred.succeed(started, undefined)
        yield* Effect.promise(() => proc.exited)
        pid = undefined
      })
    )
    const loop = Effect.gen(function* () {
      let quick = 0
      while (quick < QUICK_EXITS) {
        const at = yield* Clock.currentTimeMillis
        yield* runOnce
        quick = (yield* Clock.currentTimeMillis) - at < QUICK_EXIT_MS ? quick + 1 : 0
        yield* Effect.sleep("500 millis")
      }
      yield* Effect.logWarning(`${argv[0]} ended ${QUICK_EXITS} times in a row right after starting: not started again`)
    }).pipe(Effect.tapError((e) => Deferred.fail(started, e)))
    yield* Effect.forkScoped(Effect.catchAll(loop, (e) => Effect.logWarning(e.message)))
    yield* Deferred.await(started)
    return { pid: () => pid }
  })

/** One attempt on one port: Xvnc up and greeting, or why not. */
const startServer = (spec: DesktopSpec, log: number) =>
  Effect.gen(function* () {
    const port = freePort()
    const proc = yield* Effect.acquireRelease(
      Effect.try({
        try: () =>
          Bun.spawn(
            [
              spec.xvnc,
              "-displayfd",
              "1",
              "-rfbport",
              String(port),
              "-localhost",
              "-nolisten",
              "tcp",
              "-SecurityTypes",
              "None",
              // A client asking for exclusive access would otherwise disconnect the others (a view share the owner).
              "-AlwaysShared",
              "-geometry",
              `${spec.width}x${spec.height}`,
              "-depth",
              String(spec.depth),
              "-desktop",
              spec.name
            ],
            { cwd: spec.home, env: { ...spec.env }, stdin: "ignore", stdout: "pipe", stderr: log, detached: true }
          ),
        catch: (e) =>
          new DesktopError({
            message: `Xvnc did not start: ${e instanceof Error ? e.message : String(e)}`,
            retryable: false
          })
      }),
      terminate
    )
    const display = yield* readDisplay(proc).pipe(Effect.timeoutOption(spec.startTimeout))
    if (Option.isNone(display) || display.value === undefined) {
      if (Option.isNone(display))
        return yield* new DesktopError({
          message: `Xvnc did not open a display within ${Duration.format(spec.startTimeout)}`,
          retryable: false
        })
      yield* Effect.promise(() => proc.exited)
      const why = describeExit(proc, spec.logFile)
      return yield* new DesktopError({ message: why, retryable: /address already in use/i.test(why) })
    }
    const ended = () => proc.exitCode !== null || proc.signalCode !== null
    const greeting = Effect.gen(function* () {
      while (!(yield* Effect.promise(() => greets(port)))) {
        if (ended()) return false
        yield* Effect.sleep("50 millis")
      }
      return true
    })
    const greeted = yield* greeting.pipe(Effect.timeoutOption(spec.startTimeout))
    if (Option.isNone(greeted) || !greeted.value) {
      return yield* new DesktopError({
        message: ended()
          ? describeExit(proc, spec.logFile)
          : `Xvnc did not greet on port ${port} within ${Duration.format(spec.startTimeout)}`,
        retryable: false
      })
    }
    return { proc, display: display.value, port }
  })

/** Starts the desktop; it runs until the Scope closes (or Xvnc ends: see `exited`). */
export const start = (spec: DesktopSpec): Effect.Effect<Desktop, DesktopError, Scope.Scope> =>
  Effect.gen(function* () {
    const log = yield* Effect.acquireRelease(
      Effect.try({
        try: () => Fs.openSync(spec.logFile, "w", 0o600),
        catch: (e) =>
          new DesktopError({
            message: `cannot write ${spec.logFile}: ${e instanceof Error ? e.message : String(e)}`,
            retryable: false
          })
      }),
      // The processes hold their own copies of the descriptor.
      (fd) => Effect.sync(() => Fs.closeSync(fd))
    )
    const server = yield* startServer(spec, log).pipe(Effect.retry({ times: ATTEMPTS - 1, while: (e) => e.retryable }))
    const windowManager = spec.windowManager
      ? yield* startClient([spec.windowManager], spec, server.display, log)
      : undefined
    if (windowManager) yield* windowManagerReady(server.display, spec.env)
    const program = spec.program ? yield* supervise(spec.program, spec, server.display, log) : undefined
    return {
      display: server.display,
      port: server.port,
      pids: () =>
        [server.proc.pid, windowManager?.pid, program?.pid()].filter((pid): pid is number => pid !== undefined),
      exited: Effect.promise(() => server.proc.exited).pipe(Effect.map(() => describeExit(server.proc, spec.logFile)))
    }
  }).pipe(Effect.withClock(wallClock))
