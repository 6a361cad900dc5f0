/** Admin pages and dashboard widgets of enabled plugins, filtered by what the caller may see. */
import { Actor } from "@streamspace/core"
import { Context, Effect, Layer, type Scope } from "effect"
import type { UiExtension } from "../Ui.ts"

export interface PluginUiExtension {
  readonly plugin: string
  readonly extension: UiExtension
}

export class UiRegistry extends Context.Tag("@streamspace/kernel/UiRegistry")<
  UiRegistry,
  {
    readonly add: (plugin: string, extension: UiExtension) => Effect.Effect<void, never, Scope.Scope>
    readonly visibleTo: (actor: Actor.Actor) => ReadonlyArray<PluginUiExtension>
  }
>() {}

export const UiRegistryLive = Layer.sync(UiRegistry, () => {
  const items = new Set<PluginUiExtension>()
  return {
    add: (plugin, extension) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const item = { plugin, extension }
          items.add(item)
          return item
        }),
        (item) => Effect.sync(() => void items.delete(item))
      ).pipe(Effect.asVoid),
    visibleTo: (actor) =>
      [...items].filter((i) => (i.extension.permissions ?? []).every((p) => Actor.hasPermission(actor, p)))
  }
})
