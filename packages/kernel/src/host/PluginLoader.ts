/**
 * External plugins: each sub-folder of `plugins.dir` with a package.json
 * whose entry (`exports["."]`, `module` or `main`) default-exports a
 * `definePlugin` value. A folder that is not a valid plugin stops start-up
 * with a message naming it, rather than running without it unnoticed.
 * Each definition carries its folder (`root`), where the console finds the
 * plugin's UI modules (`ui/…`) to bundle them without a console rebuild.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { isPluginDefinition, type PluginDefinition } from "../Plugin.ts"

interface PackageJson {
  readonly exports?: string | { readonly "."?: string }
  readonly module?: string
  readonly main?: string
}

const entryOf = (pkg: PackageJson) =>
  (typeof pkg.exports === "string" ? pkg.exports : pkg.exports?.["."]) ?? pkg.module ?? pkg.main ?? "index.ts"

export const loadDirectory = async (dir: string): Promise<ReadonlyArray<PluginDefinition>> => {
  const root = Path.resolve(dir)
  if (!Fs.existsSync(root)) throw new Error(`plugins.dir ${root} does not exist`)
  const plugins: Array<PluginDefinition> = []
  for (const name of Fs.readdirSync(root).sort()) {
    const folder = Path.join(root, name)
    const manifest = Path.join(folder, "package.json")
    if (!Fs.statSync(folder).isDirectory() || !Fs.existsSync(manifest)) continue
    const pkg = JSON.parse(Fs.readFileSync(manifest, "utf8")) as PackageJson
    const entry = Path.join(folder, entryOf(pkg))
    const mod = (await import(entry)) as { default?: unknown }
    if (!isPluginDefinition(mod.default))
      throw new Error(`${folder}: ${entryOf(pkg)} does not default-export a plugin (definePlugin)`)
    plugins.push({ ...mod.default, root: folder })
  }
  return plugins
}
