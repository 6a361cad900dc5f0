/**
 * Other plugins, seen from one plugin: is it there, is it enabled, and calls
 * to the methods it exports, run in the callee's context and checked by its
 * Schemas.
 *
 * `call(id, greet, input)` with the method value (`greet = method("greet",
 * …)`, imported from the callee) is typed: `input` must be the method's
 * input type, the result is its output type. The input is encoded with the
 * method's `input` Schema, the callee decodes it with its own, runs the
 * handler and encodes the result with `output`, which the caller decodes.
 * `call(id, "greet", input)` is the untyped form: encoded input in, the
 * callee's encoded output out.
 */
import { Context, Data, type Effect } from "effect"
import type { MethodSignature } from "./Plugin.ts"

export class PluginUnavailable extends Data.TaggedError("PluginUnavailable")<{
  readonly plugin: string
  readonly reason: "unknown" | "not_installed" | "disabled"
}> {
  static readonly status = 404
  readonly status = 404
  readonly code = "plugin_unavailable"
  override get message() {
    return `plugin ${this.plugin} is ${this.reason.replace("_", " ")}`
  }
}

export class PluginCallError extends Data.TaggedError("PluginCallError")<{
  readonly plugin: string
  readonly method: string
  readonly message: string
}> {}

export class Plugins extends Context.Tag("@streamspace/kernel/Plugins")<
  Plugins,
  {
    readonly get: (id: string) => Effect.Effect<Plugins.Summary, PluginUnavailable>
    readonly isEnabled: (id: string) => Effect.Effect<boolean>
    readonly call: Plugins.Call
  }
>() {}

export declare namespace Plugins {
  export interface Summary {
    readonly id: string
    readonly version: string
    readonly enabled: boolean
  }

  export interface Call {
    /** Typed: the method value (its name and Schemas) gives the input and output types. */
    <I, II, O, OI>(
      plugin: string,
      method: MethodSignature<string, I, II, O, OI>,
      input: NoInfer<I>
    ): Effect.Effect<O, PluginUnavailable | PluginCallError>
    /** Untyped, by method name: encoded input in, the callee's encoded output out. */
    (plugin: string, method: string, input: unknown): Effect.Effect<unknown, PluginUnavailable | PluginCallError>
  }
}
