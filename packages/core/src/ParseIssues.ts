/**
 * Schema parse failures as one entry per bad field, for problem documents
 * (HttpRoute) and plugin config errors (the kernel). Effect's ArrayFormatter
 * reports a union mismatch once per member — `Expected "a"`, `Expected "b"`,
 * … and `Expected undefined` for an optional field — which reads as several
 * errors for one value. Here a union that no member accepted is one entry
 * naming the allowed values (`Expected one of "a", "b", "c", actual "x"`),
 * and a member that got further than the others (right type, but a
 * refinement or a nested field failed) speaks for the union instead.
 */
import { Effect, Option, ParseResult, Predicate, SchemaAST } from "effect"

export interface Issue {
  /** Where the bad value is, relative to the decoded input. */
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

/** Effect's own formatting of one issue (and everything under it), below `path`. */
const formatted = (issue: ParseResult.ParseIssue, path: ReadonlyArray<PropertyKey>): Array<Issue> =>
  ParseResult.ArrayFormatter.formatIssueSync(issue).map((i) => ({ path: [...path, ...i.path], message: i.message }))

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

/** The rejected value as Effect's messages show it (`"x"`, `1`, `{"a":1}`). */
const show = (value: unknown): string => {
  if (value === undefined) return "undefined"
  if (Predicate.isBigInt(value)) return `${value}n`
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

const oneOf = (ast: SchemaAST.AST, actual: unknown, path: ReadonlyArray<PropertyKey>): Issue => {
  const allowed = [...new Set(describe(ast))]
  const expected = allowed.length === 1 ? allowed[0] : `one of ${allowed.join(", ")}`
  return { path, message: `Expected ${expected}, actual ${show(actual)}` }
}

const walk = (issue: ParseResult.ParseIssue, path: ReadonlyArray<PropertyKey>): Array<Issue> => {
  if (hasOwnMessage(issue)) return formatted(issue, path)
  switch (issue._tag) {
    case "Pointer":
      return walk(issue.issue, path.concat(issue.path))
    case "Composite": {
      const members = membersOf(issue)
      if (!SchemaAST.isUnion(issue.ast)) return members.flatMap((i) => walk(i, path))
      const further = members.filter((i) => !isTypeMismatch(i))
      // One member got further than the rest: its problem is the useful one.
      if (further.length === 1) return walk(further[0]!, path)
      return [oneOf(issue.ast, issue.actual, path)]
    }
    case "Refinement":
      return issue.kind === "From" ? walk(issue.issue, path) : formatted(issue, path)
    case "Transformation":
      return issue.kind === "Transformation" ? formatted(issue, path) : walk(issue.issue, path)
    case "Type":
      // A discriminated union whose tag matched no member.
      return issue.message === undefined && SchemaAST.isUnion(issue.ast)
        ? [oneOf(issue.ast, issue.actual, path)]
        : formatted(issue, path)
    default:
      return formatted(issue, path)
  }
}

/** One entry per bad field (duplicates dropped), a union mismatch as one entry naming the allowed values. */
export const issues = (error: ParseResult.ParseError | ParseResult.ParseIssue): ReadonlyArray<Issue> => {
  const seen = new Set<string>()
  return walk(error._tag === "ParseError" ? error.issue : error, []).filter((i) => {
    const key = `${i.path.map(String).join("\u0000")}\u0001${i.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
