/**
 * The host's side of `PluginBlobs.ts`: blob storage under `plugins/<id>/` in
 * the core BlobStore with sealing by the SecretBox, handed to a plugin only
 * with the `blobs` grant; otherwise every call is `PlatformAccessDenied`.
 */
import { BlobStore, type SecretBox } from "@streamspace/core"
import { Effect } from "effect"
import { PlatformAccessDenied, type PlatformGrant } from "../Platform.ts"
import { type PluginBlobs, SealedValueInvalid } from "../PluginBlobs.ts"

/** A key inside the plugin's prefix: relative, no empty or dot segments. */
const validKey = (key: string) =>
  key.length > 0 &&
  key.length <= 512 &&
  !key.startsWith("/") &&
  key.split("/").every((s) => s !== "" && s !== "." && s !== "..")

/** Where a plugin's blobs live in the platform's BlobStore. */
export const blobPrefixOf = (plugin: string): string => `plugins/${plugin}/`

export const pluginBlobs = (
  plugin: string,
  grants: ReadonlyArray<PlatformGrant>,
  store: BlobStore.BlobStore["Type"],
  box: SecretBox.SecretBox["Type"]
): PluginBlobs["Type"] => {
  const prefix = blobPrefixOf(plugin)
  const context = `plugin:${plugin}:`
  const guarded = <A, E>(
    operation: string,
    key: string,
    run: (full: string) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | BlobStore.BlobError | PlatformAccessDenied> => {
    if (!grants.includes("blobs")) return Effect.fail(PlatformAccessDenied.notGranted(plugin, "blobs"))
    if (!validKey(key))
      return Effect.fail(new BlobStore.BlobError({ operation, key, cause: new Error("invalid blob key") }))
    return run(prefix + key)
  }
  return {
    kind: store.kind,
    put: (key, body, maxBytes = 1024 * 1024 * 1024) =>
      guarded("put", key, (full) =>
        store.put(full, body instanceof Uint8Array ? new Blob([body]).stream() : body, maxBytes)
      ),
    get: (key) => guarded("get", key, store.get),
    delete: (key) => guarded("delete", key, store.delete),
    list: (listPrefix) =>
      grants.includes("blobs")
        ? Effect.map(store.list(prefix + listPrefix), (items) =>
            items.map((item) => ({ key: item.key.slice(prefix.length), size: item.size }))
          )
        : Effect.fail(PlatformAccessDenied.notGranted(plugin, "blobs")),
    seal: (plaintext) =>
      grants.includes("blobs")
        ? Effect.sync(() => box.seal(context + plaintext))
        : Effect.fail(PlatformAccessDenied.notGranted(plugin, "blobs")),
    open: (sealed) =>
      grants.includes("blobs")
        ? Effect.try({
            try: () => box.open(sealed),
            catch: () => new SealedValueInvalid({ message: "the sealed value does not open" })
          }).pipe(
            Effect.flatMap((text) =>
              text.startsWith(context)
                ? Effect.succeed(text.slice(context.length))
                : Effect.fail(new SealedValueInvalid({ message: "the value was sealed for another plugin" }))
            )
          )
        : Effect.fail(PlatformAccessDenied.notGranted(plugin, "blobs"))
  }
}
