/**
 * Ends the local-runtime desktops (Xvnc, window manager, terminal) of data
 * directories the test kit handed out. Desktops are spawned detached, so a
 * server that is SIGKILLed (a test that timed out, a test process that
 * exited before stopping it) or an in-process platform that never closed
 * would leave them running; they carry a mark of their data directory
 * (see ProcessTable), which is all this needs. The exit hook is synchronous.
 */
import { LocalRuntime, ProcessTable } from "@streamspace/core"
import * as Path from "node:path"

const watched = new Set<string>()

/** Watches the desktops of `dataDir` until `reap` (or process exit) ends them. */
export const watch = (dataDir: string): void => {
  watched.add(Path.resolve(dataDir))
}

/** Kills every process marked with `dataDir` and stops watching it; returns how many there were. */
export const reap = (dataDir: string): number => {
  const resolved = Path.resolve(dataDir)
  watched.delete(resolved)
  return ProcessTable.killMarked({ [LocalRuntime.dataDirMark]: resolved })
}

/** Kills the desktops of every watched data directory. */
export const reapAll = (): number => {
  let killed = 0
  for (const dir of [...watched]) killed += reap(dir)
  return killed
}

process.on("exit", () => {
  reapAll()
})
