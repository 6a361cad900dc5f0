/**
 * A real server process ends when it should, whatever state it is in:
 * SIGTERM while a request and a finalizer hang ends it within
 * `shutdownTimeoutMs`; a server whose test runner was killed outright, or
 * whose test file ended without stopping it, does not stay behind; and one
 * whose embedded database's data directory disappears says so in one line
 * and exits non-zero instead of serving errors. All on embedded PGlite.
 */
import { afterAll, expect, test } from "bun:test"
import { Eventually, ServerProcess } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-lifecycle-"))
const dataDir = Path.join(dir, "data")
const env = { STREAMSPACE_DATA_DIR: dataDir, DATABASE_URL: "", STREAMSPACE_ADMIN_PASSWORD: "lifecycle-root-pw" }
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test("SIGTERM ends a server within shutdownTimeoutMs even when a request and a finalizer never finish", async () => {
  const server = await ServerProcess.start({
    ...env,
    STREAMSPACE_PLUGINS_DIR: Path.join(import.meta.dir, "fixtures/plugins"),
    STREAMSPACE_PLUGINS: "stuck",
    STREAMSPACE_SHUTDOWN_TIMEOUT_MS: "3000"
  })
  const token = await ServerProcess.login(server.url, env.STREAMSPACE_ADMIN_PASSWORD)
  // A request that is still in flight when the signal comes (its handler sleeps for an hour).
  const hanging = fetch(`${server.url}/api/plugins/stuck/hang`, {
    headers: { authorization: `Bearer ${token}` }
  }).catch((e: unknown) => e)
  await Eventually.eventually(() => server.output().includes("stuck: a request is hanging") || undefined, {
    what: "the hanging request to arrive"
  })
  const signalled = Date.now()
  const code = await server.stop("SIGTERM", 20_000)
  const took = Date.now() - signalled
  expect(code).toBe(1)
  expect(server.stderr()).toContain("shutdown did not finish within shutdownTimeoutMs (3000 ms)")
  // 3 s deadline; the rest is a busy machine's scheduling slack, far below the 20 s after which the kit kills it.
  expect(took).toBeGreaterThanOrEqual(2500)
  expect(took).toBeLessThan(8000)
  await hanging
}, 120_000)

test("a server whose test runner is killed outright exits by itself", async () => {
  const parent = Bun.spawn(["bun", Path.join(import.meta.dir, "fixtures/parent.ts"), dataDir], {
    stdout: "pipe",
    stderr: "pipe"
  })
  let out = ""
  const reading = (async () => {
    for await (const chunk of parent.stdout) out += new TextDecoder().decode(chunk)
  })()
  const pid = await Eventually.eventually(() => Number(/server pid (\d+)/.exec(out)?.[1]) || undefined, {
    what: "the parent to start its server"
  })
  expect(alive(pid)).toBe(true)
  parent.kill("SIGKILL")
  await parent.exited
  await Eventually.eventually(() => !alive(pid), {
    what: `server ${pid} to exit after its parent was killed`,
    timeoutMs: 20_000
  })
  await reading
}, 120_000)

test("a server left running by a test file is stopped when that file ends, and plain bun test gives every file 60 s", async () => {
  const files = Fs.mkdtempSync(Path.join(dir, "files-"))
  const kit = JSON.stringify(Path.join(import.meta.dir, "../../packages/testing/src/index.ts"))
  const pidFile = Path.join(files, "pid")
  Fs.writeFileSync(
    Path.join(files, "a.test.ts"),
    `import { test } from "bun:test"
import { ServerProcess } from ${kit}
test("leaves a server running", async () => {
  const server = await ServerProcess.start({ STREAMSPACE_DATA_DIR: ${JSON.stringify(dataDir)}, DATABASE_URL: "" })
  await Bun.write(${JSON.stringify(pidFile)}, String(server.proc.pid))
})
`
  )
  // The second file's hook takes longer than bun's own 5 s default: it passes only with the kit's timeout.
  Fs.writeFileSync(
    Path.join(files, "b.test.ts"),
    `import { beforeAll, expect, test } from "bun:test"
beforeAll(() => Bun.sleep(5500))
test("the server of the file before is gone", async () => {
  const pid = Number(await Bun.file(${JSON.stringify(pidFile)}).text())
  expect(pid).toBeGreaterThan(0)
  expect(() => process.kill(pid, 0)).toThrow()
})
`
  )
  const run = Bun.spawn(["bun", "test", Path.join(files, "a.test.ts"), Path.join(files, "b.test.ts")], {
    cwd: Path.join(import.meta.dir, "../.."),
    env: { ...process.env, TEST_DATABASE_URL: "" },
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text()])
  expect(`${stdout}${stderr}`).toContain("2 pass")
  expect(await run.exited).toBe(0)
}, 120_000)

test("when its data directory disappears, the server logs one fatal line and exits non-zero", async () => {
  const server = await ServerProcess.start(env)
  Fs.rmSync(dataDir, { recursive: true, force: true })
  // Requests may fail meanwhile; the process must not keep serving on a database that is gone.
  await fetch(`${server.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}"
  }).catch(() => undefined)
  const code = await server.exited(30_000)
  expect(code).toBe(1)
  const fatal = server
    .stderr()
    .split("\n")
    .filter((line) => line.startsWith("fatal:"))
  expect(fatal).toEqual([
    `fatal: the embedded database's data directory ${Path.join(dataDir, "pglite")} is gone; exiting`
  ])
}, 120_000)
