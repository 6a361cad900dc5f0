/** Errors of the plugin host, with their HTTP status. */
import { Data } from "effect"

/** A plugin's own code failed (enabling, or a handler an admin asked to re-run). */
export class PluginFailed extends Data.TaggedError("PluginFailed")<{
  readonly plugin: string
  readonly message: string
}> {
  static readonly status = 500
  readonly status = 500
  readonly code = "plugin_failed"
}
