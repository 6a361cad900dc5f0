/**
 * Runs custom DLP regexes off the main thread, so a pattern that backtracks
 * for a long time stalls this worker only; CustomRegex.ts terminates it at
 * the deadline and starts a new one.
 */
declare const self: Worker

/** A module, so that these declarations stay local (a script's would merge into the global `Request`). */
export {}

interface MatchRequest {
  readonly id: number
  readonly patterns: ReadonlyArray<{ readonly id: string; readonly source: string; readonly flags: string }>
  readonly text: string
  readonly maxFindings: number
}

self.onmessage = (event: MessageEvent<MatchRequest>) => {
  const { id, patterns, text, maxFindings } = event.data
  const findings: Array<{ pattern: string; start: number; end: number }> = []
  for (const p of patterns) {
    const regex = new RegExp(p.source, `${p.flags.replace(/g/g, "")}g`)
    for (const match of text.matchAll(regex)) {
      if (match[0].length === 0) continue
      const start = match.index ?? 0
      findings.push({ pattern: p.id, start, end: start + match[0].length })
      if (findings.length >= maxFindings) break
    }
    if (findings.length >= maxFindings) break
  }
  self.postMessage({ id, findings })
}
