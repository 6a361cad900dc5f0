/**
 * Platform services behind the `vnc` and `blobs` grants (see Platform.ts).
 *
 * `VncTap` (grant `vnc`): subscribe to one session's RFB stream as the VNC
 * proxy relays it — the handshake preamble of each connection, then every
 * parsed message of both directions with a monotonic time — through a
 * bounded buffer: the proxy never waits for a subscriber; one that falls
 * behind gets a final `Dropped` event and nothing more. The subscription
 * lives in the caller's Scope (a plugin's layer scope, or a narrower one),
 * so disabling the plugin removes it and the proxy goes back to no work.
 * A subscriber may filter client → server ClientCutText (`clipboard`:
 * pass, drop or replace; synchronous, fails closed) and may send
 * FramebufferUpdateRequests to the desktop (`inject`). The event shapes are
 * `RfbTap.TapEvent` from `@streamspace/rfb`.
 *
 * `PluginBlobs` (grant `blobs`): the core BlobStore (local directory or S3)
 * under the prefix `plugins/<id>/`, which the plugin never sees or leaves,
 * and `seal`/`open` with the platform secret (AES-256-GCM, bound to the
 * plugin: another plugin's sealed value does not open).
 */
import type { BlobStore, PayloadTooLarge } from "@streamspace/core"
import type { RfbTap } from "@streamspace/rfb"
import { Context, Data, type Effect, type Scope } from "effect"
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

/** A sealed value that does not open: tampered, foreign, or another plugin's. */
export class SealedValueInvalid extends Data.TaggedError("SealedValueInvalid")<{ readonly message: string }> {}

export class PluginBlobs extends Context.Tag("@streamspace/kernel/PluginBlobs")<
  PluginBlobs,
  {
    readonly kind: "local" | "s3"
    readonly put: (
      key: string,
      body: Uint8Array | ReadableStream<Uint8Array>,
      maxBytes?: number
    ) => Effect.Effect<BlobStore.StoredBlob, BlobStore.BlobError | PayloadTooLarge | PlatformAccessDenied>
    readonly get: (key: string) => Effect.Effect<Blob, BlobStore.BlobError | PlatformAccessDenied>
    readonly delete: (key: string) => Effect.Effect<void, BlobStore.BlobError | PlatformAccessDenied>
    readonly list: (
      prefix: string
    ) => Effect.Effect<
      ReadonlyArray<{ readonly key: string; readonly size: number }>,
      BlobStore.BlobError | PlatformAccessDenied
    >
    /** Encrypts a short secret (a key) with the platform secret. */
    readonly seal: (plaintext: string) => Effect.Effect<string, PlatformAccessDenied>
    readonly open: (sealed: string) => Effect.Effect<string, SealedValueInvalid | PlatformAccessDenied>
  }
>() {}
