/**
 * Builds the web console with Bun's bundler: the React shell (code-split,
 * lazy pages), one module per shared library (React, Mantine, React Query,
 * the plugin SDK) that the import map points at, so plugin UI modules built
 * with those libraries external use the shell's very instances, and a
 * manifest the server reads to serve the files and write `index.html`.
 *
 * The in-repo plugins' UI modules (`plugins/<dir>/ui/*.tsx`, see
 * `PluginUiBuild`) are built with it, with the shared modules external, and
 * listed in the manifest by plugin id and component.
 *
 * The output directory holds `manifest.json` and `assets/` (hashed names,
 * served immutable). `sourceHash` covers every input the build reads, so a
 * server can tell a stale build from a current one without rebuilding.
 */
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as PluginUiBuild from "./PluginUiBuild.ts"
import { sdkSpecifier, sharedModules } from "./SharedModules.ts"

export const packageRoot = Path.join(import.meta.dir, "..")
export const clientEntry = Path.join(packageRoot, "src/client/main.tsx")
export const defaultOutDir = Path.join(packageRoot, "dist")
/** Where the in-repo plugins live, one folder each. */
export const pluginsDir = Path.join(packageRoot, "../../plugins")

export interface ConsoleFile {
  /** Path inside the output directory. */
  readonly file: string
  readonly type: string
  readonly bytes: number
  readonly gzipBytes: number
}

export interface ConsoleManifest {
  readonly format: 1
  readonly sourceHash: string
  /** URL of the shell's entry module. */
  readonly entry: string
  readonly styles: ReadonlyArray<string>
  /** Modules the entry imports statically: preloaded, and counted as first-load JavaScript. */
  readonly preload: ReadonlyArray<string>
  readonly importMap: { readonly imports: Readonly<Record<string, string>> }
  /** URL path → file. */
  readonly files: Readonly<Record<string, ConsoleFile>>
  /** In-repo plugins' UI modules: plugin id → component (`ui/X.tsx`) → URL path. */
  readonly plugins?: Readonly<Record<string, Readonly<Record<string, string>>>>
}

const contentTypes: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".json": "application/json",
  ".map": "application/json"
}

export const contentTypeOf = (file: string) => contentTypes[Path.extname(file)] ?? "application/octet-stream"

const sourceFiles = (dir: string): Array<string> =>
  Fs.existsSync(dir) ? [...new Bun.Glob("**/*.{ts,tsx,css,svg,png}").scanSync({ cwd: dir, absolute: true })].sort() : []

interface PackageJson {
  readonly exports?: string | { readonly "."?: string }
  readonly module?: string
  readonly main?: string
}

/** In-repo plugin folders that have a `ui/` folder. */
const pluginFoldersWithUi = (): Array<string> =>
  Fs.existsSync(pluginsDir)
    ? Fs.readdirSync(pluginsDir)
        .sort()
        .map((name) => Path.join(pluginsDir, name))
        .filter((dir) => Fs.existsSync(Path.join(dir, "package.json")) && Fs.existsSync(Path.join(dir, "ui")))
    : []

/** The plugin id a folder's package default-exports (read by importing it, as the server would). */
const pluginIdOf = async (dir: string): Promise<string> => {
  const pkg = JSON.parse(Fs.readFileSync(Path.join(dir, "package.json"), "utf8")) as PackageJson
  const entry =
    (typeof pkg.exports === "string" ? pkg.exports : pkg.exports?.["."]) ?? pkg.module ?? pkg.main ?? "index.ts"
  const mod = (await import(Path.join(dir, entry))) as { default?: { readonly id?: unknown } }
  const id = mod.default?.id
  if (typeof id !== "string") throw new ConsoleBuildError(`${dir}: its package does not default-export a plugin`)
  return id
}

/** A hash of everything the shell build reads from this repository, plus the versions of its libraries. */
export const sourceHash = (options: Pick<BuildOptions, "plugins"> = {}): string => {
  const hash = createHash("sha256")
  hash.update(JSON.stringify(options.plugins ?? null))
  for (const dir of pluginFoldersWithUi()) {
    hash.update(Path.basename(dir))
    hash.update(Fs.readFileSync(Path.join(dir, "package.json")))
    hash.update(PluginUiBuild.uiHash(dir))
  }
  hash.update(Fs.readFileSync(Path.join(import.meta.dir, "PluginUiBuild.ts")))
  for (const dir of ["src/client", "src/sdk"]) {
    for (const file of sourceFiles(Path.join(packageRoot, dir))) {
      hash.update(Path.relative(packageRoot, file))
      hash.update(Fs.readFileSync(file))
    }
  }
  hash.update(Fs.readFileSync(Path.join(import.meta.dir, "ConsoleBuild.ts")))
  hash.update(Fs.readFileSync(Path.join(import.meta.dir, "SharedModules.ts")))
  const lock = Path.join(packageRoot, "../../bun.lock")
  if (Fs.existsSync(lock)) hash.update(Fs.readFileSync(lock))
  return hash.digest("hex").slice(0, 16)
}

export class ConsoleBuildError extends Error {
  override readonly name = "ConsoleBuildError"
}

/**
 * The source of a module that re-exports a shared library by name, so the
 * import map can point the bare specifier at one file. Names are read from
 * the library itself at build time (ES module bindings must be static).
 */
const shimSource = async (specifier: string): Promise<string> => {
  // The SDK is ES module source that touches the DOM when evaluated: re-export it statically.
  if (specifier === sdkSpecifier) return `export * from ${JSON.stringify(specifier)}\n`
  const mod = (await import(specifier)) as Record<string, unknown>
  const names = Object.keys(mod).filter((n) => n !== "default" && /^[A-Za-z_$][\w$]*$/.test(n))
  const lines = [`import * as M from ${JSON.stringify(specifier)}`]
  lines.push(`export default ("default" in M ? M.default : M)`)
  if (names.length > 0) lines.push(`export const { ${names.join(", ")} } = M`)
  return `${lines.join("\n")}\n`
}

const shimName = (specifier: string) => `shared-${specifier.replace(/^@/, "").replace(/[^\w]+/g, "-")}`

export interface BuildOptions {
  readonly outDir?: string
  /** Print one progress line (default true). */
  readonly log?: (line: string) => void
  /** Ids of the in-repo plugins whose UI modules the console carries (default: every in-repo plugin). */
  readonly plugins?: ReadonlyArray<string>
}

/** Builds the UI modules of the in-repo plugins (those in `only`, when given) into `assetsDir/plugins/<id>/`. */
const buildPluginModules = async (assetsDir: string, only: ReadonlyArray<string> | undefined) => {
  const modules: Record<string, Record<string, string>> = {}
  for (const dir of pluginFoldersWithUi()) {
    const id = await pluginIdOf(dir)
    if (only && !only.includes(id)) continue
    const built = await PluginUiBuild.build(dir)
    if (built.length === 0) continue
    const outDir = Path.join(assetsDir, "plugins", id)
    Fs.mkdirSync(outDir, { recursive: true })
    const mine: Record<string, string> = {}
    for (const m of built) {
      Fs.writeFileSync(Path.join(outDir, m.name), m.bytes)
      mine[m.component] = PluginUiBuild.urlOf(id, m.name)
    }
    modules[id] = mine
  }
  return modules
}

/** The manifest entry of a built file (`rel` is its path inside the staging directory). */
const fileRecord = (staging: string, rel: string): ConsoleFile => {
  const bytes = Fs.readFileSync(Path.join(staging, rel))
  return { file: rel, type: contentTypeOf(rel), bytes: bytes.byteLength, gzipBytes: Bun.gzipSync(bytes).byteLength }
}

/** Builds the console into `outDir` (replacing what was there) and returns its manifest. */
export const build = async (options: BuildOptions = {}): Promise<ConsoleManifest> => {
  const outDir = options.outDir ?? defaultOutDir
  const log = options.log ?? ((line: string) => console.log(line))
  const started = performance.now()
  const hash = sourceHash(options)
  const staging = `${outDir}.staging-${process.pid}`
  Fs.rmSync(staging, { recursive: true, force: true })
  let manifest: ConsoleManifest
  try {
    manifest = await buildInto(staging, hash, options.plugins)
  } catch (e) {
    Fs.rmSync(staging, { recursive: true, force: true })
    throw e
  }
  // Another process that built the same sources into outDir meanwhile may be serving them: keep its files.
  if (readManifest(outDir)?.sourceHash === hash) Fs.rmSync(staging, { recursive: true, force: true })
  else {
    Fs.rmSync(outDir, { recursive: true, force: true })
    try {
      Fs.renameSync(staging, outDir)
    } catch (e) {
      Fs.rmSync(staging, { recursive: true, force: true })
      if (readManifest(outDir)?.sourceHash !== hash) throw e
    }
  }
  const pluginList = Object.entries(manifest.plugins ?? {}).map(([id, m]) => `${id} (${Object.keys(m).length})`)
  log(
    `built the web console in ${((performance.now() - started) / 1000).toFixed(1)} s: first-load JavaScript ${(
      firstLoadGzipBytes(manifest) / 1024
    ).toFixed(0)} KB gzip; plugin UI modules: ${pluginList.length > 0 ? pluginList.join(", ") : "none"}`
  )
  return manifest
}

/** The shell, the shared-module shims and the plugin modules, built into `staging` with their manifest. */
const buildInto = async (
  staging: string,
  hash: string,
  pluginOptions: BuildOptions["plugins"]
): Promise<ConsoleManifest> => {
  // Inside the package, so the shims resolve the libraries from its node_modules wherever outDir is.
  const shimDir = Path.join(packageRoot, `.shims-${process.pid}`)
  const assetsDir = Path.join(staging, "assets")
  const shimEntries = new Map<string, string>()
  let result: Bun.BuildOutput
  try {
    Fs.mkdirSync(shimDir, { recursive: true })
    for (const specifier of sharedModules) {
      const file = Path.join(shimDir, `${shimName(specifier)}.ts`)
      Fs.writeFileSync(file, await shimSource(specifier))
      shimEntries.set(file, specifier)
    }
    result = await Bun.build({
      entrypoints: [clientEntry, ...shimEntries.keys()],
      outdir: assetsDir,
      target: "browser",
      format: "esm",
      splitting: true,
      minify: true,
      sourcemap: "none",
      publicPath: "/assets/",
      naming: { entry: "[name]-[hash].[ext]", chunk: "chunk-[hash].[ext]", asset: "[name]-[hash].[ext]" },
      define: { "process.env.NODE_ENV": '"production"' },
      metafile: true,
      throw: false
    })
  } finally {
    Fs.rmSync(shimDir, { recursive: true, force: true })
  }
  if (!result.success)
    throw new ConsoleBuildError(`the web console did not build:\n${result.logs.map((l) => String(l)).join("\n")}`)
  const plugins = await buildPluginModules(assetsDir, pluginOptions).catch((e: unknown) => {
    throw new ConsoleBuildError(`a plugin's UI module did not build: ${e instanceof Error ? e.message : String(e)}`)
  })
  const files: Record<string, ConsoleFile> = {}
  const imports: Record<string, string> = {}
  let entry = ""
  for (const output of result.outputs) {
    const rel = Path.relative(staging, output.path)
    const url = `/${rel.split(Path.sep).join("/")}`
    files[url] = fileRecord(staging, rel)
    if (output.kind !== "entry-point" || !rel.endsWith(".js")) continue
    const source = entryPointOf(result.metafile, assetsDir, output.path)
    if (source === clientEntry) entry = url
    else {
      const specifier = source === undefined ? undefined : shimEntries.get(source)
      if (specifier) imports[specifier] = url
    }
  }
  for (const modules of Object.values(plugins)) {
    for (const url of Object.values(modules)) files[url] = fileRecord(staging, url.slice(1))
  }
  if (!entry) throw new ConsoleBuildError("the web console build produced no entry module")
  const styles = Object.keys(files).filter((url) => files[url]!.type.startsWith("text/css"))
  const manifest: ConsoleManifest = {
    format: 1,
    sourceHash: hash,
    entry,
    styles,
    preload: staticImportsOf(entry, files, staging),
    importMap: { imports },
    files,
    plugins
  }
  Fs.writeFileSync(Path.join(staging, "manifest.json"), JSON.stringify(manifest, null, 2))
  return manifest
}

/**
 * The absolute source path an output was built from (the metafile names
 * outputs relative to the output directory, inputs to the working directory).
 */
const entryPointOf = (
  metafile: Bun.BuildOutput["metafile"],
  outdir: string,
  outputPath: string
): string | undefined => {
  if (!metafile) return undefined
  for (const [out, info] of Object.entries(metafile.outputs)) {
    if (Path.resolve(outdir, out) === outputPath && info.entryPoint) return Path.resolve(info.entryPoint)
  }
  return undefined
}

const importPattern = /(?:^|[;}\s])import\s*(?:[\w${}*,\s]+from\s*)?["']([^"']+)["']/g

/** The modules an entry pulls in before it runs (its static imports, transitively). */
const staticImportsOf = (entry: string, files: Record<string, ConsoleFile>, root: string): Array<string> => {
  const seen = new Set<string>()
  const visit = (url: string) => {
    const file = files[url]
    if (!file || seen.has(url)) return
    seen.add(url)
    const text = Fs.readFileSync(Path.join(root, file.file), "utf8")
    for (const match of text.matchAll(importPattern)) {
      const target = match[1]!
      if (target.startsWith("/assets/")) visit(target)
      else if (target.startsWith("./")) visit(Path.posix.join(Path.posix.dirname(url), target))
    }
  }
  visit(entry)
  seen.delete(entry)
  return [...seen]
}

/** Gzipped bytes of the JavaScript a first visit loads: the entry and its static imports. */
export const firstLoadGzipBytes = (manifest: ConsoleManifest): number =>
  [manifest.entry, ...manifest.preload].reduce((sum, url) => sum + (manifest.files[url]?.gzipBytes ?? 0), 0)

/** Reads a built console's manifest, or undefined when there is none. */
export const readManifest = (outDir = defaultOutDir): ConsoleManifest | undefined => {
  const file = Path.join(outDir, "manifest.json")
  if (!Fs.existsSync(file)) return undefined
  return JSON.parse(Fs.readFileSync(file, "utf8")) as ConsoleManifest
}

/** The console in `outDir`, built first when missing or older than its sources. */
export const ensureBuilt = async (options: BuildOptions = {}): Promise<ConsoleManifest> => {
  const existing = readManifest(options.outDir)
  if (existing && existing.format === 1 && existing.sourceHash === sourceHash(options)) return existing
  ;(options.log ?? console.log)(
    existing ? "the web console's sources changed: rebuilding it" : "building the web console"
  )
  return build(options)
}
