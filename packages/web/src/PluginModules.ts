/**
 * Where a plugin's UI component module is served from. In-repo plugins'
 * modules were built with the console (its manifest lists them); an
 * external plugin's (loaded from `plugins.dir`, its folder known as `root`)
 * are built here on first use, kept in memory by a hash of its `ui/` folder:
 * a changed folder gives new URLs, and no console rebuild is needed.
 * URLs are hashed and same-origin (`/assets/plugins/<id>/<Name>-<hash>.js`),
 * so they are served immutable and the console's CSP allows them.
 */
import * as Path from "node:path"
import type { ConsoleManifest } from "./ConsoleBuild.ts"
import * as PluginUiBuild from "./PluginUiBuild.ts"

export interface PluginRef {
  readonly id: string
  readonly root: string | undefined
}

export interface PluginModules {
  /** The URL of `component`'s module (building it first when needed), or undefined when there is none. */
  readonly resolve: (plugin: PluginRef, component: string) => Promise<string | undefined>
  /** Builds the modules of these plugins now (at load), so the first page view does not wait. */
  readonly prepare: (plugins: ReadonlyArray<PluginRef>) => Promise<void>
  /** The bytes of a module built here, by URL path. */
  readonly read: (pathname: string) => Uint8Array | undefined
}

interface Built {
  readonly hash: string
  readonly urls: Promise<ReadonlyMap<string, string>>
}

export const make = (manifest: ConsoleManifest): PluginModules => {
  const bytes = new Map<string, Uint8Array>()
  const builds = new Map<string, Built>()

  /** Every component module of the plugin in `root`, for the current content of its `ui/` folder. */
  const built = (plugin: PluginRef & { readonly root: string }): Promise<ReadonlyMap<string, string>> => {
    const key = `${plugin.id}\0${Path.resolve(plugin.root)}`
    const hash = PluginUiBuild.uiHash(plugin.root)
    const known = builds.get(key)
    if (known && known.hash === hash) return known.urls
    const urls = PluginUiBuild.build(plugin.root).then((modules) => {
      const out = new Map<string, string>()
      for (const m of modules) {
        const url = PluginUiBuild.urlOf(plugin.id, m.name)
        bytes.set(url, m.bytes)
        out.set(m.component, url)
      }
      return out
    })
    builds.set(key, { hash, urls })
    // A failed build is not cached: the next request tries again (the author may be fixing it).
    urls.catch(() => {
      if (builds.get(key)?.urls === urls) builds.delete(key)
    })
    return urls
  }

  const resolve = async (plugin: PluginRef, component: string) => {
    const bundled = manifest.plugins?.[plugin.id]?.[component]
    if (bundled) return bundled
    if (plugin.root === undefined || !PluginUiBuild.componentPattern.test(component)) return undefined
    return (await built({ id: plugin.id, root: plugin.root })).get(component)
  }

  return {
    resolve,
    prepare: async (plugins) => {
      for (const p of plugins) {
        if (p.root !== undefined && manifest.plugins?.[p.id] === undefined) await built({ id: p.id, root: p.root })
      }
    },
    read: (pathname) => bytes.get(pathname)
  }
}
