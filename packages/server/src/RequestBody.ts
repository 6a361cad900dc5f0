/**
 * JSON request bodies, read at the edge before any handler runs and refused
 * as problems instead of failing deeper down:
 *
 * - another media type than JSON → 415 (`unsupported_media_type`);
 * - more than `maxBytes` (declared or streamed) → 413, read no further;
 * - not UTF-8, not JSON, or nested deeper than `maxDepth` → 400
 *   (`invalid_body`); the depth is counted by a scan of the text, without
 *   recursion, before parsing (a 10 000-deep array overflowed the stack of
 *   the error formatter), and the message never quotes the body;
 * - a NUL character in any string or key → 400 naming the field
 *   (`nulField`, which the edge applies to the URL too): PostgreSQL's text
 *   and jsonb cannot hold it.
 *
 * Uploads declare `body: "raw"` and stream the request themselves; none of
 * this applies to them.
 */
import { type FieldError, PayloadTooLarge, Text, ValidationError } from "@streamspace/core"
import { Data, Effect } from "effect"

export interface Limits {
  readonly maxBytes: number
  readonly maxDepth: number
}

export const defaultLimits: Limits = { maxBytes: 1024 * 1024, maxDepth: 32 }

/** The body is not JSON (or not UTF-8, or nested too deep). */
export class InvalidBody extends Data.TaggedError("InvalidBody")<{
  readonly message: string
  readonly errors: ReadonlyArray<FieldError>
}> {
  static readonly status = 400
  readonly status = 400
  readonly code = "invalid_body"
}

export class UnsupportedMediaType extends Data.TaggedError("UnsupportedMediaType")<{ readonly message: string }> {
  static readonly status = 415
  readonly status = 415
  readonly code = "unsupported_media_type"
}

const invalid = (message: string) => new InvalidBody({ message, errors: [{ path: "body", message }] })

/** `application/json`, `application/problem+json`, … with or without parameters. */
const jsonMediaType = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i

const NUL = "\u0000"
const maxKeyShown = 100

/** A path to show in an error: long keys cut short, NUL written out. */
const fieldPath = (where: string, path: ReadonlyArray<string>) =>
  [where, ...path]
    .map((key) => (key.length > maxKeyShown ? `${key.slice(0, maxKeyShown)}…` : key).replaceAll(NUL, "\\u0000"))
    .join(".")

/** The field (`body.config.dsn`) of the first string or key of `value` that holds a NUL character, if any. */
export const nulField = (where: string, value: unknown): string | undefined => {
  const path = Text.nulPath(value)
  return path === undefined ? undefined : fieldPath(where, path)
}

/** Fails naming the first string or key of `value` that holds a NUL character. */
export const refuseNul = (where: string, value: unknown): Effect.Effect<void, ValidationError> => {
  const field = nulField(where, value)
  return field === undefined
    ? Effect.void
    : Effect.fail(ValidationError.field(field, "must not contain NUL characters"))
}

/** Whether `text` nests arrays and objects deeper than `max` (strings skipped; no recursion). */
export const nestsDeeperThan = (text: string, max: number): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return false
}

const tooLarge = (maxBytes: number) =>
  new PayloadTooLarge({ message: `the body is larger than ${maxBytes} bytes`, limit: maxBytes })

/** The body's bytes, reading no more than `maxBytes` (a longer body is cancelled, not buffered). */
const readBytes = (request: Request, maxBytes: number): Effect.Effect<Uint8Array, PayloadTooLarge | InvalidBody> =>
  Effect.gen(function* () {
    const declared = Number(request.headers.get("content-length") ?? Number.NaN)
    if (declared > maxBytes) return yield* tooLarge(maxBytes)
    const stream = request.body
    if (stream === null) return new Uint8Array()
    const read = yield* Effect.tryPromise({
      try: async () => {
        const reader = stream.getReader()
        const chunks: Array<Uint8Array> = []
        let size = 0
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return Buffer.concat(chunks, size)
          size += value.byteLength
          if (size > maxBytes) {
            await reader.cancel().catch(() => undefined)
            return undefined
          }
          chunks.push(value)
        }
      },
      catch: () => invalid("the body could not be read")
    })
    return read === undefined ? yield* tooLarge(maxBytes) : read
  })

const utf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * The parsed JSON body, or undefined when there is none (GET, HEAD, an
 * empty or blank body); fails with a problem as described above.
 */
export const readJson = (
  request: Request,
  limits: Limits = defaultLimits
): Effect.Effect<unknown, PayloadTooLarge | InvalidBody | UnsupportedMediaType | ValidationError> =>
  Effect.gen(function* () {
    if (request.method === "GET" || request.method === "HEAD") return undefined
    const bytes = yield* readBytes(request, limits.maxBytes)
    let text: string
    try {
      text = utf8.decode(bytes)
    } catch {
      return yield* invalid("the body is not UTF-8")
    }
    if (text.trim().length === 0) return undefined
    const contentType = request.headers.get("content-type")
    if (contentType !== null && !jsonMediaType.test(contentType))
      return yield* new UnsupportedMediaType({
        message: `this route takes application/json, not ${contentType.slice(0, 100)}`
      })
    if (nestsDeeperThan(text, limits.maxDepth))
      return yield* invalid(`the body nests arrays and objects deeper than ${limits.maxDepth} levels`)
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      return yield* invalid("the body is not valid JSON")
    }
    yield* refuseNul("body", value)
    return value
  })
