/**
 * Preloaded by `bun test` (bunfig.toml `[test] preload`), so that a plain
 * `bun test <files>` runs with the same timeouts as `bun run test`. Bun
 * ignores a `[test] timeout` key in bunfig.toml, and a preload's
 * `setDefaultTimeout` reaches only the first file of a run (bun resets the
 * default after each file), so the preload also puts the call at the top of
 * every test file as it is loaded (on its first line: line numbers stay).
 * Each file also stops, when it ends, any server process it left running.
 */
import { setDefaultTimeout } from "bun:test"
import * as TestTimeouts from "./TestTimeouts.ts"

setDefaultTimeout(TestTimeouts.testMs)

const lifecycle = JSON.stringify(new URL("./ServerProcess.ts", import.meta.url).pathname)

Bun.plugin({
  name: "streamspace-test-file-defaults",
  setup(build) {
    build.onLoad({ filter: /\.test\.ts$/ }, async ({ path }) => ({
      loader: "ts",
      contents: [
        `import { afterAll as __ssAfterAll, setDefaultTimeout as __ssSetDefaultTimeout } from "bun:test";`,
        `import { stopAll as __ssStopAll } from ${lifecycle};`,
        `__ssSetDefaultTimeout(${TestTimeouts.testMs}); __ssAfterAll(() => __ssStopAll());`,
        await Bun.file(path).text()
      ].join(" ")
    }))
  }
})
