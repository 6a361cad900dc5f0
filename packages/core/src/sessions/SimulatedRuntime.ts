/**
 * The `simulated` runtime (default of `bun start`): no containers run; each
 * command lands after `sessions.simulatedDelayMs` as if a cluster had done
 * it. Sessions say `"runtime": "simulated"` so nobody mistakes it for the
 * real thing. The endpoint is 127.0.0.1:<vncPort>, reachable only when
 * something listens there (tests start a VNC stand-in).
 */
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
    const timers = yield* FiberMap.make<string>()

    const land = (id: string, next: (w: SessionWorkload) => ObservedStatus) =>
      FiberMap.run(
        timers,
        id,
        Effect.gen(function* () {
          yield* Effect.sleep(delay)
          const entry = workloads.get(id)
          if (!entry) return
          entry.status = next(entry.workload)
          yield* PubSub.publish(hub, entry.status)
        })
      ).pipe(Effect.asVoid)

    const running = (w: SessionWorkload): ObservedStatus => ({
      sessionId: w.sessionId,
      state: "running",
      endpoint: { host: "127.0.0.1", port: w.vncPort }
    })

    return {
      kind: "simulated" as const,
      create: (workload) =>
        Effect.suspend(() => {
          workloads.set(workload.sessionId, { workload, status: { sessionId: workload.sessionId, state: "pending" } })
          return land(workload.sessionId, running)
        }),
      hibernate: (id) => land(id, (w) => ({ sessionId: w.sessionId, state: "hibernated" })),
      wake: (id) => land(id, running),
      remove: (id) =>
        Effect.gen(function* () {
          yield* FiberMap.remove(timers, id)
          workloads.delete(id)
        }),
      status: (id) => Effect.succeed(workloads.get(id)?.status ?? { sessionId: id, state: "terminated" }),
      changes: Stream.fromQueue(subscription)
    }
  })
)
