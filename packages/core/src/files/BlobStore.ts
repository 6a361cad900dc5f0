/**
 * Where file contents live: a local directory (default, `<dataDir>/blobs`)
 * or an S3-compatible bucket (Bun's built-in S3Client). Uploads stream
 * through with a size limit and a SHA-256; a partial upload is removed.
 * The session recorder plugin stores recordings through the same service.
 */
import { S3Client } from "bun"
import { Context, Data, Effect, Layer, Redacted } from "effect"
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { PayloadTooLarge } from "../Errors.ts"
import { ServerConfig } from "../ServerConfig.ts"

export class BlobError extends Data.TaggedError("BlobError")<{
  readonly operation: string
  readonly key: string
  readonly cause: unknown
}> {
  override get message() {
    return `blob ${this.operation} of ${this.key} failed: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

export interface StoredBlob {
  readonly size: number
  readonly sha256: string
}

export class BlobStore extends Context.Tag("@streamspace/core/BlobStore")<
  BlobStore,
  {
    readonly kind: "local" | "s3"
    readonly put: (
      key: string,
      body: ReadableStream<Uint8Array>,
      maxBytes: number
    ) => Effect.Effect<StoredBlob, PayloadTooLarge | BlobError>
    /** The contents as a Blob (streamed when sent as a Response body). */
    readonly get: (key: string) => Effect.Effect<Blob, BlobError>
    readonly delete: (key: string) => Effect.Effect<void, BlobError>
    readonly list: (
      prefix: string
    ) => Effect.Effect<ReadonlyArray<{ readonly key: string; readonly size: number }>, BlobError>
  }
>() {}

interface Sink {
  readonly write: (chunk: Uint8Array) => unknown
  readonly end: () => unknown
}

class TooLarge extends Error {}

/** Pipes `body` into `sink`, counting and hashing; throws TooLarge past `maxBytes`. */
const pump = async (body: ReadableStream<Uint8Array>, sink: Sink, maxBytes: number): Promise<StoredBlob> => {
  const hash = createHash("sha256")
  let size = 0
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined)
        throw new TooLarge()
      }
      hash.update(value)
      await sink.write(value)
    }
  } finally {
    await sink.end()
  }
  return { size, sha256: hash.digest("hex") }
}

const safeKey = (key: string) => {
  if (key.split("/").some((part) => part === ".." || part === "") || key.startsWith("/"))
    throw new Error(`invalid blob key ${key}`)
  return key
}

const put = (
  key: string,
  maxBytes: number,
  open: () => Sink,
  discard: () => Promise<unknown>,
  finish: () => Promise<unknown>,
  body: ReadableStream<Uint8Array>
) =>
  Effect.tryPromise({
    try: async () => {
      try {
        const stored = await pump(body, open(), maxBytes)
        await finish()
        return stored
      } catch (e) {
        await discard().catch(() => undefined)
        throw e
      }
    },
    catch: (e) =>
      e instanceof TooLarge
        ? new PayloadTooLarge({ message: `larger than ${maxBytes} bytes`, limit: maxBytes })
        : new BlobError({ operation: "put", key, cause: e })
  })

export const local = (root: string) => {
  Fs.mkdirSync(root, { recursive: true })
  const pathOf = (key: string) => Path.join(root, safeKey(key))
  return BlobStore.of({
    kind: "local",
    put: (key, body, maxBytes) => {
      const target = pathOf(key)
      const temp = `${target}.part-${crypto.randomUUID()}`
      Fs.mkdirSync(Path.dirname(target), { recursive: true })
      return put(
        key,
        maxBytes,
        () => Bun.file(temp).writer(),
        () => Fs.promises.rm(temp, { force: true }),
        () => Fs.promises.rename(temp, target),
        body
      )
    },
    get: (key) =>
      Effect.try({
        try: () => {
          const path = pathOf(key)
          if (!Fs.existsSync(path)) throw new Error("no such blob")
          return Bun.file(path)
        },
        catch: (e) => new BlobError({ operation: "get", key, cause: e })
      }),
    delete: (key) =>
      Effect.tryPromise({
        try: () => Fs.promises.rm(pathOf(key), { force: true }),
        catch: (e) => new BlobError({ operation: "delete", key, cause: e })
      }),
    list: (prefix) =>
      Effect.try({
        try: () => {
          const base = pathOf(prefix.replace(/\/$/, "") || ".")
          if (!Fs.existsSync(base)) return []
          return (Fs.readdirSync(base, { recursive: true, withFileTypes: true }) as Array<Fs.Dirent>)
            .filter((d) => d.isFile() && !d.name.includes(".part-"))
            .map((d) => {
              const full = Path.join(d.parentPath, d.name)
              return { key: Path.relative(root, full), size: Fs.statSync(full).size }
            })
        },
        catch: (e) => new BlobError({ operation: "list", key: prefix, cause: e })
      })
  })
}

export interface S3Options {
  readonly endpoint: string
  readonly bucket: string
  readonly region: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

export const s3 = (options: S3Options) => {
  const client = new S3Client({ ...options })
  return BlobStore.of({
    kind: "s3",
    put: (key, body, maxBytes) => {
      const file = client.file(safeKey(key))
      return put(
        key,
        maxBytes,
        () => file.writer({ partSize: 8 * 1024 * 1024 }),
        () => file.delete(),
        () => Promise.resolve(),
        body
      )
    },
    get: (key) =>
      Effect.tryPromise({
        try: async () => {
          const file = client.file(safeKey(key))
          if (!(await file.exists())) throw new Error("no such blob")
          return file
        },
        catch: (e) => new BlobError({ operation: "get", key, cause: e })
      }),
    delete: (key) =>
      Effect.tryPromise({
        try: () => client.delete(safeKey(key)),
        catch: (e) => new BlobError({ operation: "delete", key, cause: e })
      }),
    list: (prefix) =>
      Effect.tryPromise({
        try: async () =>
          ((await client.list({ prefix })).contents ?? []).map((c) => ({ key: c.key, size: c.size ?? 0 })),
        catch: (e) => new BlobError({ operation: "list", key: prefix, cause: e })
      })
  })
}

export const BlobStoreLive = Layer.effect(
  BlobStore,
  Effect.gen(function* () {
    const config = yield* ServerConfig
    const storage = config.storage
    if (storage.kind === "s3") {
      if (!storage.s3) return yield* Effect.dieMessage("storage.kind is s3 but storage.s3 is not configured")
      return s3({ ...storage.s3, secretAccessKey: Redacted.value(storage.s3.secretAccessKey) })
    }
    return local(storage.dir ?? Path.join(config.dataDir, "blobs"))
  })
)
