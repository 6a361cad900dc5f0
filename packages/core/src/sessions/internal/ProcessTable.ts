/**
 * Finds processes by variables of their environment (`/proc/<pid>/environ`, Linux).
 * The local runtime marks every process of a desktop with its data directory and
 * session, so what a desktop left behind (a program started in its terminal, or a
 * whole desktop after the server was killed) can be found and ended by that mark
 * alone, without trusting remembered pids the OS may have reused.
 */
import * as Fs from "node:fs"

/** Pids (other than this process) whose environment holds every `name=value` of `marks`. */
export const withEnvironment = (marks: Readonly<Record<string, string>>): ReadonlyArray<number> => {
  let entries: ReadonlyArray<string>
  try {
    entries = Fs.readdirSync("/proc")
  } catch {
    return []
  }
  const wanted = Object.entries(marks).map(([name, value]) => `${name}=${value}`)
  const found: Array<number> = []
  for (const entry of entries) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === process.pid) continue
    let environ: string
    try {
      environ = Fs.readFileSync(`/proc/${pid}/environ`, "latin1")
    } catch {
      continue
    }
    const variables = new Set(environ.split("\0"))
    if (wanted.every((w) => variables.has(w))) found.push(pid)
  }
  return found
}

/** Sends `signal` to each pid, ignoring those already gone. */
export const signal = (pids: ReadonlyArray<number>, signal: NodeJS.Signals): void => {
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
    } catch {
      // gone already
    }
  }
}

/** True while `pid` exists and is not a zombie. */
export const alive = (pid: number): boolean => {
  try {
    const stat = Fs.readFileSync(`/proc/${pid}/stat`, "latin1")
    // The state follows the parenthesised command name, which may itself hold spaces or parentheses.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
  } catch {
    return false
  }
}

/**
 * Kills (SIGKILL) every process whose environment holds every `name=value` of `marks`, and keeps scanning until
 * none is left (a dying process still shows for a moment, and one may have forked between the scan and the
 * kill), for at most `withinMs`. Synchronous, so usable in `process.on("exit")`. Returns how many it killed.
 */
export const killMarked = (marks: Readonly<Record<string, string>>, withinMs = 2000): number => {
  const killed = new Set<number>()
  const deadline = performance.now() + withinMs
  for (;;) {
    const pids = withEnvironment(marks).filter(alive)
    if (pids.length === 0 || performance.now() > deadline) break
    signal(pids, "SIGKILL")
    for (const pid of pids) killed.add(pid)
    Bun.sleepSync(10)
  }
  return killed.size
}
