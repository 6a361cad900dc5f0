/**
 * The `Plugins` service of one plugin: what it sees of the others (installed,
 * enabled) and calls to their exported methods, run in the callee's own
 * context (its SQL client, its config) and checked by the callee's Schemas.
 * A call always goes through the callee's method registered under that
 * name; a typed call (with the method value) also encodes the input and
 * decodes the output with the method's Schemas on the caller's side.
 */
import { Effect, Option, ParseResult, Schema } from "effect"
import type { MethodSignature } from "../Plugin.ts"
import { PluginCallError, type Plugins, PluginUnavailable } from "../Plugins.ts"
import type { RunningPlugin } from "./RunningPlugins.ts"

export interface PluginDirectory {
  readonly known: (id: string) => boolean
  readonly installedVersion: (id: string) => Effect.Effect<Option.Option<string>>
  readonly running: (id: string) => RunningPlugin | undefined
}

const messageOf = (e: unknown) => (e instanceof ParseResult.ParseError ? e.message : String(e))

export const make = (self: string, plugins: PluginDirectory): Plugins["Type"] => {
  /** The callee's method `name`, with the encoded input, in the callee's context; its encoded output. */
  const invoke = (
    id: string,
    name: string,
    input: unknown
  ): Effect.Effect<unknown, PluginUnavailable | PluginCallError> =>
    Effect.gen(function* () {
      const target = plugins.running(id)
      if (!target)
        return yield* new PluginUnavailable({ plugin: id, reason: plugins.known(id) ? "disabled" : "unknown" })
      const m = target.def.methods?.[name]
      if (!m)
        return yield* new PluginCallError({ plugin: id, method: name, message: `plugin ${id} has no method ${name}` })
      return yield* m.run(input).pipe(
        Effect.provide(target.context),
        Effect.mapError((e) => new PluginCallError({ plugin: id, method: name, message: messageOf(e) })),
        Effect.annotateLogs({ caller: self })
      )
    })

  function call<I, II, O, OI>(
    id: string,
    method: MethodSignature<string, I, II, O, OI>,
    input: I
  ): Effect.Effect<O, PluginUnavailable | PluginCallError>
  function call(id: string, method: string, input: unknown): Effect.Effect<unknown, PluginUnavailable | PluginCallError>
  function call(
    id: string,
    method: string | MethodSignature,
    input: unknown
  ): Effect.Effect<unknown, PluginUnavailable | PluginCallError> {
    if (typeof method === "string") return invoke(id, method, input)
    const failed = (what: string) => (e: ParseResult.ParseError) =>
      new PluginCallError({ plugin: id, method: method.name, message: `${what}: ${e.message}` })
    return Schema.encode(method.input)(input).pipe(
      Effect.mapError(failed("the input does not match the method's Schema")),
      Effect.flatMap((encoded) => invoke(id, method.name, encoded)),
      Effect.flatMap((output) =>
        Schema.decodeUnknown(method.output)(output).pipe(
          Effect.mapError(failed("the output does not match the method's Schema"))
        )
      )
    )
  }

  return {
    get: (id) =>
      Effect.gen(function* () {
        if (!plugins.known(id)) return yield* new PluginUnavailable({ plugin: id, reason: "unknown" })
        const version = yield* plugins.installedVersion(id)
        if (Option.isNone(version)) return yield* new PluginUnavailable({ plugin: id, reason: "not_installed" })
        return { id, version: version.value, enabled: plugins.running(id) !== undefined }
      }),
    isEnabled: (id) => Effect.sync(() => plugins.running(id) !== undefined),
    call
  }
}
