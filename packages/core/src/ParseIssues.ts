/**
 * Schema parse failures as one entry per bad field, for problem documents
 * (HttpRoute) and plugin config errors (the kernel). Effect's ArrayFormatter
 * reports a union mismatch once per member — `Expected "a"`, `Expected "b"`,
 * … and `Expected undefined` for an optional field — which reads as several
 * errors for one value. Here a union that no member accepted is one entry
 * naming the allowed values (`Expected one of "a", "b", "c", actual "x"`),
 * and a member that got further than the others (right type, but a
 * refinement or a nested field failed) speaks for the union instead.
 *
 * Messages stay bounded whatever the input: the rejected value (`actual …`)
 * is cut to `maxActual` characters, a long key in a path to `maxKey`, the
 * list to `maxIssues` entries; and the value of a field annotated
 * `Text.Sensitive` (a password, a token) is never shown, nor is a rejected
 * value that could contain one.
 */
import { Effect, Option, ParseResult, Predicate, SchemaAST } from "effect"
import * as Text from "./Text.ts"

export interface Issue {
  /** Where the bad value is, relative to the decoded input. */
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

/** How much of a rejected value a message shows, and of a key in a path; how many entries at most. */
export const maxActual = 100
export const maxKey = 100
export const maxIssues = 100

const redacted = "<redacted>"
const actualMarker = ", actual "

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text)

/**
 * Whether a value of this Schema may hold a credential: it is sensitive, or
 * something inside it is (a struct with a password field, given as a whole).
 */
const mayHoldSecret = (ast: SchemaAST.AST): boolean => {
  let known = holdsSecret.get(ast)
  if (known === undefined) {
    known = containsSensitive(ast, new Set())
    holdsSecret.set(ast, known)
  }
  return known
}
const holdsSecret = new WeakMap<SchemaAST.AST, boolean>()

const containsSensitive = (ast: SchemaAST.AST, seen: Set<SchemaAST.AST>): boolean => {
  if (seen.has(ast)) return false
  seen.add(ast)
  if (Text.isSensitive(ast)) return true
  const inside = (a: SchemaAST.AST) => containsSensitive(a, seen)
  switch (ast._tag) {
    case "TypeLiteral":
      return ast.propertySignatures.some((p) => inside(p.type)) || ast.indexSignatures.some((i) => inside(i.type))
    case "TupleType":
      return ast.elements.some((e) => inside(e.type)) || ast.rest.some((r) => inside(r.type))
    case "Union":
      return ast.types.some(inside)
    case "Refinement":
      return inside(ast.from)
    case "Transformation":
      return inside(ast.from) || inside(ast.to)
    case "Suspend":
      return inside(ast.f())
    default:
      return false
  }
}

/** The message with its `actual …` part cut short, or redacted when the value may be a secret. */
const bounded = (message: string, secret: boolean): string => {
  const at = message.indexOf(actualMarker)
  if (at === -1) return cut(message, maxActual * 3)
  const head = cut(message.slice(0, at), maxActual * 2)
  return `${head}${actualMarker}${secret ? redacted : cut(message.slice(at + actualMarker.length), maxActual)}`
}

const boundedPath = (path: ReadonlyArray<PropertyKey>): ReadonlyArray<PropertyKey> =>
  path.map((key) => (typeof key === "string" ? cut(key, maxKey) : key))

/** The Schema an issue is about (none for those that carry no value: missing, unexpected, pointer). */
const astOf = (issue: ParseResult.ParseIssue): SchemaAST.AST | undefined =>
  issue._tag === "Pointer" || issue._tag === "Unexpected" || issue._tag === "Missing" ? undefined : issue.ast

/** Effect's own formatting of one issue (and everything under it), below `path`. */
const formatted = (issue: ParseResult.ParseIssue, path: ReadonlyArray<PropertyKey>, secret: boolean): Array<Issue> => {
  const ast = astOf(issue)
  const hidden = secret || (ast !== undefined && mayHoldSecret(ast))
  return ParseResult.ArrayFormatter.formatIssueSync(issue).map((i) => ({
    path: [...path, ...i.path],
    message: bounded(i.message, hidden)
  }))
}

/**
 * Whether Effect would print this issue's own `message` annotation instead of
 * looking inside it (mirrors ParseResult's rules, so custom messages win).
 */
const hasOwnMessage = (issue: ParseResult.ParseIssue): boolean => {
  if (!("ast" in issue)) return false
  const annotation = SchemaAST.getMessageAnnotation(issue.ast)
  if (Option.isNone(annotation)) return false
  const result = annotation.value(issue)
  if (!Predicate.isString(result) && !Effect.isEffect(result) && result.override) return true
  return !(
    issue._tag === "Composite" ||
    (issue._tag === "Refinement" && issue.kind === "From") ||
    (issue._tag === "Transformation" && issue.kind !== "Transformation")
  )
}

const membersOf = (issue: ParseResult.Composite): ReadonlyArray<ParseResult.ParseIssue> =>
  Array.isArray(issue.issues) ? issue.issues : [issue.issues as ParseResult.ParseIssue]

/** The value is not even of the member's type (as opposed to failing a refinement or a nested field). */
const isTypeMismatch = (issue: ParseResult.ParseIssue): boolean => {
  switch (issue._tag) {
    case "Type":
      return true
    case "Refinement":
      return issue.kind === "From" && isTypeMismatch(issue.issue)
    case "Transformation":
      return issue.kind === "Encoded" && isTypeMismatch(issue.issue)
    case "Composite":
      return SchemaAST.isUnion(issue.ast) && membersOf(issue).every(isTypeMismatch)
    default:
      return false
  }
}

/** How one allowed alternative reads in a message; optional's `undefined` is left out. */
const describe = (ast: SchemaAST.AST): ReadonlyArray<string> => {
  switch (ast._tag) {
    case "Literal":
      return [
        ast.literal === null
          ? "null"
          : Predicate.isBigInt(ast.literal)
            ? `${ast.literal}n`
            : JSON.stringify(ast.literal)
      ]
    case "UndefinedKeyword":
    case "VoidKeyword":
      return []
    case "Union":
      return ast.types.flatMap(describe)
    case "Enums":
      return ast.enums.map(([, value]) => JSON.stringify(value))
    case "Refinement":
      return [
        Option.getOrElse(
          Option.orElse(SchemaAST.getDescriptionAnnotation(ast), () => SchemaAST.getIdentifierAnnotation(ast)),
          () => describe(ast.from).join(" | ")
        )
      ]
    case "Transformation":
      // The client sends the encoded form.
      return describe(ast.from)
    case "Suspend":
      return describe(ast.f())
    default:
      return [String(ast).replace(/\breadonly /g, "")]
  }
}

/** The rejected value as Effect's messages show it (`"x"`, `1`, `{"a":1}`), cut short. */
const show = (value: unknown): string => {
  if (value === undefined) return "undefined"
  if (Predicate.isBigInt(value)) return `${value}n`
  if (typeof value === "string") return cut(JSON.stringify(value), maxActual)
  try {
    return cut(JSON.stringify(value) ?? String(value), maxActual)
  } catch {
    return cut(String(value), maxActual)
  }
}

const oneOf = (ast: SchemaAST.AST, actual: unknown, path: ReadonlyArray<PropertyKey>, secret: boolean): Issue => {
  const allowed = [...new Set(describe(ast))]
  const expected = allowed.length === 1 ? allowed[0] : `one of ${allowed.join(", ")}`
  const shown = secret || mayHoldSecret(ast) ? redacted : show(actual)
  return { path, message: `Expected ${expected}${actualMarker}${shown}` }
}

/** `secret`: the value at this point is (part of) a credential, so no message may show it. */
const walk = (issue: ParseResult.ParseIssue, path: ReadonlyArray<PropertyKey>, secret: boolean): Array<Issue> => {
  const ast = astOf(issue)
  const hidden = secret || (ast !== undefined && Text.isSensitive(ast))
  if (hasOwnMessage(issue)) return formatted(issue, path, hidden)
  switch (issue._tag) {
    case "Pointer":
      return walk(issue.issue, path.concat(issue.path), hidden)
    case "Composite": {
      const members = membersOf(issue)
      if (!SchemaAST.isUnion(issue.ast)) return members.flatMap((i) => walk(i, path, hidden))
      const further = members.filter((i) => !isTypeMismatch(i))
      // One member got further than the rest: its problem is the useful one.
      if (further.length === 1) return walk(further[0]!, path, hidden)
      return [oneOf(issue.ast, issue.actual, path, hidden)]
    }
    case "Refinement":
      return issue.kind === "From" ? walk(issue.issue, path, hidden) : formatted(issue, path, hidden)
    case "Transformation":
      return issue.kind === "Transformation" ? formatted(issue, path, hidden) : walk(issue.issue, path, hidden)
    case "Type":
      // A discriminated union whose tag matched no member.
      return issue.message === undefined && SchemaAST.isUnion(issue.ast)
        ? [oneOf(issue.ast, issue.actual, path, hidden)]
        : formatted(issue, path, hidden)
    default:
      return formatted(issue, path, hidden)
  }
}

/**
 * One entry per bad field (duplicates dropped, at most `maxIssues`), a union
 * mismatch as one entry naming the allowed values; no message shows more
 * than `maxActual` characters of a rejected value, or any of a sensitive one.
 */
export const issues = (error: ParseResult.ParseError | ParseResult.ParseIssue): ReadonlyArray<Issue> => {
  const seen = new Set<string>()
  const out: Array<Issue> = []
  for (const i of walk(error._tag === "ParseError" ? error.issue : error, [], false)) {
    const issue = { path: boundedPath(i.path), message: i.message }
    const key = `${issue.path.map(String).join("\u0000")}\u0001${issue.message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(issue)
    if (out.length === maxIssues) break
  }
  return out
}
