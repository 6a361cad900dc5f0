/** The web console: its build (Bun's bundler), plugins' UI modules, and the server side that serves them. */
export * as ConsoleAssets from "./ConsoleAssets.ts"
export * as ConsoleBuild from "./ConsoleBuild.ts"
export * as PluginModules from "./PluginModules.ts"
export * as PluginUiBuild from "./PluginUiBuild.ts"
export * as SharedModules from "./SharedModules.ts"
/** The SDK's check of plugin API paths (pure; the SDK itself runs in the browser). */
export * as PluginPaths from "./sdk/PluginPaths.ts"
