/**
 * The generic integrations store (Slack workspaces, PagerDuty services,
 * SMTP relays…): provider, name, enabled, config. Secret fields (declared,
 * or recognised by name: token, secret, password, key, webhook URL) are
 * sealed with SecretBox, write-only, and masked as "********" on read;
 * omitting one on update keeps it. `resolve` gives plugins the full config.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Schema, type Scope } from "effect"
import { Conflict, type FieldError, NotFound, ValidationError } from "../Errors.ts"
import { MASK, SecretBox } from "../secrets/SecretBox.ts"
import { now } from "../Timestamps.ts"

export { MASK } from "../secrets/SecretBox.ts"
const secretName =
  /(secret|token|password|passwd|api[-_]?key|private[-_]?key|webhook[-_]?url|routing[-_]?key|credential)/i

export class Integration extends Schema.Class<Integration>("Integration")({
  id: Schema.String,
  provider: Schema.String,
  name: Schema.String,
  enabled: Schema.Boolean,
  config: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  secretFields: Schema.Array(Schema.String),
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}) {}

const Config = Schema.Record({ key: Schema.String, value: Schema.Unknown })

export const CreateIntegration = Schema.Struct({
  provider: Schema.String.pipe(
    Schema.pattern(/^[a-z0-9][a-z0-9-]{0,40}$/, { message: () => "lowercase letters, digits and '-'" })
  ),
  name: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)),
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  config: Schema.optionalWith(Config, { default: () => ({}) }),
  /** Extra config keys to treat as secret, besides those recognised by name. */
  secretFields: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })
})

export const UpdateIntegration = Schema.Struct({
  name: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100))),
  enabled: Schema.optional(Schema.Boolean),
  /** Merged into the stored config: a key set to null is removed; secret keys left out keep their value. */
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
}

/** What the plugin serving a provider declares about its integrations' config. */
export interface ProviderSpec {
  /** Checks a whole config (secrets included) and returns it normalised (defaults filled); error paths are relative to the config. */
  readonly validate: (
    config: Record<string, unknown>
  ) => Effect.Effect<Record<string, unknown>, ReadonlyArray<FieldError>>
  /** Config keys that are secret besides those recognised by name. */
  readonly secretFields: ReadonlyArray<string>
}

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
    const providers = new Map<string, ProviderSpec>()
    const validated = (provider: string, config: Record<string, unknown>) => {
      const spec = providers.get(provider)
      return spec
        ? spec.validate(config).pipe(
            Effect.mapError(
              (errors) =>
                new ValidationError({
                  message: `invalid ${provider} config: ${errors.map((e) => `${e.path || "config"}: ${e.message}`).join("; ")}`,
                  errors: errors.map((e) => ({
                    path: e.path ? `body.config.${e.path}` : "body.config",
                    message: e.message
                  }))
                })
            )
          )
        : Effect.succeed(config)
    }
    const isSecret = (declared: ReadonlyArray<string>) => (key: string) =>
      declared.includes(key) || secretName.test(key)
    const split = (config: Record<string, unknown>, declared: ReadonlyArray<string>) => {
      const plain: Record<string, unknown> = {}
      const secrets: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(config)) (isSecret(declared)(k) ? secrets : plain)[k] = v
      return { plain, secrets }
    }
    const secretsOf = (r: Row): Record<string, unknown> =>
      r.secrets_encrypted ? (JSON.parse(box.open(r.secrets_encrypted)) as Record<string, unknown>) : {}
    const toIntegration = (r: Row, secrets = secretsOf(r)) => {
      const masked = Object.fromEntries(Object.keys(secrets).map((k) => [k, MASK]))
      return new Integration({
        id: r.id,
        provider: r.provider,
        name: r.name,
        enabled: r.enabled,
        config: { ...r.config, ...masked },
        secretFields: [...new Set([...r.secret_fields, ...Object.keys(secrets)])].sort(),
        createdAt: r.created_at,
        updatedAt: r.updated_at
      })
    }
    const resolved = (row: Row): Resolved => {
      const secrets = secretsOf(row)
      return { integration: toIntegration(row, secrets), config: { ...row.config, ...secrets } }
    }
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
          const declared = [...new Set([...input.secretFields, ...(providers.get(input.provider)?.secretFields ?? [])])]
          const { plain, secrets } = split(yield* validated(input.provider, input.config), declared)
          const rows = yield* sql<{ id: string }>`INSERT INTO integrations ${sql.insert({
            id,
            provider: input.provider,
            name: input.name,
            enabled: input.enabled,
            config: JSON.stringify(plain),
            secret_fields: declared,
            secrets_encrypted: Object.keys(secrets).length > 0 ? box.seal(JSON.stringify(secrets)) : null,
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
          const declared = [...new Set([...row.secret_fields, ...(providers.get(row.provider)?.secretFields ?? [])])]
          const merged: Record<string, unknown> = { ...row.config, ...secretsOf(row) }
          // The masked placeholder coming back from a read means "unchanged"; null removes a key.
          for (const [k, v] of Object.entries(patch.config ?? {})) {
            if (v === null) delete merged[k]
            else if (!(v === MASK && isSecret(declared)(k))) merged[k] = v
          }
          const { plain: config, secrets: stored } = split(
            patch.config === undefined ? merged : yield* validated(row.provider, merged),
            declared
          )
          const columns: Record<string, unknown> = {
            config: JSON.stringify(config),
            secrets_encrypted: Object.keys(stored).length > 0 ? box.seal(JSON.stringify(stored)) : null,
            updated_at: yield* now
          }
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
