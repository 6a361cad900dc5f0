/**
 * The `local` runtime: real desktops on this machine, for single-host trials
 * and tests. Each running session is a TigerVNC `Xvnc` display whose RFB
 * port listens on 127.0.0.1 only (that port is the session's endpoint), with
 * openbox when it is installed and the template's program: the last segment
 * of its image without tag (`example/xterm:1` → `xterm`, `kasmweb/firefox:1.15.0`
 * → `firefox`) when that is on the PATH, else `xterm` (started again when it
 * ends, unless it keeps ending right away). A session reports
 * `running` once the port greets with "RFB 003.008"; Xvnc ending on its own
 * fails the session with what it said.
 *
 * Homes: `<dataDir>/homes/<userId>` with `persistentHome` (by user id, so a
 * later account reusing a name never gets another's files), otherwise
 * `<dataDir>/local-runtime/<sessionId>/home`, removed with the session.
 * Hibernate stops the desktop and keeps the home; wake starts a new one (new
 * display and port, reported through `changes`).
 *
 * Every process runs as the server's OS user, in a process group of its
 * own, with an environment built from scratch (never the server's: it holds
 * the database URL and keys) and marked with the data directory and the
 * session. Stopping a desktop ends its groups, then whatever else still
 * carries its mark (a program started from its terminal); closing the
 * platform stops them all. What a killed server left behind is found by the
 * data directory's mark at the next start and ended; the sessions it ran are
 * reported hibernated (their workloads are kept under `local-runtime/`), so
 * the next connection wakes them.
 */
import { Effect, Exit, Fiber, FiberMap, Layer, Option, PubSub, Schema, Scope, Stream } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { ServerConfig } from "../ServerConfig.ts"
import * as ProcessTable from "./internal/ProcessTable.ts"
import * as XvncDesktop from "./internal/XvncDesktop.ts"
import {
  type LocalDesktop,
  type ObservedStatus,
  RuntimeError,
  SessionRuntime,
  type SessionWorkload
} from "./SessionRuntime.ts"

/** What to install for real desktops (Debian/Ubuntu). */
export const installHint = "apt-get install tigervnc-standalone-server xterm"

export const geometry = { width: 1280, height: 800, depth: 24 } as const

/** The environment variable marking every process of this data directory's desktops. */
export const dataDirMark = "STREAMSPACE_LOCAL_RUNTIME"
export const sessionMark = "STREAMSPACE_SESSION_ID"

/** Variables taken over from the server's environment; nothing else of it reaches a desktop. */
const inherited = ["PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SHELL", "TERM"] as const

const StringRecord = Schema.Record({ key: Schema.String, value: Schema.String })
const StoredWorkload = Schema.Struct({
  sessionId: Schema.String,
  userId: Schema.String,
  username: Schema.String,
  templateName: Schema.String,
  image: Schema.String,
  cpu: Schema.Number,
  memory: Schema.Number,
  vncPort: Schema.Number,
  ports: Schema.Array(Schema.Number),
  env: StringRecord,
  persistentHome: Schema.Boolean,
  nodeSelector: StringRecord
})
const decodeWorkload = Schema.decodeUnknownOption(Schema.parseJson(StoredWorkload))

/** A session directory's name back to the session id (a stray file's name may not decode). */
const decodeName = Option.liftThrowable(decodeURIComponent)

/** The program a template names: its image's last path segment without tag or digest. */
export const programName = (image: string): string => (image.split("@")[0] ?? "").split("/").pop()?.split(":")[0] ?? ""

/** Absolute argv of the program for `image`: the named one when installed, else xterm, else none. */
export const programFor = (image: string): ReadonlyArray<string> | undefined => {
  const named = programName(image)
  const found = named.length > 0 ? Bun.which(named) : null
  if (found) return [found]
  const xterm = Bun.which("xterm")
  return xterm ? [xterm] : undefined
}

interface Running {
  readonly scope: Scope.CloseableScope
  readonly desktop: XvncDesktop.Desktop
  readonly home: string
  readonly watcher: Fiber.RuntimeFiber<void>
}

interface Entry {
  readonly workload: SessionWorkload
  status: ObservedStatus
  running?: Running
}

/** The `local` runtime over the Xvnc at `xvnc` (an absolute path). */
export const make = (xvnc: string) =>
  Layer.scoped(
    SessionRuntime,
    Effect.gen(function* () {
      const config = yield* ServerConfig
      const dataDir = Path.resolve(config.dataDir)
      const stateDir = Path.join(dataDir, "local-runtime")
      const homesDir = Path.join(dataDir, "homes")
      const osUser = process.env["USER"] ?? Os.userInfo().username
      const hub = yield* PubSub.unbounded<ObservedStatus>()
      const subscription = yield* PubSub.subscribe(hub)
      const entries = new Map<string, Entry>()
      const layerScope = yield* Effect.scope
      let closing = false

      const sessionDir = (id: string) => Path.join(stateDir, encodeURIComponent(id))
      const homeOf = (w: SessionWorkload) =>
        w.persistentHome
          ? Path.join(homesDir, encodeURIComponent(w.userId))
          : Path.join(sessionDir(w.sessionId), "home")

      const failure = (operation: string, sessionId: string, retryable: boolean) => (e: unknown) =>
        new RuntimeError({ operation, sessionId, message: e instanceof Error ? e.message : String(e), retryable })

      // Desktops of an earlier process on this data directory that was killed before it could stop them.
      const orphans = ProcessTable.withEnvironment({ [dataDirMark]: dataDir })
      if (orphans.length > 0) {
        yield* Effect.logWarning(`local runtime: ending ${orphans.length} process(es) an earlier run left behind`)
        ProcessTable.signal(orphans, "SIGKILL")
      }

      const publish = (entry: Entry, status: ObservedStatus) =>
        Effect.suspend(() => {
          entry.status = status
          return PubSub.publish(hub, status)
        })

      /** Ends a desktop's process groups, then whatever else still carries its session's mark. */
      const end = (running: Running, sessionId: string) =>
        Effect.zipRight(
          Scope.close(running.scope, Exit.void),
          Effect.sync(() =>
            ProcessTable.signal(
              ProcessTable.withEnvironment({ [dataDirMark]: dataDir, [sessionMark]: sessionId }),
              "SIGKILL"
            )
          )
        )

      /** Stops the session's desktop, if it runs. */
      const stop = (entry: Entry) =>
        Effect.gen(function* () {
          const running = entry.running
          if (!running) return
          entry.running = undefined
          yield* Fiber.interrupt(running.watcher)
          yield* end(running, entry.workload.sessionId)
        })

      // Registered before the command fibers' map, so it runs after they were interrupted (finalizers run in reverse).
      yield* Effect.addFinalizer(() =>
        Effect.suspend(() => {
          closing = true
          return Effect.forEach(entries.values(), stop, { concurrency: "unbounded", discard: true })
        })
      )
      const commands = yield* FiberMap.make<string>()

      /** Xvnc ended while the session ran: the session failed. */
      const ended = (entry: Entry, desktop: XvncDesktop.Desktop, reason: string) =>
        Effect.gen(function* () {
          const running = entry.running
          if (closing || running?.desktop !== desktop) return
          entry.running = undefined
          yield* end(running, entry.workload.sessionId)
          yield* Effect.logWarning(`local runtime: session ${entry.workload.sessionId}: ${reason}`)
          yield* publish(entry, {
            sessionId: entry.workload.sessionId,
            state: "failed",
            reason: `the desktop ended: ${reason}`
          })
        })

      const environment = (w: SessionWorkload, home: string): Record<string, string> => {
        const env: Record<string, string> = {}
        for (const name of inherited) {
          const value = process.env[name]
          if (value !== undefined) env[name] = value
        }
        return {
          ...env,
          ...w.env,
          HOME: home,
          USER: osUser,
          LOGNAME: osUser,
          STREAMSPACE_USER: w.username,
          [sessionMark]: w.sessionId,
          [dataDirMark]: dataDir
        }
      }

      /** Starts the session's desktop (unless it runs): `running` with its endpoint, or `failed` with why. */
      const launch = (entry: Entry): Effect.Effect<ObservedStatus> =>
        Effect.uninterruptibleMask((restore) =>
          Effect.gen(function* () {
            const w = entry.workload
            if (entry.running)
              return {
                sessionId: w.sessionId,
                state: "running",
                endpoint: { host: "127.0.0.1", port: entry.running.desktop.port }
              } as const
            const home = homeOf(w)
            Fs.mkdirSync(home, { recursive: true, mode: 0o700 })
            const program = programFor(w.image)
            if (Path.basename(program?.[0] ?? "") !== programName(w.image))
              yield* Effect.logWarning(
                `local runtime: session ${w.sessionId}: ${programName(w.image) || w.image} is not installed; ${program ? `running ${program[0]} instead` : "neither is xterm: the desktop stays empty"}`
              )
            const scope = yield* Scope.make()
            const desktop = yield* restore(
              XvncDesktop.start({
                xvnc,
                name: w.templateName,
                ...geometry,
                home,
                logFile: Path.join(sessionDir(w.sessionId), "desktop.log"),
                windowManager: Bun.which("openbox") ?? undefined,
                program,
                env: environment(w, home),
                startTimeout: "20 seconds"
              }).pipe(Scope.extend(scope))
            ).pipe(Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause))))
            if (closing) {
              yield* Scope.close(scope, Exit.void)
              return { sessionId: w.sessionId, state: "hibernated" } as const
            }
            // Interruptible although forked inside the mask: `stop` interrupts it before it ends the processes.
            const watcher = yield* desktop.exited.pipe(
              Effect.flatMap((reason) => ended(entry, desktop, reason)),
              Effect.interruptible,
              Effect.forkIn(layerScope)
            )
            entry.running = { scope, desktop, home, watcher }
            return {
              sessionId: w.sessionId,
              state: "running",
              endpoint: { host: "127.0.0.1", port: desktop.port }
            } as const
          })
        ).pipe(
          Effect.catchAll((e) =>
            Effect.succeed<ObservedStatus>({
              sessionId: entry.workload.sessionId,
              state: "failed",
              reason: `the desktop did not start: ${e.message}`
            })
          ),
          Effect.catchAllDefect((defect) =>
            Effect.succeed<ObservedStatus>({
              sessionId: entry.workload.sessionId,
              state: "failed",
              reason: `the desktop did not start: ${defect instanceof Error ? defect.message : String(defect)}`
            })
          )
        )

      const hibernated = (entry: Entry) =>
        Effect.as(stop(entry), { sessionId: entry.workload.sessionId, state: "hibernated" } as const)

      /** Runs a session's command in the background (a newer command of the session interrupts it), then reports. */
      const run = (entry: Entry, command: (entry: Entry) => Effect.Effect<ObservedStatus>) =>
        FiberMap.run(
          commands,
          entry.workload.sessionId,
          Effect.flatMap(command(entry), (status) => publish(entry, status))
        ).pipe(Effect.asVoid)

      /** The session's entry, from memory or from what an earlier process recorded. */
      const entryOf = (id: string) =>
        Effect.sync(() => {
          const known = entries.get(id)
          if (known) return known
          let text: string
          try {
            text = Fs.readFileSync(Path.join(sessionDir(id), "workload.json"), "utf8")
          } catch {
            return undefined
          }
          const workload = decodeWorkload(text)
          if (workload._tag === "None") return undefined
          const entry: Entry = { workload: workload.value, status: { sessionId: id, state: "hibernated" } }
          entries.set(id, entry)
          return entry
        })

      // Sessions an earlier process ran: their desktops are gone, their homes are not.
      const recorded = Fs.existsSync(stateDir) ? Fs.readdirSync(stateDir) : []
      for (const name of recorded) {
        const entry = yield* entryOf(Option.getOrElse(decodeName(name), () => name))
        if (entry) yield* PubSub.publish(hub, entry.status)
      }

      yield* Effect.logInfo(`local runtime: Xvnc at ${xvnc}, desktops under ${stateDir}`)

      return {
        kind: "local" as const,
        create: (workload) =>
          Effect.gen(function* () {
            const entry = entries.get(workload.sessionId) ?? {
              workload,
              status: { sessionId: workload.sessionId, state: "pending" as const }
            }
            yield* Effect.try({
              try: () => {
                Fs.mkdirSync(sessionDir(workload.sessionId), { recursive: true, mode: 0o700 })
                Fs.writeFileSync(Path.join(sessionDir(workload.sessionId), "workload.json"), JSON.stringify(workload), {
                  mode: 0o600
                })
              },
              catch: failure("create", workload.sessionId, false)
            })
            entries.set(workload.sessionId, entry)
            yield* run(entry, launch)
          }),
        hibernate: (id) =>
          Effect.flatMap(entryOf(id), (entry) =>
            entry ? run(entry, hibernated) : PubSub.publish(hub, { sessionId: id, state: "hibernated" })
          ).pipe(Effect.asVoid),
        wake: (id) =>
          Effect.flatMap(entryOf(id), (entry) =>
            entry
              ? run(entry, launch)
              : new RuntimeError({
                  operation: "wake",
                  sessionId: id,
                  message: "this host has no record of the session's desktop",
                  retryable: false
                })
          ),
        remove: (id) =>
          Effect.gen(function* () {
            yield* FiberMap.remove(commands, id)
            const entry = entries.get(id)
            if (entry) yield* stop(entry)
            entries.delete(id)
            yield* Effect.try({
              try: () => Fs.rmSync(sessionDir(id), { recursive: true, force: true }),
              catch: failure("remove", id, true)
            })
          }),
        status: (id) => Effect.succeed(entries.get(id)?.status ?? { sessionId: id, state: "terminated" }),
        changes: Stream.fromQueue(subscription),
        desktop: (id): LocalDesktop | undefined => {
          const running = entries.get(id)?.running
          return running
            ? {
                display: running.desktop.display,
                port: running.desktop.port,
                pids: running.desktop.pids(),
                home: running.home
              }
            : undefined
        }
      }
    })
  )
