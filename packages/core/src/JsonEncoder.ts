/**
 * Response encoders compiled once from a Schema's AST, for the shapes routes
 * answer with: classes and structs of declared fields, literals, strings,
 * numbers, booleans, `Date` (as its ISO string), nullable and optional
 * fields, arrays. The result is what `Schema.encode` gives for a value of the
 * Schema's type — only the declared fields, in their order — without
 * re-validating the value: a handler's output is typed, and rows from the
 * database are trusted. Any other shape (unions of structs, defaults,
 * custom transformations) gets `undefined`: the caller keeps
 * `Schema.encode` for it. `test/unit/json-encoder.unit.test.ts` checks both
 * agree on every core route's response Schema with generated values.
 */
import { Option, type Schema, SchemaAST as AST } from "effect"

type Encode = (value: unknown) => unknown
/** `"same"`: the value is its own encoded form (JSON as it is). */
type Compiled = Encode | "same" | undefined

const dateToString: Encode = (value) => (value as Date).toISOString()

const isSame = (ast: AST.AST): boolean =>
  AST.isLiteral(ast) ||
  AST.isStringKeyword(ast) ||
  AST.isNumberKeyword(ast) ||
  AST.isBooleanKeyword(ast) ||
  AST.isUndefinedKeyword(ast) ||
  AST.isTemplateLiteral(ast) ||
  (AST.isRefinement(ast) && isSame(ast.from)) ||
  (AST.isUnion(ast) && ast.types.every(isSame))

const identifierOf = (ast: AST.AST) => Option.getOrUndefined(AST.getIdentifierAnnotation(ast))

/** `Schema.Class`: a declaration standing for its fields (a surrogate), encoded by copying them. */
const isClass = (ast: AST.Transformation) =>
  AST.isFinalTransformation(ast.transformation) &&
  AST.isDeclaration(ast.to) &&
  Option.isSome(AST.getSurrogateAnnotation(ast.to)) &&
  AST.isTypeLiteral(ast.from)

/** `Schema.Date`: a string to a `Date` (`DateFromSelf`), encoded with `toISOString`. */
const isDateFromString = (ast: AST.Transformation) =>
  AST.isDeclaration(ast.to) && identifierOf(ast.to) === "DateFromSelf" && isSame(ast.from)

const struct = (ast: AST.TypeLiteral): Compiled => {
  if (ast.indexSignatures.length > 0) return undefined
  const fields: Array<readonly [key: PropertyKey, optional: boolean, encode: Encode | "same"]> = []
  for (const ps of ast.propertySignatures) {
    const encode = compileAst(ps.type)
    if (encode === undefined) return undefined
    fields.push([ps.name, ps.isOptional, encode])
  }
  return (value) => {
    const input = value as Record<PropertyKey, unknown>
    const out: Record<PropertyKey, unknown> = {}
    for (const [key, optional, encode] of fields) {
      const v = input[key]
      if (v === undefined && optional) continue
      out[key] = encode === "same" ? v : encode(v)
    }
    return out
  }
}

const compileAst = (ast: AST.AST): Compiled => {
  if (isSame(ast)) return "same"
  switch (ast._tag) {
    case "Refinement":
      // Encoding checks the refinement on the way in; the output is trusted.
      return compileAst(ast.from)
    case "Declaration":
      // `DateFromSelf` encodes to the Date itself, which JSON writes as its ISO string.
      return identifierOf(ast) === "DateFromSelf" ? "same" : undefined
    case "Transformation":
      if (isDateFromString(ast)) return dateToString
      return isClass(ast) ? compileAst(ast.from) : undefined
    case "TypeLiteral":
      return struct(ast)
    case "TupleType": {
      if (ast.elements.length > 0 || ast.rest.length !== 1) return undefined
      const item = compileAst(ast.rest[0]!.type)
      if (item === undefined || item === "same") return item
      return (value) => (value as ReadonlyArray<unknown>).map(item)
    }
    case "Union": {
      // A nullable or optional value: null / undefined as they are, the one other member encoded.
      const others = ast.types.filter((t) => !isSame(t))
      if (others.length !== 1) return undefined
      const encode = compileAst(others[0]!)
      if (encode === undefined || encode === "same") return encode
      return (value) => (value === null || value === undefined ? value : encode(value))
    }
    default:
      return undefined
  }
}

/** The encoder of `schema`'s values to its encoded (JSON) form, or undefined when its shape is not covered. */
export const compile = <A, I, R>(schema: Schema.Schema<A, I, R>): ((value: A) => I) | undefined => {
  const encode = compileAst(schema.ast)
  if (encode === undefined) return undefined
  return encode === "same" ? (value) => value as unknown as I : (encode as (value: A) => I)
}
