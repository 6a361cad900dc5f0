/**
 * The libraries the console shares with plugin UI modules. The shell and a
 * plugin module must use one React (hooks break with two copies) and one
 * Mantine (its theme lives in a React context), so plugin modules are built
 * with these external and the import map points each at the shell's copy.
 * Mantine itself is not on the list: re-exporting all of it would put the
 * whole library (≈190 KB gzip) in the first load. Plugins get the
 * components they need from the SDK, which re-exports them.
 */
/** The plugin SDK's specifier (its shim re-exports the source statically). */
export const sdkSpecifier = "@streamspace/web/sdk"

export const sharedModules = [
  "react",
  "react/jsx-runtime",
  "react-dom",
  "react-dom/client",
  "@tanstack/react-query",
  "@streamspace/web/sdk"
] as const
