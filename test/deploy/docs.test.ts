/**
 * docs/container-images.md and docs/kubernetes.md show only commands that a
 * test or script runs (test/deploy/fixtures/DocCommands.ts names which, and
 * the block says `covered-by=` that file, which names the command), or that
 * are marked `not-run` and say why they cannot run here and what runs in
 * their place.
 */
import { expect, test } from "bun:test"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as DocCommands from "./fixtures/DocCommands.ts"
import * as Manifests from "./fixtures/Manifests.ts"

const shown = DocCommands.pages.flatMap((page) =>
  DocCommands.commandsIn(Fs.readFileSync(page, "utf8")).map((c) => ({ ...c, page: Path.basename(page) }))
)

test.each(DocCommands.pages.map((p) => Path.basename(p)))(
  "every command of %s is listed, its block marked as listed",
  (page) => {
    const mine = shown.filter((c) => c.page === page)
    expect(mine.length).toBeGreaterThan(0)
    const known = new Map(DocCommands.commands.map((c) => [c.command, c]))
    expect(
      mine.map((c) => {
        const listed = known.get(c.command)
        return `${c.command} [${listed ? (DocCommands.markOf(listed) === c.mark ? "ok" : `marked "${c.mark}", listed as "${DocCommands.markOf(listed)}"`) : "not listed in DocCommands.ts"}]`
      })
    ).toEqual(mine.map((c) => `${c.command} [ok]`))
  }
)

test("each listed command is shown, and the file that runs it names it", () => {
  for (const c of DocCommands.commands) {
    expect(shown.map((s) => s.command)).toContain(c.command)
    if (!c.runBy) {
      expect(c.notRunHere ?? "").not.toBe("")
      continue
    }
    const file = Path.join(Manifests.repoRoot, c.runBy.split(" ")[0] ?? "")
    const text = Fs.existsSync(file) ? Fs.readFileSync(file, "utf8") : ""
    expect(text.includes(c.command) ? "named" : `${c.runBy} does not name: ${c.command}`).toBe("named")
  }
})

test("the README links both pages", () => {
  const readme = Fs.readFileSync(Path.join(Manifests.repoRoot, "README.md"), "utf8")
  for (const page of ["docs/container-images.md", "docs/kubernetes.md"])
    expect(readme.includes(`(${page})`) ? `${page} linked` : `README.md has no link to (${page})`).toBe(
      `${page} linked`
    )
})
