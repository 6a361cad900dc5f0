/**
 * Pages and dashboard widgets of enabled plugins, filtered by what the caller
 * may see, each with the URL of its built module. The registry does not
 * bundle: the server hands it the web console's resolver (`useModules`),
 * which knows the modules built with the console and builds external
 * plugins' on first use. Without a console, `module` is null.
 */
import { Actor } from "@streamspace/core"
import { Context, Effect, Layer, type Scope } from "effect"
import type { UiExtension } from "../Ui.ts"

export interface PluginUiExtension {
  readonly plugin: string
  readonly extension: UiExtension
  /** The plugin's folder, when the loader knows it (external plugins). */
  readonly root?: string
}

export interface ResolvedUiExtension {
  readonly plugin: string
  readonly extension: UiExtension
  /** Same-origin URL of the component's ES module, or null when the console cannot serve one. */
  readonly module: string | null
}

/** The URL of plugin `plugin`'s component module (building it first when needed), or undefined. */
export type UiModuleResolver = (
  plugin: { readonly id: string; readonly root: string | undefined },
  component: string
) => Promise<string | undefined>

export class UiRegistry extends Context.Tag("@streamspace/kernel/UiRegistry")<
  UiRegistry,
  {
    readonly add: (plugin: string, extension: UiExtension, root?: string) => Effect.Effect<void, never, Scope.Scope>
    readonly visibleTo: (actor: Actor.Actor) => ReadonlyArray<PluginUiExtension>
    /** What `visibleTo` lists, with module URLs (a module that fails to build is logged and null). */
    readonly resolvedFor: (actor: Actor.Actor) => Effect.Effect<ReadonlyArray<ResolvedUiExtension>>
    /** Set once by the server that serves the console. */
    readonly useModules: (resolver: UiModuleResolver) => void
  }
>() {}

export const UiRegistryLive = Layer.sync(UiRegistry, () => {
  const items = new Set<PluginUiExtension>()
  let resolver: UiModuleResolver | undefined
  const visibleTo = (actor: Actor.Actor) =>
    [...items].filter((i) => (i.extension.permissions ?? []).every((p) => Actor.hasPermission(actor, p)))
  const moduleOf = (item: PluginUiExtension) => {
    const resolve = resolver
    if (!resolve) return Effect.succeed(null)
    return Effect.tryPromise(() => resolve({ id: item.plugin, root: item.root }, item.extension.component)).pipe(
      Effect.map((url) => url ?? null),
      Effect.catchAll((e) =>
        Effect.as(
          Effect.logWarning(
            `plugin ${item.plugin}: UI module ${item.extension.component} did not build: ${String(e.error)}`
          ),
          null
        )
      )
    )
  }
  return {
    add: (plugin, extension, root) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const item: PluginUiExtension = root === undefined ? { plugin, extension } : { plugin, extension, root }
          items.add(item)
          return item
        }),
        (item) => Effect.sync(() => void items.delete(item))
      ).pipe(Effect.asVoid),
    visibleTo,
    resolvedFor: (actor) =>
      Effect.forEach(
        visibleTo(actor),
        (item) => Effect.map(moduleOf(item), (module) => ({ plugin: item.plugin, extension: item.extension, module })),
        { concurrency: 4 }
      ),
    useModules: (r) => {
      resolver = r
    }
  }
})
