/**
 * A real `bun start` process for tests that need one (restarts, signals,
 * several instances on one database, a compiled edition): spawns the server
 * on a free port with the given environment and waits until it prints its
 * URL.
 *
 * A server never outlives the test file that started it: the kit's preload
 * stops every server still running when its file ends (`stopAll`), this
 * process kills them when it exits, and the server itself exits when this
 * process is gone (`STREAMSPACE_PARENT_PID`: it checks twice a second
 * whether its parent is still this process), even when the test runner is
 * killed outright.
 */
import * as Path from "node:path"
import * as DesktopReaper from "./DesktopReaper.ts"
import * as Eventually from "./Eventually.ts"
import * as TestTimeouts from "./TestTimeouts.ts"

const mainPath = Path.join(import.meta.dir, "../../server/src/main.ts")

export interface ServerProcess {
  readonly url: string
  /** Everything it printed so far, stdout and stderr interleaved. */
  readonly output: () => string
  readonly stderr: () => string
  readonly proc: ReturnType<typeof Bun.spawn>
  /**
   * Sends the signal and resolves with the exit code. A process that has
   * not exited after `timeoutMs` (default `TestTimeouts.serverStopMs`) is
   * killed and the promise rejects saying so.
   */
  readonly stop: (signal?: NodeJS.Signals, timeoutMs?: number) => Promise<number>
  /** Resolves with the exit code once the process has exited by itself; rejects after `timeoutMs`. */
  readonly exited: (timeoutMs?: number) => Promise<number>
}

export interface SpawnResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

export interface StartOptions {
  /** The command to run instead of `bun …/main.ts` (e.g. a compiled edition). */
  readonly command?: ReadonlyArray<string>
  readonly cwd?: string
  /** How long it may take to print its URL (default `TestTimeouts.serverStartMs`). */
  readonly timeoutMs?: number
}

type Child = ReturnType<typeof Bun.spawn>

/** Every server process started here that has not exited yet. */
const running = new Set<Child>()
/** Data directories of servers started here, whose desktops `stopAll` ends. */
const serverDataDirs = new Set<string>()

const track = (proc: Child) => {
  running.add(proc)
  void proc.exited.finally(() => running.delete(proc))
  return proc
}

process.on("exit", () => {
  for (const proc of running) proc.kill("SIGKILL")
  DesktopReaper.reapAll()
})

const spawn = (env: Record<string, string | undefined>, options: StartOptions) => {
  // A server killed outright cannot stop its (detached) desktops: the reaper ends them at exit / stopAll.
  const dataDir = env["STREAMSPACE_DATA_DIR"]
  if (dataDir) {
    serverDataDirs.add(Path.resolve(options.cwd ?? ".", dataDir))
    DesktopReaper.watch(Path.resolve(options.cwd ?? ".", dataDir))
  }
  return track(
    Bun.spawn([...(options.command ?? ["bun", mainPath])], {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: {
        ...process.env,
        PORT: "0",
        STREAMSPACE_LOG_FORMAT: "json",
        STREAMSPACE_LOG_LEVEL: "info",
        // Test peers listen on loopback (see TestPlatform.loopbackEgress).
        STREAMSPACE_EGRESS_ALLOW: "127.0.0.0/8,::1",
        ...env,
        STREAMSPACE_PARENT_PID: String(process.pid)
      },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe"
    })
  )
}

/** Resolves with the exit code, or undefined when `ms` passed first. */
const exitWithin = async (proc: Child, ms: number): Promise<number | undefined> => {
  const code = await Eventually.within(proc.exited, ms)
  return code === Eventually.pending ? undefined : code
}

const stopProcess = async (proc: Child, signal: NodeJS.Signals, timeoutMs: number): Promise<number> => {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exited
  proc.kill(signal)
  const code = await exitWithin(proc, timeoutMs)
  if (code !== undefined) return code
  proc.kill("SIGKILL")
  await proc.exited
  throw new Error(`server process ${proc.pid} did not exit within ${timeoutMs} ms of ${signal}; killed`)
}

/** Stops every server process still running (the preload runs this when a test file ends). */
export const stopAll = async (): Promise<void> => {
  await Promise.all(
    [...running].map((proc) => stopProcess(proc, "SIGTERM", TestTimeouts.serverStopMs).catch(() => undefined))
  )
  // Only the servers' data directories: an in-process platform of this file reaps its own when it closes.
  for (const dir of serverDataDirs) DesktopReaper.reap(dir)
  serverDataDirs.clear()
}

/** Runs the server to completion (for start-up failures). */
export const run = async (
  env: Record<string, string | undefined>,
  timeoutMs = TestTimeouts.serverStartMs
): Promise<SpawnResult> => {
  const proc = spawn(env, {})
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs)
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout as ReadableStream<Uint8Array>).text(),
    new Response(proc.stderr as ReadableStream<Uint8Array>).text(),
    proc.exited
  ])
  clearTimeout(timer)
  return { exitCode, stdout, stderr }
}

export const start = async (
  env: Record<string, string | undefined>,
  options: StartOptions = {}
): Promise<ServerProcess> => {
  const timeoutMs = options.timeoutMs ?? TestTimeouts.serverStartMs
  const proc = spawn(env, options)
  let out = ""
  let err = ""
  let changed: () => void = () => undefined
  const collect = async (stream: ReadableStream<Uint8Array>, into: (text: string) => void) => {
    const decoder = new TextDecoder()
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true })
      out += text
      into(text)
      changed()
    }
  }
  const streams = Promise.all([
    collect(proc.stdout as ReadableStream<Uint8Array>, () => undefined),
    collect(proc.stderr as ReadableStream<Uint8Array>, (text) => (err += text))
  ])
  // Woken by output or exit, not by polling; the deadline bounds it.
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL")
      reject(new Error(`server did not start within ${timeoutMs} ms:\n${out}`))
    }, timeoutMs)
    const check = () => {
      const found = /listening on (http:\/\/\S+)/.exec(out)?.[1]
      if (found) {
        clearTimeout(timer)
        resolve(found)
      }
    }
    changed = check
    void proc.exited.then(async (code) => {
      await streams
      check()
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before it served:\n${out}`))
    })
    check()
  })
  return {
    url,
    output: () => out,
    stderr: () => err,
    proc,
    stop: (signal = "SIGINT", stopMs = TestTimeouts.serverStopMs) => stopProcess(proc, signal, stopMs),
    exited: async (waitMs = TestTimeouts.waitMs) => {
      const code = await exitWithin(proc, waitMs)
      if (code === undefined)
        throw new Error(`server process ${proc.pid} still running after ${waitMs} ms:\n${out.slice(-2000)}`)
      await streams
      return code
    }
  }
}

/** Logs in on a running server and returns the access token. */
export const login = async (url: string, password: string, username = "admin"): Promise<string> => {
  const res = await fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password })
  })
  if (res.status !== 200) throw new Error(`login as ${username} at ${url} answered ${res.status}: ${await res.text()}`)
  return ((await res.json()) as { accessToken: string }).accessToken
}
