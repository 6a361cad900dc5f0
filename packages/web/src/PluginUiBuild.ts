/**
 * Bundles a plugin's UI modules with Bun's bundler: each file directly in
 * the plugin's `ui/` folder is one ES module (its default export is the page
 * or widget component), with the shared modules (React, React Query,
 * `@streamspace/web/sdk`, …) left as bare imports that the console's import
 * map resolves to the shell's own instances. Files in sub-folders of `ui/`
 * are helpers bundled into the modules that import them.
 *
 * The console build uses it for in-repo plugins, the server for external
 * plugins when they are loaded; both name outputs by a hash of their bytes.
 */
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { sharedModules } from "./SharedModules.ts"

/** `ui/<Name>.<ext>`: what a page or widget's `component` may name. */
export const componentPattern = /^ui\/[A-Za-z0-9_-]+\.(tsx|ts|jsx|js)$/

export interface BuiltModule {
  /** The manifest's `component`, e.g. `ui/GreetingsWidget.tsx`. */
  readonly component: string
  /** `<Name>-<hash>.js` */
  readonly name: string
  readonly bytes: Uint8Array
}

export class PluginUiBuildError extends Error {
  override readonly name = "PluginUiBuildError"
}

const sourcePattern = "**/*.{ts,tsx,js,jsx,json,css,svg}"

/** The component modules of a plugin folder (`ui/*.{ts,tsx,js,jsx}`), sorted. */
export const componentsOf = (root: string): Array<string> => {
  const dir = Path.join(root, "ui")
  if (!Fs.existsSync(dir)) return []
  return Fs.readdirSync(dir)
    .map((f) => `ui/${f}`)
    .filter((c) => componentPattern.test(c) && !c.endsWith(".d.ts") && Fs.statSync(Path.join(root, c)).isFile())
    .sort()
}

/** A hash of everything under the plugin's `ui/` folder and of what is shared, so a change gives new URLs. */
export const uiHash = (root: string): string => {
  const hash = createHash("sha256")
  hash.update(sharedModules.join("\n"))
  const dir = Path.join(root, "ui")
  if (Fs.existsSync(dir)) {
    for (const file of [...new Bun.Glob(sourcePattern).scanSync({ cwd: dir })].sort()) {
      hash.update(file)
      hash.update(Fs.readFileSync(Path.join(dir, file)))
    }
  }
  return hash.digest("hex").slice(0, 16)
}

/** Builds the named components of the plugin in `root` (all of its components when none are named). */
export const build = async (
  root: string,
  components: ReadonlyArray<string> = componentsOf(root)
): Promise<ReadonlyArray<BuiltModule>> => {
  for (const c of components) {
    if (!componentPattern.test(c))
      throw new PluginUiBuildError(`${c}: a UI component is a file directly in the plugin's ui/ folder (ui/<Name>.tsx)`)
    if (!Fs.existsSync(Path.join(root, c))) throw new PluginUiBuildError(`${Path.join(root, c)} does not exist`)
  }
  const built: Array<BuiltModule> = []
  // One build per component: each module stands alone (no chunks shared between a plugin's modules).
  for (const component of components) {
    const result = await Bun.build({
      entrypoints: [Path.join(root, component)],
      target: "browser",
      format: "esm",
      splitting: false,
      minify: true,
      sourcemap: "none",
      external: [...sharedModules],
      define: { "process.env.NODE_ENV": '"production"' },
      throw: false
    })
    if (!result.success) {
      throw new PluginUiBuildError(
        `${Path.join(root, component)} did not build:\n${result.logs.map((l) => String(l)).join("\n")}`
      )
    }
    const output = result.outputs.find((o) => o.kind === "entry-point")
    if (!output) throw new PluginUiBuildError(`${Path.join(root, component)}: the build produced no module`)
    if (result.outputs.length > 1)
      throw new PluginUiBuildError(
        `${Path.join(root, component)}: a UI module must be one file (it imports a stylesheet or asset; use Mantine props and inline styles)`
      )
    const bytes = new Uint8Array(await output.arrayBuffer())
    const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 12)
    built.push({ component, name: `${Path.basename(component).replace(/\.\w+$/, "")}-${hash}.js`, bytes })
  }
  return built
}

/** URL path of a built module of plugin `id`. */
export const urlOf = (id: string, name: string) => `/assets/plugins/${id}/${name}`
