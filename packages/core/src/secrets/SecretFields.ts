/**
 * Secret fields, declared by the Schema that describes a config: a node
 * annotated with `SecretField` (plugins write `PluginConfig.secret(…)`) is
 * secret wherever it sits — a top-level field, a field of a nested object,
 * every element of an array. Nothing is secret because of its name.
 *
 * What is declared secret is sealed at rest, read back as the mask, and
 * kept out of logs and stored error texts (`redactions`).
 */
import { Predicate, type Schema, type SchemaAST } from "effect"
import * as ConfigPaths from "../internal/ConfigPaths.ts"
import { MASK } from "./SecretBox.ts"

/** Annotation for Schema nodes that hold secrets. */
export const SecretField: unique symbol = Symbol.for("@streamspace/SecretField")

/** Marks a Schema as secret: `token: SecretFields.secret(Schema.String)`. */
export const secret = <A, I, R>(schema: Schema.Schema<A, I, R>): Schema.Schema<A, I, R> =>
  schema.annotations({ [SecretField]: true })

const isSecret = (annotations: SchemaAST.Annotations) => annotations[SecretField] === true

/** Patterns (`a.b`, `targets.*.dsn`) of every secret node of `ast`, however deep. */
export const secretPaths = (ast: SchemaAST.AST): ReadonlyArray<ConfigPaths.Pattern> =>
  ConfigPaths.annotated(ast, isSecret)

/** One stored secret: where it sits in the config, and its value. */
export type Entry = readonly [ConfigPaths.Concrete, unknown]

/** `config` with the mask in place of every value that one of `patterns` names. */
export const mask = (config: unknown, patterns: ReadonlyArray<ConfigPaths.Pattern>): unknown =>
  ConfigPaths.expandAll(config, patterns).reduce(
    (masked, path) => (ConfigPaths.get(masked, path) === null ? masked : ConfigPaths.set(masked, path, MASK)),
    config
  )

/**
 * Splits `config` into what may be stored in clear (the mask in place of
 * each secret) and the secrets themselves, by place. A secret inside
 * another is part of the outer one.
 */
export const split = (
  config: unknown,
  patterns: ReadonlyArray<ConfigPaths.Pattern>
): { readonly plain: unknown; readonly entries: ReadonlyArray<Entry> } => {
  const entries: Array<Entry> = []
  let plain = config
  for (const path of ConfigPaths.expandAll(config, patterns)) {
    const value = ConfigPaths.get(plain, path)
    if (value === MASK || value === null || value === undefined) continue
    entries.push([path, value])
    plain = ConfigPaths.set(plain, path, MASK)
  }
  return { plain, entries }
}

/** `plain` with each secret put back in its place. */
export const overlay = (plain: unknown, entries: ReadonlyArray<Entry>): unknown =>
  entries.reduce((config, [path, value]) => ConfigPaths.set(config, path, value), plain)

/** Sealed entries as stored: `[[path, value], …]`, or `{ key: value }` from before nested secrets. */
export const decodeEntries = (stored: unknown): ReadonlyArray<Entry> =>
  Array.isArray(stored)
    ? stored.filter((e): e is Entry => Array.isArray(e) && e.length === 2 && Array.isArray(e[0]) && e[0].length > 0)
    : Predicate.isRecord(stored)
      ? Object.entries(stored).map(([key, value]): Entry => [[key], value])
      : []

const decoded = (text: string) => {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * Texts to scrub from anything logged or stored about a config: every
 * string inside a secret, and for a URL also the forms it may be quoted in
 * (normalised, and its user name and password alone).
 */
export const redactions = (entries: ReadonlyArray<Entry>): ReadonlyArray<string> => {
  const texts = new Set<string>()
  const collect = (value: unknown): void => {
    if (Predicate.isString(value)) {
      texts.add(value)
      if (URL.canParse(value)) {
        const url = new URL(value)
        texts.add(url.href)
        for (const part of [url.password, url.username, decoded(url.password)]) if (part) texts.add(part)
      }
    } else if (Array.isArray(value)) value.forEach(collect)
    else if (Predicate.isRecord(value)) Object.values(value).forEach(collect)
  }
  for (const [, value] of entries) collect(value)
  // Longest first, so that a URL goes as a whole before its password is looked for.
  return [...texts].filter((t) => t.length >= 4).sort((a, b) => b.length - a.length)
}

/** `text` with every one of `secrets` replaced by the mask. */
export const redact = (text: string, secrets: ReadonlyArray<string>): string =>
  secrets.reduce((t, s) => t.split(s).join(MASK), text)
