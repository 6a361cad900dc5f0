/**
 * `bun run build:edition <name>` — not implemented yet (issue: plugin
 * platform). Editions are lists of plugins and there is no plugin host yet.
 * Also known: `bun build --compile packages/server/src/main.ts` bundles, but
 * the executable cannot open PGlite because PGlite's WASM and data files
 * are not embedded; they must be imported with `{ type: "file" }` and passed
 * as `pgliteWasmModule`/`fsBundle`.
 */
console.error("build:edition is not implemented yet: editions need the plugin host (see the README status table).")
process.exit(1)
