/**
 * `bun run test`'s browser pass where Chromium is missing (here: a
 * `STREAMSPACE_CHROMIUM` that does not exist): by default the run fails, so
 * a machine without Chromium cannot pass for one whose console was tested;
 * only `STREAMSPACE_SKIP_BROWSER=1` skips the pass, with a loud line.
 */
import { expect, test } from "bun:test"
import * as Path from "node:path"

const runTests = async (env: Record<string, string | undefined>) => {
  const proc = Bun.spawn(["bun", "scripts/test.ts", "test/web/shell.browser.test.ts"], {
    cwd: Path.join(import.meta.dir, "../.."),
    // Only the browser pass is under test: no PostgreSQL pass, whatever the outer run requires.
    env: {
      ...process.env,
      TEST_DATABASE_URL: undefined,
      STREAMSPACE_REQUIRE_POSTGRES: undefined,
      STREAMSPACE_CHROMIUM: "/nonexistent/chromium",
      ...env
    },
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited
  ])
  return { code, output: `${stdout}${stderr}` }
}

test("without Chromium the browser pass runs and fails by default", async () => {
  const run = await runTests({ STREAMSPACE_SKIP_BROWSER: undefined })
  expect(run.output).toContain("=== Browser (Chromium, PGlite): 1 test files ===")
  expect(run.output).toContain("Chromium is not installed at /nonexistent/chromium")
  expect(run.output).not.toContain("BROWSER TESTS SKIPPED")
  expect(run.code).toBe(1)
}, 60_000)

test("STREAMSPACE_SKIP_BROWSER=1 skips it, saying so loudly", async () => {
  const run = await runTests({ STREAMSPACE_SKIP_BROWSER: "1" })
  expect(run.output).toContain(
    "!!! BROWSER TESTS SKIPPED (1 files): Chromium is not installed at /nonexistent/chromium"
  )
  expect(run.output).toContain("0 passed, 0 failed")
  expect(run.code).toBe(0)
}, 60_000)
