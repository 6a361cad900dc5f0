/** Picks the session runtime driver from `sessions.runtime`. */
import { Effect, Layer } from "effect"
import { ServerConfig } from "../ServerConfig.ts"
import { KubernetesRuntimeLive } from "./KubernetesRuntime.ts"
import { SimulatedRuntimeLive } from "./SimulatedRuntime.ts"

export const SessionRuntimeLive = Layer.unwrapEffect(
  Effect.gen(function* () {
    const config = yield* ServerConfig
    switch (config.sessions.runtime) {
      case "simulated":
        return SimulatedRuntimeLive
      case "kubernetes":
        return KubernetesRuntimeLive
    }
  })
)
