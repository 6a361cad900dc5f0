/**
 * A real `bun start` process for tests that need one (restarts, signals,
 * several instances on one database): spawns the server on a free port with
 * the given environment and waits until it prints its URL.
 */
import * as Path from "node:path"

const mainPath = Path.join(import.meta.dir, "../../server/src/main.ts")

export interface ServerProcess {
  readonly url: string
  readonly output: () => string
  readonly proc: ReturnType<typeof Bun.spawn>
  /** Sends the signal and resolves with the exit code. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<number>
}

export interface SpawnResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

const baseEnv = (env: Record<string, string | undefined>) => ({
  ...process.env,
  PORT: "0",
  STREAMSPACE_LOG_FORMAT: "json",
  STREAMSPACE_LOG_LEVEL: "info",
  ...env
})

/** Runs the server to completion (for start-up failures). */
export const run = async (env: Record<string, string | undefined>, timeoutMs = 30_000): Promise<SpawnResult> => {
  const proc = Bun.spawn(["bun", mainPath], { env: baseEnv(env), stdout: "pipe", stderr: "pipe" })
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs)
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited
  ])
  clearTimeout(timer)
  return { exitCode, stdout, stderr }
}

export const start = async (env: Record<string, string | undefined>, timeoutMs = 60_000): Promise<ServerProcess> => {
  const proc = Bun.spawn(["bun", mainPath], { env: baseEnv(env), stdout: "pipe", stderr: "pipe" })
  let out = ""
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder()
    for await (const chunk of stream) out += decoder.decode(chunk, { stream: true })
  }
  void collect(proc.stdout)
  void collect(proc.stderr)
  const deadline = Date.now() + timeoutMs
  let url: string | undefined
  while (!url) {
    url = /listening on (http:\/\/\S+)/.exec(out)?.[1]
    if (url) break
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${out}`)
    if (Date.now() > deadline) {
      proc.kill("SIGKILL")
      throw new Error(`server did not start within ${timeoutMs} ms:\n${out}`)
    }
    await Bun.sleep(25)
  }
  return {
    url,
    output: () => out,
    proc,
    stop: async (signal = "SIGINT") => {
      proc.kill(signal)
      return proc.exited
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
