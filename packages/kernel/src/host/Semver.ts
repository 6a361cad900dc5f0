/** Just enough semver for `dependsOn`: exact, ^, ~, >=, >, <=, <, x-ranges, space-separated conjunctions. */
export type Version = readonly [number, number, number]

export const parse = (v: string): Version | undefined => {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(v.trim())
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined
}

const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]

const one = (range: string, v: Version): boolean | undefined => {
  if (range === "*" || range === "x" || range === "") return true
  const op = /^(\^|~|>=|<=|>|<|=)?(.*)$/.exec(range)!
  const x = op[2]!.replace(/\.(x|\*)/g, "")
  const parts = x.split(".").map(Number)
  if (parts.some((n) => Number.isNaN(n))) return undefined
  const base: Version = [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0]
  switch (op[1]) {
    case "^":
      return (
        cmp(v, base) >= 0 &&
        (base[0] > 0
          ? v[0] === base[0]
          : base[1] > 0
            ? v[0] === 0 && v[1] === base[1]
            : v[0] === 0 && v[1] === 0 && v[2] === base[2])
      )
    case "~":
      return cmp(v, base) >= 0 && v[0] === base[0] && v[1] === base[1]
    case ">=":
      return cmp(v, base) >= 0
    case ">":
      return cmp(v, base) > 0
    case "<=":
      return cmp(v, base) <= 0
    case "<":
      return cmp(v, base) < 0
    default:
      // "1.2" or "1.x" means any 1.2.*
      return parts.every((n, i) => v[i] === n)
  }
}

/** undefined when the range itself is not understood. */
export const satisfies = (version: string, range: string): boolean | undefined => {
  const v = parse(version)
  if (!v) return undefined
  const results = range
    .trim()
    .split(/\s+/)
    .map((r) => one(r, v))
  return results.includes(undefined) ? undefined : results.every(Boolean)
}

/** Negative when a < b; undefined when either is not a version. */
export const compare = (a: string, b: string): number | undefined => {
  const x = parse(a)
  const y = parse(b)
  return x && y ? cmp(x, y) : undefined
}
