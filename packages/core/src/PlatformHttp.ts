/**
 * `GET /api/platform`: what the console needs to know about the server
 * before it draws anything — the edition, the version, and where sessions
 * run (`simulated` sessions are labelled as such, with the one command
 * that installs real desktops when that is why they are simulated).
 */
import { Context, Effect, Option, Schema } from "effect"
import corePackage from "../package.json" with { type: "json" }
import * as HttpRoute from "./HttpRoute.ts"
import { RuntimeSelection, SessionRuntime } from "./sessions/SessionRuntime.ts"

/**
 * The edition and version the server runs as. `bun start` and edition
 * executables provide it from `@streamspace/editions`; a platform started
 * otherwise (the test kit) reports the default edition and the core's version.
 */
export class PlatformInfo extends Context.Reference<PlatformInfo>()("@streamspace/core/PlatformInfo", {
  defaultValue: (): { readonly edition: string; readonly version: string } => ({
    edition: "community",
    version: corePackage.version
  })
}) {}

export class Platform extends Schema.Class<Platform>("Platform")({
  edition: Schema.String,
  version: Schema.String,
  /** Where sessions run: `simulated` means no real desktop (a stand-in screen, timed state changes). */
  runtime: Schema.Literal("simulated", "local", "kubernetes"),
  /** Present when sessions are simulated because Xvnc is missing: the command that installs real desktops. */
  installHint: Schema.optional(Schema.String)
}) {}

export const platformRoutes = [
  HttpRoute.make({
    method: "GET",
    path: "/api/platform",
    summary: "The edition, the version and the session runtime in effect (simulated, local or kubernetes)",
    tags: ["platform"],
    permission: "authenticated",
    response: Platform,
    handler: () =>
      Effect.gen(function* () {
        const info = yield* PlatformInfo
        const runtime = yield* SessionRuntime
        const selection = yield* Effect.serviceOption(RuntimeSelection)
        const installHint = runtime.kind === "simulated" ? Option.getOrUndefined(selection)?.installHint : undefined
        return new Platform({
          edition: info.edition,
          version: info.version,
          runtime: runtime.kind,
          ...(installHint ? { installHint } : {})
        })
      })
  })
]
