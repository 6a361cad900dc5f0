/**
 * The platform service behind the `vnc` grant (see Platform.ts).
 *
 * `VncTap`: subscribe to one session's RFB stream as the VNC
 * proxy relays it — the handshake preamble of each connection, then every
 * parsed message of both directions with a monotonic time — through a
 * bounded buffer: the proxy never waits for a subscriber; one that falls
 * behind gets a final `Dropped` event and nothing more. The subscription
 * lives in the caller's Scope (a plugin's layer scope, or a narrower one),
 * so disabling the plugin removes it and the proxy goes back to no work.
 * A subscriber may filter the clipboard both ways (`clipboard`: pass, drop
 * or replace; synchronous, fails closed): pastes into the desktop
 * (ClientCutText, context `direction: "client"`) and copies out of it
 * (ServerCutText, `direction: "server"`), each before the proxy forwards
 * it. It may send FramebufferUpdateRequests to the desktop (`inject`). The
 * event shapes are `RfbTap.TapEvent` from `@streamspace/rfb`: after
 * ServerInit the server's stream arrives as `ServerData` chunks (in order,
 * as relayed) with each ServerCutText as a message of its own.
 */
import type { RfbTap } from "@streamspace/rfb"
import { Context, type Effect, type Scope } from "effect"
import type { PlatformAccessDenied } from "./Platform.ts"

export class VncTap extends Context.Tag("@streamspace/kernel/VncTap")<
  VncTap,
  {
    /** Watches `options.sessionId` until the Scope closes (or the subscription is dropped or closed). */
    readonly subscribe: (
      options: RfbTap.SubscribeOptions
    ) => Effect.Effect<RfbTap.TapSubscription, PlatformAccessDenied, Scope.Scope>
  }
>() {}
