/**
 * Picks the session runtime driver from `sessions.runtime`, once, at start.
 * `auto` (the default) is `local` when TigerVNC's `Xvnc` is on the PATH and
 * `simulated` otherwise; `local` without Xvnc refuses to start, naming the
 * packages to install. The choice and its reason are logged and provided as
 * `RuntimeSelection`.
 */
import { Data, Effect, Either, Layer } from "effect"
import { ServerConfig } from "../ServerConfig.ts"
import { KubernetesRuntimeLive } from "./KubernetesRuntime.ts"
import * as LocalRuntime from "./LocalRuntime.ts"
import { RuntimeSelection } from "./SessionRuntime.ts"
import { SimulatedRuntimeLive } from "./SimulatedRuntime.ts"

export class RuntimeUnavailable extends Data.TaggedError("RuntimeUnavailable")<{ readonly message: string }> {}

export type Selection = typeof RuntimeSelection.Service

/** What `configured` resolves to, given where Xvnc is (`null`: not on the PATH). */
export const select = (
  configured: Selection["configured"],
  xvnc: string | null
): Either.Either<Selection, RuntimeUnavailable> => {
  switch (configured) {
    case "auto":
      return Either.right(
        xvnc
          ? { configured, kind: "local", why: `auto: Xvnc found at ${xvnc}`, installHint: undefined }
          : {
              configured,
              kind: "simulated",
              why: `auto: Xvnc is not on the PATH, so desktops are simulated (for real ones: ${LocalRuntime.installHint})`,
              installHint: LocalRuntime.installHint
            }
      )
    case "local":
      return xvnc
        ? Either.right({ configured, kind: "local", why: `configured; Xvnc at ${xvnc}`, installHint: undefined })
        : Either.left(
            new RuntimeUnavailable({
              message: `sessions.runtime (SESSION_RUNTIME) is local but Xvnc is not on the PATH: install it with \`${LocalRuntime.installHint}\`, or use SESSION_RUNTIME=auto or simulated`
            })
          )
    default:
      return Either.right({ configured, kind: configured, why: "configured", installHint: undefined })
  }
}

/** Xvnc's absolute path on the PATH of this process, or null. */
export const findXvnc = (): string | null => Bun.which("Xvnc", { PATH: process.env["PATH"] ?? "" })

export const SessionRuntimeLive = Layer.unwrapEffect(
  Effect.gen(function* () {
    const config = yield* ServerConfig
    const xvnc = findXvnc()
    const selection = yield* select(config.sessions.runtime, xvnc)
    yield* Effect.logInfo(`session runtime: ${selection.kind} (${selection.why})`)
    const driver =
      selection.kind === "local" && xvnc
        ? LocalRuntime.make(xvnc)
        : selection.kind === "kubernetes"
          ? KubernetesRuntimeLive
          : SimulatedRuntimeLive
    return Layer.merge(driver, Layer.succeed(RuntimeSelection, selection))
  })
)
