/**
 * Formatting for the api bench: aligned tables, ratios and the verdicts of
 * the "Done when" targets.
 */

/** Prints rows under a header; the first column left-aligned, the others right-aligned. */
export const printTable = (
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  indent = "  "
) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    indent +
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd()
  console.log(line(header))
  console.log(indent + widths.map((w) => "-".repeat(w)).join("  "))
  for (const r of rows) console.log(line(r))
}

export const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a")

export const ratio = (a: number, b: number) => a / b

/** A progress line, with the time since the bench started. */
export const progress = (() => {
  const started = performance.now()
  return (text: string) => console.log(`[${fixed((performance.now() - started) / 1000, 0).padStart(4)} s] ${text}`)
})()

export interface Target {
  readonly name: string
  readonly measured: string
  /** undefined: not measured in this run. */
  readonly pass: boolean | undefined
}

export const printTargets = (targets: ReadonlyArray<Target>) =>
  printTable(
    ["Done when", "measured", "verdict"],
    targets.map((t) => [t.name, t.measured, t.pass === undefined ? "not measured" : t.pass ? "PASS" : "FAIL"])
  )
