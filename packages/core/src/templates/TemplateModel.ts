/** The app catalog's domain as Schemas. */
import { Schema } from "effect"
import * as Text from "../Text.ts"

const Slug = Text.Short.pipe(
  Schema.pattern(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: () => "lowercase letters, digits and '-', at most 63" })
)
const Millicores = Schema.Int.pipe(Schema.between(50, 64_000, { message: () => "millicores between 50 and 64000" }))
const MiB = Schema.Int.pipe(Schema.between(64, 1_048_576, { message: () => "MiB between 64 and 1048576" }))
const PortNumber = Schema.Int.pipe(Schema.between(1, 65535))
/**
 * RFB's display ports :0 to :99. The VNC proxy connects to this port of the session's workload, so a
 * template cannot aim it at another service (5432, 6379, …) of the cluster.
 */
const VncPort = Schema.Int.pipe(
  Schema.between(5900, 5999, { message: () => "a VNC display port between 5900 and 5999 (:0 to :99)" })
)

export class Template extends Schema.Class<Template>("Template")({
  id: Schema.String,
  name: Schema.String,
  displayName: Schema.String,
  description: Schema.String,
  iconUrl: Schema.NullOr(Schema.String),
  category: Schema.String,
  tags: Schema.Array(Schema.String),
  image: Schema.String,
  defaultCpu: Schema.Number,
  defaultMemory: Schema.Number,
  maxCpu: Schema.Number,
  maxMemory: Schema.Number,
  ports: Schema.Array(Schema.Number),
  env: Schema.Record({ key: Schema.String, value: Schema.String }),
  vncPort: Schema.Number,
  enabled: Schema.Boolean,
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}) {}

const fields = {
  displayName: Text.Short.pipe(Schema.minLength(1)),
  description: Text.Long.pipe(Schema.maxLength(5000)),
  iconUrl: Schema.NullOr(
    Text.Line.pipe(Schema.pattern(/^(https?:\/\/|\/)/, { message: () => "an http(s) URL or an absolute path" }))
  ),
  category: Text.Short.pipe(Schema.minLength(1), Schema.maxLength(50)),
  tags: Schema.Array(Text.Short.pipe(Schema.minLength(1), Schema.maxLength(50))).pipe(Schema.maxItems(20)),
  image: Text.Line.pipe(Schema.pattern(/^[\w.\-/:@]+$/, { message: () => "a container image reference" })),
  defaultCpu: Millicores,
  defaultMemory: MiB,
  maxCpu: Millicores,
  maxMemory: MiB,
  ports: Schema.Array(PortNumber).pipe(Schema.maxItems(20)),
  env: Schema.Record({ key: Text.Short.pipe(Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/)), value: Text.Long }),
  vncPort: VncPort,
  enabled: Schema.Boolean
}

export const CreateTemplate = Schema.Struct({
  name: Slug,
  displayName: fields.displayName,
  description: Schema.optionalWith(fields.description, { default: () => "" }),
  iconUrl: Schema.optionalWith(fields.iconUrl, { default: () => null }),
  category: Schema.optionalWith(fields.category, { default: () => "general" }),
  tags: Schema.optionalWith(fields.tags, { default: () => [] }),
  image: fields.image,
  defaultCpu: Schema.optionalWith(fields.defaultCpu, { default: () => 1000 }),
  defaultMemory: Schema.optionalWith(fields.defaultMemory, { default: () => 2048 }),
  maxCpu: Schema.optionalWith(fields.maxCpu, { default: () => 4000 }),
  maxMemory: Schema.optionalWith(fields.maxMemory, { default: () => 8192 }),
  ports: Schema.optionalWith(fields.ports, { default: () => [] }),
  env: Schema.optionalWith(fields.env, { default: () => ({}) }),
  vncPort: Schema.optionalWith(fields.vncPort, { default: () => 5900 }),
  enabled: Schema.optionalWith(fields.enabled, { default: () => true })
})
export type CreateTemplate = typeof CreateTemplate.Type

export const UpdateTemplate = Schema.Struct({
  displayName: Schema.optional(fields.displayName),
  description: Schema.optional(fields.description),
  iconUrl: Schema.optional(fields.iconUrl),
  category: Schema.optional(fields.category),
  tags: Schema.optional(fields.tags),
  image: Schema.optional(fields.image),
  defaultCpu: Schema.optional(fields.defaultCpu),
  defaultMemory: Schema.optional(fields.defaultMemory),
  maxCpu: Schema.optional(fields.maxCpu),
  maxMemory: Schema.optional(fields.maxMemory),
  ports: Schema.optional(fields.ports),
  env: Schema.optional(fields.env),
  vncPort: Schema.optional(fields.vncPort),
  enabled: Schema.optional(fields.enabled)
})
export type UpdateTemplate = typeof UpdateTemplate.Type
