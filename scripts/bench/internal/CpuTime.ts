/**
 * CPU time of processes from `/proc/<pid>/stat` (Linux): a process's own
 * user + system time, and the total of every PostgreSQL process on the
 * machine (the server the bench drives is local). Milliseconds.
 */
import * as Fs from "node:fs"

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const ticksPerSecond = 100

/** User + system CPU milliseconds of `pid` so far; NaN when it cannot be read (not Linux, process gone). */
export const ofProcess = (pid: number): number => {
  try {
    const stat = Fs.readFileSync(`/proc/${pid}/stat`, "latin1")
    // Fields after the parenthesised command name: state is field 3, utime 14 and stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond
  } catch {
    return Number.NaN
  }
}

/** CPU milliseconds so far of each thread of `pid`, summed by thread name (JIT workers, GC helpers, the main thread…). */
export const ofThreads = (pid: number): ReadonlyMap<string, number> => {
  const byName = new Map<string, number>()
  let tasks: ReadonlyArray<string>
  try {
    tasks = Fs.readdirSync(`/proc/${pid}/task`)
  } catch {
    return byName
  }
  for (const tid of tasks) {
    try {
      const stat = Fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "latin1")
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "")
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond
      byName.set(name, (byName.get(name) ?? 0) + ms)
    } catch {
      // gone meanwhile
    }
  }
  return byName
}

/** CPU milliseconds so far of each process named `postgres*`, by pid. */
export const ofPostgres = (): ReadonlyMap<number, number> => {
  const byPid = new Map<number, number>()
  let entries: ReadonlyArray<string>
  try {
    entries = Fs.readdirSync("/proc")
  } catch {
    return byPid
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (Fs.readFileSync(`/proc/${entry}/comm`, "latin1").startsWith("postgres"))
        byPid.set(Number(entry), ofProcess(Number(entry)))
    } catch {
      // gone meanwhile
    }
  }
  return byPid
}

export interface Sample {
  readonly server: number
  /** Of `server`: its JavaScriptCore JIT worker threads. */
  readonly jit: number
  readonly postgres: ReadonlyMap<number, number>
}

export const sample = (serverPid: number): Sample => ({
  server: ofProcess(serverPid),
  jit: ofThreads(serverPid).get("JITWorker") ?? 0,
  postgres: ofPostgres()
})

export interface PerRequest {
  readonly server: number
  readonly jit: number
  readonly postgres: number
}

/**
 * CPU milliseconds of the server and of PostgreSQL between two samples. PostgreSQL's is summed over the
 * processes alive at the end (a backend started meanwhile counts whole); one that exited meanwhile (an idle pool
 * connection closing) is not counted, since what it used in between cannot be known.
 */
export const between = (before: Sample, after: Sample): PerRequest => {
  let postgres = 0
  for (const [pid, ms] of after.postgres) postgres += ms - (before.postgres.get(pid) ?? 0)
  return { server: after.server - before.server, jit: after.jit - before.jit, postgres }
}
