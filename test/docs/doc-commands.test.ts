/**
 * The operator guides' commands (see DocBlocks.ts for the marking): every
 * shell block says whether it runs; each page's verified blocks run in
 * order against a scratch data directory, a free port and, in the
 * PostgreSQL pass, a database of their own; `bun run` names only scripts
 * and benchmarks that exist; config examples are accepted by the server's
 * config loader; relative links resolve.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { ServerDatabase } from "@streamspace/testing"
import { ConfigSources } from "@streamspace/server"
import { Effect, Either } from "effect"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import * as DocBlocks from "./DocBlocks.ts"

const engine: DocBlocks.Engine = process.env["TEST_DATABASE_URL"] ? "postgres" : "pglite"
const scratch = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-doc-commands-"))
/** Process groups of page scripts still running (killed when the file ends, whatever happened). */
const groups = new Set<number>()

const killGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal)
  } catch {
    // the group is gone already
  }
}

afterAll(() => {
  for (const pid of groups) killGroup(pid, "SIGKILL")
  Fs.rmSync(scratch, { recursive: true, force: true })
})
process.on("exit", () => {
  for (const pid of groups) killGroup(pid, "SIGKILL")
})

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0))
    })
  })

/** Runs a page's verified blocks as one script in its own process group; fails with the block that failed. */
const runPage = async (page: string, script: string, extraEnv: Record<string, string>, timeoutMs: number) => {
  const dir = Fs.mkdtempSync(Path.join(scratch, `${Path.basename(page, ".md")}-`))
  const env: Record<string, string | undefined> = {
    ...process.env,
    STREAMSPACE_DATA_DIR: Path.join(dir, "data"),
    BACKUP_DIR: Path.join(dir, "backups"),
    PORT: String(await freePort()),
    SESSION_RUNTIME: "simulated",
    STREAMSPACE_EDITION: "community",
    DATABASE_URL: undefined,
    STREAMSPACE_CONFIG: undefined,
    STREAMSPACE_PLUGINS: undefined,
    ...extraEnv
  }
  const proc = Bun.spawn(["setsid", "bash", "-c", script], {
    cwd: DocBlocks.root,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  groups.add(proc.pid)
  const timer = setTimeout(() => killGroup(proc.pid, "SIGKILL"), timeoutMs)
  const output = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  const code = await proc.exited
  clearTimeout(timer)
  // A server the page left running (it failed before stopping it) holds the pipes open: end the group first.
  killGroup(proc.pid, "SIGKILL")
  groups.delete(proc.pid)
  const [stdout, stderr] = await output
  const lastBlock = [...stderr.matchAll(/^::block (\S+)$/gm)].at(-1)?.[1] ?? "(before the first block)"
  if (code !== 0)
    throw new Error(
      `${page}: exit ${code}${proc.signalCode ? ` (${proc.signalCode}, after ${timeoutMs} ms?)` : ""} in the block at ${lastBlock}\n--- stdout\n${stdout.slice(-3000)}\n--- stderr\n${stderr.slice(-3000)}`
    )
  return { stdout, stderr }
}

/** The benchmark names after `bun run bench` (up to a comment). */
const benchNames = (rest: string) =>
  (rest.split("#")[0] ?? "")
    .trim()
    .split(/\s+/)
    .filter((w) => /^[a-z]+$/.test(w))

describe("operator guides", () => {
  const all = DocBlocks.pages.flatMap((page) => DocBlocks.blocksOf(page))

  test("every page exists and has at least one checked command", () => {
    for (const page of DocBlocks.pages) {
      const blocks = DocBlocks.blocksOf(page)
      expect({ page, checked: blocks.some((b) => b.mode._tag === "verified" || b.mode._tag === "covered") }).toEqual({
        page,
        checked: true
      })
    }
  })

  test("every shell block says whether it runs (verified, covered-by=…, not-run)", () => {
    const unmarked = all.filter((b) => b.mode._tag === "unmarked").map((b) => `${b.page}:${b.line} \`${b.info}\``)
    expect(unmarked).toEqual([])
  })

  test("every `bun run` on the pages names a package.json script, and benches that exist", () => {
    const known = DocBlocks.knownCommands()
    const wrong: Array<string> = []
    for (const page of DocBlocks.pages) {
      const text = Fs.readFileSync(Path.join(DocBlocks.root, page), "utf8")
      for (const { script, rest } of DocBlocks.bunRunScripts(text)) {
        if (!known.scripts.has(script)) wrong.push(`${page}: bun run ${script} (no such script)`)
        if (script === "bench")
          for (const name of benchNames(rest))
            if (!known.benches.has(name)) wrong.push(`${page}: bun run bench ${name} (no such benchmark)`)
      }
    }
    expect(wrong).toEqual([])
  })

  test("a covered block names a test or script that exists and runs its command", () => {
    const known = DocBlocks.knownCommands()
    const wrong: Array<string> = []
    for (const block of all) {
      if (block.mode._tag !== "covered") continue
      const file = Path.join(DocBlocks.root, block.mode.by)
      if (!Fs.existsSync(file)) {
        wrong.push(`${block.page}:${block.line}: ${block.mode.by} does not exist`)
        continue
      }
      const source = Fs.readFileSync(file, "utf8")
      for (const { script, rest } of DocBlocks.bunRunScripts(block.text)) {
        // A bench by its name; a script by its name or by the file it runs (a test imports the file).
        const words =
          script === "bench"
            ? benchNames(rest)
            : [
                script,
                Path.basename(known.commands.get(script) ?? script, ".ts")
                  .split(" ")
                  .at(-1)!
              ]
        if (!words.some((w) => source.includes(w)))
          wrong.push(`${block.page}:${block.line}: ${block.mode.by} does not mention ${words.join(" or ")}`)
      }
    }
    expect(wrong).toEqual([])
  })

  test("config examples are accepted by the server's config loader", async () => {
    const rejected: Array<string> = []
    for (const block of all) {
      if (block.mode._tag !== "config") continue
      const file = Path.join(scratch, `example-${block.line}.${block.mode.format}`)
      Fs.writeFileSync(file, block.text)
      const loaded = await Effect.runPromise(
        Effect.either(ConfigSources.load({ env: { STREAMSPACE_CONFIG: file }, cwd: scratch }))
      )
      if (Either.isLeft(loaded)) rejected.push(`${block.page}:${block.line}: ${loaded.left.problems.join("; ")}`)
    }
    expect(rejected).toEqual([])
    expect(all.filter((b) => b.mode._tag === "config").length).toBeGreaterThan(0)
  })

  test("relative links between the pages resolve, anchors included", () => {
    const broken: Array<string> = []
    for (const page of DocBlocks.pages) {
      const text = Fs.readFileSync(Path.join(DocBlocks.root, page), "utf8")
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const [target = "", anchor] = m[1]!.split("#")
        if (/^[a-z]+:/.test(target)) continue
        const file =
          target === ""
            ? Path.join(DocBlocks.root, page)
            : Path.resolve(Path.dirname(Path.join(DocBlocks.root, page)), target)
        if (!Fs.existsSync(file)) broken.push(`${page}: ${m[1]}`)
        else if (anchor && !DocBlocks.anchorsOf(Fs.readFileSync(file, "utf8")).has(anchor))
          broken.push(`${page}: ${m[1]} (no such heading)`)
      }
    }
    expect(broken).toEqual([])
  })
})

describe(`verified commands (${engine})`, () => {
  for (const page of DocBlocks.pages) {
    const script = DocBlocks.pageScript(page, engine)
    if (!script) continue
    test(`${page} runs`, async () => {
      const database = engine === "postgres" ? await ServerDatabase.create() : undefined
      try {
        const extra: Record<string, string> = database
          ? { DATABASE_URL: database.url, PG_ADMIN_URL: ServerDatabase.serverUrl() }
          : {}
        const { stderr } = await runPage(page, script, extra, 170_000)
        // Every block ran (a block that ended the script early with `exit 0` would skip the rest).
        expect(stderr.match(/^::block /gm)?.length).toBe(script.match(/^echo "::block /gm)?.length)
      } finally {
        await database?.drop()
      }
    }, 180_000)
  }
})
