/**
 * PGlite's WASM modules and file-system bundle, imported as files so that
 * `bun build --compile` embeds them (PGlite would otherwise look for them
 * next to its own module, which a compiled executable does not have).
 * Compiled once per process and shared by every PGlite instance.
 */
import initdbPath from "@electric-sql/pglite/initdb.wasm" with { type: "file" }
import dataPath from "@electric-sql/pglite/pglite.data" with { type: "file" }
import wasmPath from "@electric-sql/pglite/pglite.wasm" with { type: "file" }

export interface PgliteAssets {
  readonly pgliteWasmModule: WebAssembly.Module
  readonly initdbWasmModule: WebAssembly.Module
  readonly fsBundle: Blob
}

let assets: Promise<PgliteAssets> | undefined

export const load = (): Promise<PgliteAssets> =>
  (assets ??= (async () => ({
    pgliteWasmModule: await WebAssembly.compile(await Bun.file(wasmPath).arrayBuffer()),
    initdbWasmModule: await WebAssembly.compile(await Bun.file(initdbPath).arrayBuffer()),
    fsBundle: new Blob([await Bun.file(dataPath).arrayBuffer()])
  }))())
