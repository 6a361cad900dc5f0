/**
 * The commands of the operator guides, as the tests see them. Every fenced
 * shell block on these pages says what happens to it in its info string:
 *
 * - ```` ```sh verified ```` — run by `doc-commands.test.ts` on both engines;
 *   `verified pglite` / `verified postgres` only in that engine's pass;
 * - ```` ```sh covered-by=<file> ```` — run by that test or script instead
 *   (an edition build, a bench), which must exist and name the command;
 * - ```` ```sh not-run ```` — cannot run here (a cluster, a container
 *   engine, a production host); the text around it says so.
 *
 * A page's verified blocks run in order as one bash script (`set -euo
 * pipefail`), from the repository root, with `STREAMSPACE_DATA_DIR`,
 * `BACKUP_DIR` and `PORT` pointing at a scratch directory and a free port
 * (and `DATABASE_URL` / `PG_ADMIN_URL` at a database of its own on
 * PostgreSQL), so a page reads top to bottom like the session an operator
 * would type. ```` ```yaml config ```` and ```` ```json config ```` blocks are
 * config files the server must accept.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"

export const root = Path.join(import.meta.dir, "../..")

/** The operator guides whose commands are checked. */
export const pages = [
  "docs/installation.md",
  "docs/configuration.md",
  "docs/plugin-management.md",
  "docs/performance.md",
  "docs/plugin-security.md",
  "docs/upgrading.md",
  "docs/backup-restore.md",
  "docs/operations.md"
] as const

export type Engine = "pglite" | "postgres"

export type Mode =
  | { readonly _tag: "verified"; readonly engines: ReadonlyArray<Engine> }
  | { readonly _tag: "covered"; readonly by: string }
  | { readonly _tag: "not-run" }
  | { readonly _tag: "config"; readonly format: "yaml" | "json" }
  | { readonly _tag: "other" }
  | { readonly _tag: "unmarked" }

export interface Block {
  readonly page: string
  /** 1-based line of the opening fence. */
  readonly line: number
  readonly info: string
  readonly mode: Mode
  readonly text: string
}

const shellLanguages = new Set(["sh", "bash", "shell", "console"])

const modeOf = (info: string): Mode => {
  const [language = "", ...words] = info.trim().split(/\s+/)
  if (!shellLanguages.has(language)) {
    if ((language === "yaml" || language === "json") && words.includes("config"))
      return { _tag: "config", format: language }
    return { _tag: "other" }
  }
  if (words[0] === "verified") {
    const engines = words.slice(1).filter((w): w is Engine => w === "pglite" || w === "postgres")
    return { _tag: "verified", engines: engines.length > 0 ? engines : ["pglite", "postgres"] }
  }
  if (words[0]?.startsWith("covered-by=")) return { _tag: "covered", by: words[0].slice("covered-by=".length) }
  if (words[0] === "not-run") return { _tag: "not-run" }
  return { _tag: "unmarked" }
}

/** The fenced blocks of a page (path relative to the repository root). */
export const blocksOf = (page: string): ReadonlyArray<Block> => {
  const lines = Fs.readFileSync(Path.join(root, page), "utf8").split("\n")
  const blocks: Array<Block> = []
  let open: { line: number; info: string; fence: string; body: Array<string> } | undefined
  lines.forEach((line, i) => {
    if (!open) {
      const fence = /^(```+)(.*)$/.exec(line)
      if (fence) open = { line: i + 1, info: fence[2]!.trim(), fence: fence[1]!, body: [] }
      return
    }
    if (line.startsWith(open.fence) && line.trim() === open.fence) {
      blocks.push({ page, line: open.line, info: open.info, mode: modeOf(open.info), text: open.body.join("\n") })
      open = undefined
      return
    }
    open.body.push(line)
  })
  if (open) throw new Error(`${page}:${open.line}: a fenced block is never closed`)
  return blocks
}

/** `bun run <script>` invocations in a text (blocks and prose alike). */
export const bunRunScripts = (text: string): ReadonlyArray<{ readonly script: string; readonly rest: string }> =>
  [...text.matchAll(/\bbun run ([a-z][\w:-]*)([^\n`|;&)]*)/g)].map((m) => ({ script: m[1]!, rest: m[2]!.trim() }))

/** The package.json scripts and the benchmarks `bun run bench <name>` knows. */
export const knownCommands = () => {
  const pkg = JSON.parse(Fs.readFileSync(Path.join(root, "package.json"), "utf8")) as {
    scripts: Record<string, string>
  }
  const benches = Fs.readdirSync(Path.join(root, "scripts/bench"))
    .filter((f) => f.endsWith(".ts") && f !== "index.ts" && f !== "floor.ts")
    .map((f) => f.replace(/\.ts$/, ""))
  return {
    scripts: new Set(Object.keys(pkg.scripts)),
    /** Each script's command line. */
    commands: new Map(Object.entries(pkg.scripts)),
    benches: new Set(benches)
  }
}

/** The anchors GitHub gives a page's headings (lowercased, punctuation dropped, spaces as hyphens). */
export const anchorsOf = (markdown: string): ReadonlySet<string> => {
  const outsideFences = markdown.replace(/^```[\s\S]*?^```/gm, "")
  return new Set(
    [...outsideFences.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, "")
        .replaceAll(" ", "-")
    )
  )
}

/** One bash script running a page's verified blocks for `engine`, each announced with its line. */
export const pageScript = (page: string, engine: Engine): string | undefined => {
  const blocks = blocksOf(page).filter((b) => b.mode._tag === "verified" && b.mode.engines.includes(engine))
  if (blocks.length === 0) return undefined
  return ["set -euo pipefail", ...blocks.flatMap((b) => [`echo "::block ${b.page}:${b.line}" >&2`, b.text])].join("\n")
}
