/**
 * Paths into JSON configs (integration configs), found from a Schema's
 * annotations and applied to values. A pattern is a list of segments where
 * `*` stands for every key of an object or every element of an array
 * (`targets.*.dsn`); written as a string, segments are joined with dots.
 * A concrete path names one place in one value (`targets.0.dsn`).
 */
import { Predicate, SchemaAST } from "effect"

export type Pattern = ReadonlyArray<string>
export type Concrete = ReadonlyArray<string | number>

export const ANY = "*"

export const format = (path: Pattern | Concrete): string => path.map(String).join(".")
export const parse = (text: string): Pattern => text.split(".")

/**
 * The patterns of every node of `ast` that `marked` picks, however deep
 * (struct fields, record values, array elements, union members, both sides
 * of a transformation). Under a picked node nothing more is looked for.
 */
export const annotated = (
  ast: SchemaAST.AST,
  marked: (annotations: SchemaAST.Annotations) => boolean
): ReadonlyArray<Pattern> => {
  const found = new Map<string, Pattern>()
  const walk = (node: SchemaAST.AST, prefix: Pattern, suspended: ReadonlySet<SchemaAST.AST>): void => {
    if (marked(node.annotations)) {
      found.set(format(prefix), prefix)
      return
    }
    switch (node._tag) {
      case "Refinement":
        return walk(node.from, prefix, suspended)
      case "Transformation":
        walk(node.from, prefix, suspended)
        return walk(node.to, prefix, suspended)
      case "Union":
        for (const member of node.types) walk(member, prefix, suspended)
        return
      case "Suspend":
        if (!suspended.has(node)) walk(node.f(), prefix, new Set([...suspended, node]))
        return
      case "TypeLiteral":
        for (const ps of node.propertySignatures) {
          if (!Predicate.isString(ps.name)) continue
          if (marked(ps.annotations)) found.set(format([...prefix, ps.name]), [...prefix, ps.name])
          else walk(ps.type, [...prefix, ps.name], suspended)
        }
        for (const is of node.indexSignatures) walk(is.type, [...prefix, ANY], suspended)
        return
      case "TupleType":
        node.elements.forEach((e, i) => walk(e.type, [...prefix, String(i)], suspended))
        for (const r of node.rest) walk(r.type, [...prefix, ANY], suspended)
        return
      default:
        return
    }
  }
  walk(ast, [], new Set())
  return [...found.values()]
}

const children = (value: unknown): ReadonlyArray<readonly [string | number, unknown]> =>
  Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Predicate.isRecord(value) ? Object.entries(value) : []

const child = (value: unknown, segment: string): readonly [string | number, unknown] | undefined => {
  if (Array.isArray(value)) {
    const index = Number(segment)
    return Number.isInteger(index) && index >= 0 && index < value.length ? [index, value[index]] : undefined
  }
  return Predicate.isRecord(value) && Object.hasOwn(value, segment) ? [segment, value[segment]] : undefined
}

/** Every place in `value` that `pattern` names and that holds something (not undefined). */
export const expand = (value: unknown, pattern: Pattern): ReadonlyArray<Concrete> => {
  let places: Array<{ path: Concrete; value: unknown }> = [{ path: [], value }]
  for (const segment of pattern) {
    const next: Array<{ path: Concrete; value: unknown }> = []
    for (const place of places) {
      const steps = segment === ANY ? children(place.value) : [child(place.value, segment)]
      for (const step of steps)
        if (step && step[1] !== undefined) next.push({ path: [...place.path, step[0]], value: step[1] })
    }
    places = next
  }
  return places.map((p) => p.path)
}

/** Every concrete path of `value` named by one of `patterns`, each once, outermost first. */
export const expandAll = (value: unknown, patterns: ReadonlyArray<Pattern>): ReadonlyArray<Concrete> => {
  const seen = new Map<string, Concrete>()
  for (const pattern of patterns) for (const path of expand(value, pattern)) seen.set(format(path), path)
  return [...seen.values()].sort((a, b) => a.length - b.length)
}

export const get = (value: unknown, path: Concrete): unknown => {
  let here = value
  for (const segment of path) {
    const step = child(here, String(segment))
    if (!step) return undefined
    here = step[1]
  }
  return here
}

/** `value` with `replacement` at `path` (copies along the way; the path's parents must exist). */
export const set = (value: unknown, path: Concrete, replacement: unknown): unknown => {
  if (path.length === 0) return replacement
  const [head, ...rest] = path
  if (Array.isArray(value)) {
    const copy = [...value]
    copy[Number(head)] = set(copy[Number(head)], rest, replacement)
    return copy
  }
  if (Predicate.isRecord(value)) return { ...value, [String(head)]: set(value[String(head)], rest, replacement) }
  return value
}

/** Whether `pattern` names `path`, or a place inside or around it. */
export const overlaps = (pattern: Pattern, path: Concrete): boolean => {
  const n = Math.min(pattern.length, path.length)
  for (let i = 0; i < n; i++) if (pattern[i] !== ANY && pattern[i] !== String(path[i])) return false
  return true
}
