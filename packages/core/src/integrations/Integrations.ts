/**
 * The generic integrations store (Slack workspaces, PagerDuty services,
 * SMTP relays…): provider, name, enabled, config.
 *
 * Secret fields are declared, never guessed from their names: by the
 * Schema of the plugin serving the provider (`PluginConfig.secret(…)`, at
 * any depth: `headers.authorization`, `targets.*.dsn`) and by the
 * integration's own `secretFields`. Their values are sealed with SecretBox
 * (the stored config holds the mask in their place), write-only, and read
 * back as "********"; sent back unchanged on update, the mask keeps the
 * stored value. `resolve` gives plugins the full config.
 *
 * Every URL or host the provider's Schema marks as a destination (`HttpUrl`,
 * `OutgoingHost`) — for a provider no plugin serves, every http(s) URL in
 * the config — is checked against the egress policy on create and update.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Predicate, Schema, type Scope } from "effect"
import { EgressPolicy } from "../EgressPolicy.ts"
import { Conflict, type FieldError, NotFound, ValidationError } from "../Errors.ts"
import { Destination } from "../HttpUrl.ts"
import * as ConfigPaths from "../internal/ConfigPaths.ts"
import { MASK, SecretBox } from "../secrets/SecretBox.ts"
import * as SecretFields from "../secrets/SecretFields.ts"
import { now } from "../Timestamps.ts"
import * as Text from "../Text.ts"

export { MASK } from "../secrets/SecretBox.ts"

export class Integration extends Schema.Class<Integration>("Integration")({
  id: Schema.String,
  provider: Schema.String,
  name: Schema.String,
  enabled: Schema.Boolean,
  config: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  /** The secret places of its config (`token`, `headers.authorization`, `targets.*.dsn`), masked above. */
  secretFields: Schema.Array(Schema.String),
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}) {}

const Config = Schema.Record({ key: Text.Short, value: Schema.Unknown })

/** A config key, or a dotted path into the config where `*` is any key or element. */
const SecretPath = Text.Short.pipe(
  Schema.pattern(/^[^.\s]+(\.[^.\s]+)*$/, {
    message: () => "a config key, or a dotted path such as headers.authorization or targets.*.dsn"
  })
)

export const CreateIntegration = Schema.Struct({
  provider: Text.Short.pipe(
    Schema.pattern(/^[a-z0-9][a-z0-9-]{0,40}$/, { message: () => "lowercase letters, digits and '-'" })
  ),
  name: Text.Short.pipe(Schema.minLength(1), Schema.maxLength(100)),
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  config: Schema.optionalWith(Config, { default: () => ({}) }),
  /** Config fields that are secret besides those the provider's Schema declares: keys or dotted paths (`targets.*.dsn`). */
  secretFields: Schema.optionalWith(Schema.Array(SecretPath).pipe(Schema.maxItems(100)), { default: () => [] })
})

export const UpdateIntegration = Schema.Struct({
  name: Schema.optional(Text.Short.pipe(Schema.minLength(1), Schema.maxLength(100))),
  enabled: Schema.optional(Schema.Boolean),
  /** Merged into the stored config: a key set to null is removed; secrets left out or sent back masked keep their value. */
  config: Schema.optional(Config)
})

interface Row {
  readonly id: string
  readonly provider: string
  readonly name: string
  readonly enabled: boolean
  readonly config: Record<string, unknown>
  readonly secret_fields: ReadonlyArray<string>
  readonly secrets_encrypted: string | null
  readonly created_at: Date
  readonly updated_at: Date
}

/** An integration with its full config, secrets included. */
export interface Resolved {
  readonly integration: Integration
  readonly config: Record<string, unknown>
  /** Its secrets as texts to scrub from anything stored or logged about it (`SecretFields.redact`). */
  readonly redactions: ReadonlyArray<string>
}

/** A place in a config that the platform connects to. */
export interface DestinationField {
  readonly path: ConfigPaths.Pattern
  readonly kind: "url" | "host"
}

/** What the plugin serving a provider declares about its integrations' config. */
export interface ProviderSpec {
  /** Checks a whole config (secrets included) and returns it normalised (defaults filled); error paths are relative to the config. */
  readonly validate: (
    config: Record<string, unknown>
  ) => Effect.Effect<Record<string, unknown>, ReadonlyArray<FieldError>>
  /** Secret places of the config, however deep. */
  readonly secretPaths: ReadonlyArray<ConfigPaths.Pattern>
  /** URLs and hosts the provider connects to. */
  readonly destinations: ReadonlyArray<DestinationField>
}

/** The secret places and destinations a provider's config Schema declares (annotations, at any depth). */
export const declaredBy = (
  schema: Schema.Schema<unknown, unknown>
): Pick<ProviderSpec, "secretPaths" | "destinations"> => ({
  secretPaths: SecretFields.secretPaths(schema.ast),
  destinations: (["url", "host"] as const).flatMap((kind) =>
    ConfigPaths.annotated(schema.ast, (a) => a[Destination] === kind).map((path) => ({ path, kind }))
  )
})

/** Every http(s) URL in a config, for providers without a Schema. */
const urlFields = (config: unknown): ReadonlyArray<ConfigPaths.Concrete> => {
  const found: Array<ConfigPaths.Concrete> = []
  const walk = (value: unknown, path: ConfigPaths.Concrete): void => {
    if (Predicate.isString(value)) {
      if (/^https?:\/\//i.test(value)) found.push(path)
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]))
    else if (Predicate.isRecord(value)) for (const [k, v] of Object.entries(value)) walk(v, [...path, k])
  }
  walk(config, [])
  return found
}

const configField = (path: ConfigPaths.Concrete) =>
  path.length > 0 ? `body.config.${ConfigPaths.format(path)}` : "body.config"

export class Integrations extends Context.Tag("@streamspace/core/Integrations")<
  Integrations,
  {
    readonly create: (
      input: typeof CreateIntegration.Type
    ) => Effect.Effect<Integration, ValidationError | Conflict | NotFound | SqlError>
    readonly list: (provider?: string) => Effect.Effect<ReadonlyArray<Integration>, SqlError>
    readonly get: (id: string) => Effect.Effect<Integration, NotFound | SqlError>
    readonly update: (
      id: string,
      patch: typeof UpdateIntegration.Type
    ) => Effect.Effect<Integration, ValidationError | NotFound | Conflict | SqlError>
    readonly delete: (id: string) => Effect.Effect<void, NotFound | SqlError>
    /** The full config with secrets, for the code that talks to the provider. Never return it over HTTP. */
    readonly resolve: (id: string) => Effect.Effect<Resolved, NotFound | SqlError>
    /** Every enabled integration of `provider`, resolved, in one query (event handlers call this per event). */
    readonly resolveEnabled: (provider: string) => Effect.Effect<ReadonlyArray<Resolved>, SqlError>
    /** While the scope is open, configs of `provider` are validated by `spec` on create and update. */
    readonly registerProvider: (provider: string, spec: ProviderSpec) => Effect.Effect<void, never, Scope.Scope>
  }
>() {}

export const IntegrationsLive = Layer.effect(
  Integrations,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const box = yield* SecretBox
    const egress = yield* EgressPolicy
    const providers = new Map<string, ProviderSpec>()

    /** The integration's own secret paths and those its provider declares now, as stored and shown. */
    const declaredOf = (stored: ReadonlyArray<string>, provider: string): ReadonlyArray<string> =>
      [
        ...new Set([...stored, ...(providers.get(provider)?.secretPaths ?? []).map((p) => ConfigPaths.format(p))])
      ].sort()
    const entriesOf = (r: Row): ReadonlyArray<SecretFields.Entry> =>
      r.secrets_encrypted ? SecretFields.decodeEntries(JSON.parse(box.open(r.secrets_encrypted))) : []
    /** What to mask: every declared place, and wherever a secret was stored (declared by an earlier version). */
    const maskedPlaces = (declared: ReadonlyArray<string>, entries: ReadonlyArray<SecretFields.Entry>) => [
      ...declared.map(ConfigPaths.parse),
      ...entries.map(([path]) => path.map(String))
    ]
    const toIntegration = (r: Row, entries = entriesOf(r)) => {
      const declared = declaredOf(r.secret_fields, r.provider)
      return new Integration({
        id: r.id,
        provider: r.provider,
        name: r.name,
        enabled: r.enabled,
        config: SecretFields.mask(SecretFields.overlay(r.config, entries), maskedPlaces(declared, entries)) as Record<
          string,
          unknown
        >,
        secretFields: declared,
        createdAt: r.created_at,
        updatedAt: r.updated_at
      })
    }
    const resolved = (row: Row): Resolved => {
      const entries = entriesOf(row)
      return {
        integration: toIntegration(row, entries),
        config: SecretFields.overlay(row.config, entries) as Record<string, unknown>,
        redactions: SecretFields.redactions(entries)
      }
    }

    /** The provider's check of `config`; error messages never quote one of its secrets. */
    const validated = (provider: string, config: Record<string, unknown>, declared: ReadonlyArray<string>) => {
      const spec = providers.get(provider)
      if (!spec) return Effect.succeed(config)
      const secrets = SecretFields.redactions(SecretFields.split(config, declared.map(ConfigPaths.parse)).entries)
      return spec.validate(config).pipe(
        Effect.mapError((errors) => {
          const fields = errors.map((e) => ({
            path: e.path ? `body.config.${e.path}` : "body.config",
            message: SecretFields.redact(e.message, secrets)
          }))
          return new ValidationError({
            message: `invalid ${provider} config: ${fields.map((e) => `${e.path}: ${e.message}`).join("; ")}`,
            errors: fields
          })
        })
      )
    }

    /** `next` with each mask at a secret place replaced by the value stored there; a mask where nothing is stored is an error. */
    const keepMasked = (
      stored: unknown,
      next: Record<string, unknown>,
      places: ReadonlyArray<ConfigPaths.Pattern>
    ): Effect.Effect<Record<string, unknown>, ValidationError> => {
      let config: unknown = next
      const errors: Array<FieldError> = []
      for (const path of ConfigPaths.expandAll(next, places)) {
        if (ConfigPaths.get(config, path) !== MASK) continue
        const kept = ConfigPaths.get(stored, path)
        if (kept === undefined || kept === MASK)
          errors.push({ path: configField(path), message: "the mask stands for a stored secret; none is stored here" })
        else config = ConfigPaths.set(config, path, kept)
      }
      return errors.length > 0
        ? Effect.fail(new ValidationError({ message: errors.map((e) => `${e.path}: ${e.message}`).join("; "), errors }))
        : Effect.succeed(config as Record<string, unknown>)
    }

    /** Every destination of the config must pass the egress policy: 400 naming each refused field. */
    const checkDestinations = (provider: string, config: Record<string, unknown>) =>
      Effect.gen(function* () {
        const spec = providers.get(provider)
        const places = spec
          ? spec.destinations.flatMap((d) => ConfigPaths.expand(config, d.path).map((path) => ({ path, kind: d.kind })))
          : urlFields(config).map((path) => ({ path, kind: "url" as const }))
        const errors: Array<FieldError> = []
        for (const { path, kind } of places) {
          const value = ConfigPaths.get(config, path)
          if (!Predicate.isString(value)) continue
          const refused = yield* Effect.flip(kind === "url" ? egress.checkUrl(value) : egress.check(value)).pipe(
            Effect.option
          )
          if (refused._tag === "Some") errors.push({ path: configField(path), message: refused.value.message })
        }
        if (errors.length > 0)
          return yield* new ValidationError({
            message: errors.map((e) => `${e.path}: ${e.message}`).join("; "),
            errors
          })
      })

    /** The columns that store `config`: in clear with the mask at each secret place, and the secrets sealed. */
    const sealed = (config: Record<string, unknown>, declared: ReadonlyArray<string>) => {
      const { plain, entries } = SecretFields.split(config, declared.map(ConfigPaths.parse))
      return {
        config: JSON.stringify(plain),
        secrets_encrypted: entries.length > 0 ? box.seal(JSON.stringify(entries)) : null
      }
    }
    /** Validated, checked and sealed. */
    const prepare = (provider: string, config: Record<string, unknown>, declared: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const normalised = yield* validated(provider, config, declared)
        yield* checkDestinations(provider, normalised)
        return sealed(normalised, declared)
      })

    const find = (id: string) =>
      Effect.flatMap(sql<Row>`SELECT * FROM integrations WHERE id = ${id}`, (rows) =>
        rows[0] ? Effect.succeed(rows[0]) : Effect.fail(new NotFound({ resource: "integration", id }))
      )
    const taken = (provider: string, name: string) =>
      new Conflict({ message: `a ${provider} integration named ${name} exists`, code: "integration_name_taken" })
    return {
      create: (input) =>
        Effect.gen(function* () {
          const id = crypto.randomUUID()
          const at = yield* now
          const declared = declaredOf(input.secretFields, input.provider)
          const config = yield* keepMasked({}, input.config, declared.map(ConfigPaths.parse))
          const stored = yield* prepare(input.provider, config, declared)
          const rows = yield* sql<{ id: string }>`INSERT INTO integrations ${sql.insert({
            id,
            provider: input.provider,
            name: input.name,
            enabled: input.enabled,
            ...stored,
            secret_fields: declared,
            created_at: at,
            updated_at: at
          })} ON CONFLICT (provider, name) DO NOTHING RETURNING id`
          if (rows.length === 0) return yield* taken(input.provider, input.name)
          return toIntegration(yield* find(id))
        }),
      list: (provider) =>
        Effect.map(
          sql<Row>`SELECT * FROM integrations ${provider ? sql`WHERE provider = ${provider}` : sql``} ORDER BY provider, name`,
          (rows) => rows.map((r) => toIntegration(r))
        ),
      get: (id) => Effect.map(find(id), toIntegration),
      update: (id, patch) =>
        Effect.gen(function* () {
          const row = yield* find(id)
          const declared = declaredOf(row.secret_fields, row.provider)
          const entries = entriesOf(row)
          const current = SecretFields.overlay(row.config, entries) as Record<string, unknown>
          const columns: Record<string, unknown> = { secret_fields: declared, updated_at: yield* now }
          if (patch.config !== undefined) {
            const merged: Record<string, unknown> = { ...current }
            for (const [k, v] of Object.entries(patch.config)) {
              if (v === null) delete merged[k]
              else merged[k] = v
            }
            const config = yield* keepMasked(current, merged, maskedPlaces(declared, entries))
            Object.assign(columns, yield* prepare(row.provider, config, declared))
          } else Object.assign(columns, sealed(current, declared)) // fields declared secret since are sealed now
          if (patch.name !== undefined) columns["name"] = patch.name
          if (patch.enabled !== undefined) columns["enabled"] = patch.enabled
          if (patch.name !== undefined) {
            const clash = yield* sql<{
              id: string
            }>`SELECT id FROM integrations WHERE provider = ${row.provider} AND name = ${patch.name} AND id <> ${id}`
            if (clash.length > 0) return yield* taken(row.provider, patch.name)
          }
          yield* sql`UPDATE integrations SET ${sql.update(columns)} WHERE id = ${id}`
          return toIntegration(yield* find(id))
        }),
      delete: (id) =>
        Effect.flatMap(sql<{ id: string }>`DELETE FROM integrations WHERE id = ${id} RETURNING id`, (rows) =>
          rows.length > 0 ? Effect.void : Effect.fail(new NotFound({ resource: "integration", id }))
        ),
      resolve: (id) => Effect.map(find(id), resolved),
      resolveEnabled: (provider) =>
        Effect.map(
          sql<Row>`SELECT * FROM integrations WHERE provider = ${provider} AND enabled ORDER BY name`,
          (rows) => rows.map(resolved)
        ),
      registerProvider: (provider, spec) =>
        Effect.acquireRelease(
          Effect.sync(() => providers.set(provider, spec)),
          () => Effect.sync(() => providers.delete(provider))
        ).pipe(Effect.asVoid)
    }
  })
)
