/**
 * `bun run build:edition community` embeds the web console: the executable,
 * run from an empty directory (no source tree, nothing to build from),
 * serves `/` with the import map, the hashed assets (immutable), the shared
 * modules plugin UI modules import, and knows its edition. It carries the
 * UI modules of its edition's plugins only (community's have none today;
 * hello's is not in it). The console inside is a production build.
 */
import { afterAll, expect, test } from "bun:test"
import { ConsoleBuild } from "@streamspace/web"
import { ServerProcess } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as EditionBuild from "./fixtures/EditionBuild.ts"

const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-console-edition-"))
const runDir = Path.join(dir, "empty")
afterAll(async () => {
  await ServerProcess.stopAll()
  Fs.rmSync(dir, { recursive: true, force: true })
})

test("the community executable serves its embedded console from an empty directory", async () => {
  const outfile = Path.join(dir, "streamspace-community")
  const built = await EditionBuild.expectBuilt("community", outfile)
  console.log(
    `build:edition community: ${built.seconds.toFixed(1)} s, ${(Fs.statSync(outfile).size / 2 ** 20).toFixed(0)} MiB`
  )
  expect(built.output).toMatch(/web console \d+ files/)
  Fs.mkdirSync(runDir)

  const server = await ServerProcess.start(
    { STREAMSPACE_DATA_DIR: Path.join(dir, "data"), STREAMSPACE_ADMIN_PASSWORD: "edition-root-pw", DATABASE_URL: "" },
    // First boot creates the embedded database: slow when two cores are shared by several test runs.
    { command: [outfile], cwd: runDir, timeoutMs: 120_000 }
  )
  // Nothing was built or written next to the executable.
  expect(Fs.readdirSync(runDir)).toEqual([])

  const index = await fetch(`${server.url}/`)
  expect(index.status).toBe(200)
  expect(index.headers.get("content-security-policy")).toContain("script-src 'self' 'sha256-")
  const html = await index.text()
  const importMap = JSON.parse(/<script type="importmap">(.*?)<\/script>/.exec(html)![1]!) as {
    imports: Record<string, string>
  }
  const entry = /<script type="module" src="([^"]+)"/.exec(html)![1]!
  const stylesheet = /<link rel="stylesheet" href="([^"]+)"/.exec(html)![1]!

  const entryRes = await fetch(`${server.url}${entry}`)
  expect(entryRes.status).toBe(200)
  expect(entryRes.headers.get("content-type")).toContain("javascript")
  expect(entryRes.headers.get("cache-control")).toContain("immutable")
  const entrySource = await entryRes.text()
  // A production build: minified, without React's development warnings.
  expect(entrySource).not.toContain("react.development")
  expect(entrySource.split("\n").length).toBeLessThan(50)
  expect((await fetch(`${server.url}${stylesheet}`)).status).toBe(200)
  // What plugin UI modules import: the SDK and React, through the import map.
  for (const specifier of ["@streamspace/web/sdk", "react", "react/jsx-runtime", "@tanstack/react-query"]) {
    const res = await fetch(`${server.url}${importMap.imports[specifier]}`)
    expect([specifier, res.status]).toEqual([specifier, 200])
  }
  // A deep link reaches the app.
  expect((await fetch(`${server.url}/plugins/any/page`)).headers.get("content-type")).toContain("text/html")

  const token = await ServerProcess.login(server.url, "edition-root-pw")
  const get = async <T>(path: string) => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
    expect([path, res.status]).toEqual([path, 200])
    return (await res.json()) as T
  }
  expect((await get<{ edition: string }>("/api/platform")).edition).toBe("community")
  expect(await get<{ items: ReadonlyArray<unknown> }>("/api/ui/extensions")).toEqual({ items: [] })

  // hello is not in community: its UI module, built the same way, is not in the executable.
  const helloConsole = await ConsoleBuild.build({
    outDir: Path.join(dir, "hello-console"),
    plugins: ["hello"],
    log: () => undefined
  })
  const helloModule = helloConsole.plugins?.["hello"]?.["ui/GreetingsWidget.tsx"]
  expect(helloModule).toMatch(/^\/assets\/plugins\/hello\/GreetingsWidget-\w+\.js$/)
  expect((await fetch(`${server.url}${helloModule}`)).status).toBe(404)

  expect(await server.stop("SIGINT")).toBe(0)
}, 300_000)
