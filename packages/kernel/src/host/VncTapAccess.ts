/**
 * The host's side of `VncTap.ts`: the stream tap over the process's
 * `RfbTap.TapHub` (the VNC proxy's), handed to a plugin only with the `vnc`
 * grant; otherwise every call is `PlatformAccessDenied`.
 */
import type { RfbTap } from "@streamspace/rfb"
import { Effect } from "effect"
import { PlatformAccessDenied, type PlatformGrant } from "../Platform.ts"
import type { VncTap } from "../VncTap.ts"

export const vncTap = (
  plugin: string,
  grants: ReadonlyArray<PlatformGrant>,
  hub: RfbTap.TapHubShape
): VncTap["Type"] => ({
  subscribe: (options) =>
    grants.includes("vnc")
      ? Effect.acquireRelease(
          Effect.sync(() => hub.subscribe({ ...options, name: options.name ?? `plugin ${plugin}` })),
          (subscription) => Effect.sync(subscription.close)
        )
      : Effect.fail(PlatformAccessDenied.notGranted(plugin, "vnc"))
})
