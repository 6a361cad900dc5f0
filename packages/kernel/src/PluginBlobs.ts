/**
 * The platform service behind the `blobs` grant (see Platform.ts).
 *
 * `PluginBlobs`: the core BlobStore (local directory or S3) under the prefix
 * `plugins/<id>/`, which the plugin never sees or leaves, and `seal`/`open`
 * with the platform secret (AES-256-GCM, bound to the plugin: another
 * plugin's sealed value does not open). Uninstalling the plugin without
 * keeping its data deletes its blobs.
 */
import type { BlobStore, PayloadTooLarge } from "@streamspace/core"
import { Context, Data, type Effect } from "effect"
import type { PlatformAccessDenied } from "./Platform.ts"

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
