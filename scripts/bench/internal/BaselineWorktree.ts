/**
 * A git revision checked out into a temporary worktree under the OS tmpdir
 * (never the main checkout's working tree), its dependencies installed from
 * its own lockfile, so the bench can run that revision's server beside the
 * current one. `remove` deletes the worktree again; one not removed yet is
 * removed when the process exits, Ctrl-C (SIGINT) or SIGTERM included.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

export interface BaselineWorktree {
  readonly revision: string
  readonly dir: string
  /** The command that starts its server (for `ServerProcess.start`). */
  readonly serverCommand: ReadonlyArray<string>
  readonly remove: () => void
}

const repoRoot = Path.resolve(import.meta.dir, "../../..")

/** `remove` of every worktree checked out and not removed yet. */
const open = new Set<() => void>()
process.on("exit", () => {
  for (const remove of [...open]) remove()
})
// A signal's default action skips the exit handlers: exit instead, so they run.
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => process.exit(signal === "SIGINT" ? 130 : 143))

const run = (command: ReadonlyArray<string>, cwd: string) => {
  const out = Bun.spawnSync([...command], { cwd, stdout: "pipe", stderr: "pipe" })
  if (out.exitCode !== 0)
    throw new Error(
      `${command.join(" ")} (in ${cwd}) failed with ${out.exitCode}: ${out.stderr.toString().slice(-2000)}`
    )
  return out.stdout.toString().trim()
}

export const checkout = (revision: string): BaselineWorktree => {
  const commit = run(["git", "rev-parse", "--verify", `${revision}^{commit}`], repoRoot)
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-bench-baseline-"))
  const remove = () => {
    open.delete(remove)
    Bun.spawnSync(["git", "worktree", "remove", "--force", dir], { cwd: repoRoot, stdout: "ignore", stderr: "ignore" })
    Fs.rmSync(dir, { recursive: true, force: true })
    Bun.spawnSync(["git", "worktree", "prune"], { cwd: repoRoot, stdout: "ignore", stderr: "ignore" })
  }
  open.add(remove)
  try {
    run(["git", "worktree", "add", "--detach", dir, commit], repoRoot)
    run(["bun", "install", "--frozen-lockfile"], dir)
  } catch (e) {
    remove()
    throw e
  }
  return {
    revision: `${revision} (${commit.slice(0, 10)})`,
    dir,
    serverCommand: ["bun", Path.join(dir, "packages/server/src/main.ts")],
    remove
  }
}
