/**
 * The test kit ends the desktops of the data directories it handed out when
 * the test process exits, even one that dies mid-test (a timed-out or failed
 * test never closes its platform or stops its server cleanly; desktops are
 * detached, so nothing else would end them). A detached process carrying the
 * local runtime's data-directory mark stands in for Xvnc.
 */
import { afterAll, expect, test } from "bun:test"
import { LocalRuntime } from "@streamspace/core"
import { Eventually } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamspace-reaper-"))
const reaper = new URL("../../packages/testing/src/DesktopReaper.ts", import.meta.url).pathname
const alive = (pid: number) => {
  try {
    return !Fs.readFileSync(`/proc/${pid}/stat`, "latin1").includes(") Z ")
  } catch {
    return false
  }
}
const spawned: Array<number> = []

afterAll(() => {
  for (const pid of spawned) if (alive(pid)) process.kill(pid, "SIGKILL")
  Fs.rmSync(dataDir, { recursive: true, force: true })
})

/** Runs a test process that watches `dataDir`, starts a marked detached "desktop" and a bystander, then exits abruptly. */
const runTestProcess = async (watch: boolean) => {
  const script = `
    import * as DesktopReaper from ${JSON.stringify(reaper)}
    ${watch ? `DesktopReaper.watch(${JSON.stringify(dataDir)})` : ""}
    const spawn = (env) => Bun.spawn(["sleep", "60"], { env: { ...process.env, ...env }, detached: true, stdio: ["ignore", "ignore", "ignore"] })
    const desktop = spawn({ ${LocalRuntime.dataDirMark}: ${JSON.stringify(dataDir)} })
    const bystander = spawn({ ${LocalRuntime.dataDirMark}: ${JSON.stringify(`${dataDir}-other`)} })
    desktop.unref(); bystander.unref()
    console.log(JSON.stringify({ desktop: desktop.pid, bystander: bystander.pid }))
    process.exit(1)
  `
  const proc = Bun.spawn(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" })
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  await proc.exited
  const pids = JSON.parse(out.trim() || "null") as { desktop: number; bystander: number } | null
  if (!pids) throw new Error(`test process printed no pids: ${err}`)
  spawned.push(pids.desktop, pids.bystander)
  return pids
}

test("a test process that exits without cleaning up leaves no desktop of its data directory behind", async () => {
  const { desktop, bystander } = await runTestProcess(true)
  await Eventually.eventually(() => !alive(desktop), { timeoutMs: 3_000, what: "the marked desktop process to end" })
  // Only its own data directory's processes: another directory's desktop keeps running.
  expect(alive(bystander)).toBe(true)
}, 20_000)

test("without the kit watching, such a desktop outlives its test process (what the reaper prevents)", async () => {
  const { desktop } = await runTestProcess(false)
  await Bun.sleep(500)
  expect(alive(desktop)).toBe(true)
}, 20_000)
