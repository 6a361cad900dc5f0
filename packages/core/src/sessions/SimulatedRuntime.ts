/**
 * The `simulated` runtime (default of `bun start`): no containers run; each
 * command lands after `sessions.simulatedDelayMs` as if a cluster had done
 * it. Sessions say `"runtime": "simulated"` so nobody mistakes it for the
 * real thing. Each running session gets a desktop of its own: a stand-in
 * RFB server (`@streamspace/rfb`) on 127.0.0.1 with a port the OS chose,
 * started when the session starts or wakes and stopped when it hibernates
 * or ends. That server is the session's endpoint, so the VNC proxy reaches
 * nothing else on this host (a template's `vncPort` is not used here).
 */
import { StandInVncServer } from "@streamspace/rfb"
import { Duration, Effect, FiberMap, Layer, PubSub, Stream } from "effect"
import { ServerConfig } from "../ServerConfig.ts"
import { type ObservedStatus, SessionRuntime, type SessionWorkload } from "./SessionRuntime.ts"

export const SimulatedRuntimeLive = Layer.scoped(
  SessionRuntime,
  Effect.gen(function* () {
    const config = yield* ServerConfig
    const delay = Duration.millis(config.sessions.simulatedDelayMs)
    const hub = yield* PubSub.unbounded<ObservedStatus>()
    const subscription = yield* PubSub.subscribe(hub)
    const workloads = new Map<string, { workload: SessionWorkload; status: ObservedStatus }>()
    const desktops = new Map<string, StandInVncServer.StandInVncServer>()
    const timers = yield* FiberMap.make<string>()

    const stopDesktop = (id: string) =>
      Effect.sync(() => {
        desktops.get(id)?.stop()
        desktops.delete(id)
      })
    yield* Effect.addFinalizer(() => Effect.forEach([...desktops.keys()], stopDesktop, { discard: true }))

    const land = (id: string, next: (w: SessionWorkload) => Effect.Effect<ObservedStatus>) =>
      FiberMap.run(
        timers,
        id,
        Effect.gen(function* () {
          yield* Effect.sleep(delay)
          const entry = workloads.get(id)
          if (!entry) return
          entry.status = yield* next(entry.workload)
          yield* PubSub.publish(hub, entry.status)
        })
      ).pipe(Effect.asVoid)

    const running = (w: SessionWorkload): Effect.Effect<ObservedStatus> =>
      Effect.try(() => {
        const desktop = desktops.get(w.sessionId) ?? StandInVncServer.start({ name: `${w.templateName} (simulated)` })
        desktops.set(w.sessionId, desktop)
        return {
          sessionId: w.sessionId,
          state: "running",
          endpoint: { host: desktop.host, port: desktop.port }
        } as const
      }).pipe(
        Effect.catchAll((e) =>
          Effect.succeed<ObservedStatus>({
            sessionId: w.sessionId,
            state: "failed",
            reason: `the simulated desktop did not start: ${e.message}`
          })
        )
      )

    const hibernated = (w: SessionWorkload) =>
      Effect.as(stopDesktop(w.sessionId), { sessionId: w.sessionId, state: "hibernated" } as const)

    return {
      kind: "simulated" as const,
      create: (workload) =>
        Effect.suspend(() => {
          workloads.set(workload.sessionId, { workload, status: { sessionId: workload.sessionId, state: "pending" } })
          return land(workload.sessionId, running)
        }),
      hibernate: (id) => land(id, hibernated),
      wake: (id) => land(id, running),
      remove: (id) =>
        Effect.gen(function* () {
          yield* FiberMap.remove(timers, id)
          yield* stopDesktop(id)
          workloads.delete(id)
        }),
      status: (id) => Effect.succeed(workloads.get(id)?.status ?? { sessionId: id, state: "terminated" }),
      changes: Stream.fromQueue(subscription),
      desktop: (id) => desktops.get(id)
    }
  })
)
