/** The identity domain as Schemas: what the API returns and accepts. */
import { Schema } from "effect"
import * as Text from "../Text.ts"

export const Username = Text.Short.pipe(
  Schema.pattern(/^[a-zA-Z0-9][a-zA-Z0-9._-]{1,62}$/, {
    message: () => "2–63 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"
  })
)
export const Password = Text.Secret.pipe(
  Schema.minLength(10, { message: () => "at least 10 characters" }),
  Schema.maxLength(256, { message: () => "at most 256 characters" })
)
/** At most 254 characters: the longest address SMTP can carry (RFC 5321). */
export const Email = Text.make(254).pipe(Schema.pattern(/^[^\s@]+@[^\s@]+$/, { message: () => "an email address" }))
export const RoleName = Schema.Literal("admin", "operator", "user", "viewer")
export type RoleName = typeof RoleName.Type
/** At least one role, each named once (a user holds a role or does not). */
const Roles = Schema.Array(RoleName).pipe(
  Schema.minItems(1),
  Schema.filter((roles) => new Set(roles).size === roles.length, { message: () => "each role at most once" })
)

export class User extends Schema.Class<User>("User")({
  id: Schema.String,
  username: Schema.String,
  email: Schema.NullOr(Schema.String),
  displayName: Schema.String,
  roles: Schema.Array(Schema.String),
  disabled: Schema.Boolean,
  mfaEnabled: Schema.Boolean,
  createdAt: Schema.Date
}) {}

export class Me extends Schema.Class<Me>("Me")({
  ...User.fields,
  permissions: Schema.Array(Schema.String),
  groups: Schema.Array(Schema.Struct({ id: Schema.String, name: Schema.String }))
}) {}

export const CreateUser = Schema.Struct({
  username: Username,
  password: Password,
  email: Schema.optional(Email),
  displayName: Schema.optional(Text.Short),
  roles: Schema.optionalWith(Roles, { default: () => ["user" as const] })
})
export type CreateUser = typeof CreateUser.Type

export const UpdateUser = Schema.Struct({
  email: Schema.optional(Schema.NullOr(Email)),
  displayName: Schema.optional(Text.Short),
  password: Schema.optional(Password),
  /** Required when users change their own password. */
  currentPassword: Schema.optional(Text.Secret),
  roles: Schema.optional(Roles),
  disabled: Schema.optional(Schema.Boolean)
})
export type UpdateUser = typeof UpdateUser.Type

export class Group extends Schema.Class<Group>("Group")({
  id: Schema.String,
  name: Schema.String,
  description: Schema.String,
  memberCount: Schema.Number,
  createdAt: Schema.Date
}) {}

export const CreateGroup = Schema.Struct({
  name: Text.Short.pipe(Schema.minLength(1), Schema.maxLength(100)),
  description: Schema.optionalWith(Text.Long.pipe(Schema.maxLength(1000)), { default: () => "" })
})
export const UpdateGroup = Schema.Struct({
  name: Schema.optional(Text.Short.pipe(Schema.minLength(1), Schema.maxLength(100))),
  description: Schema.optional(Text.Long.pipe(Schema.maxLength(1000)))
})

export const Login = Schema.Struct({
  username: Text.Short.pipe(Schema.minLength(1)),
  password: Text.Secret.pipe(Schema.minLength(1)),
  totp: Schema.optional(Text.Secret)
})

export const TokenPair = Schema.Struct({
  accessToken: Schema.String,
  refreshToken: Schema.String,
  expiresIn: Schema.Number,
  tokenType: Schema.Literal("Bearer")
})
export type TokenPair = typeof TokenPair.Type

export class ApiKey extends Schema.Class<ApiKey>("ApiKey")({
  id: Schema.String,
  name: Schema.String,
  prefix: Schema.String,
  scopes: Schema.Array(Schema.String),
  expiresAt: Schema.NullOr(Schema.Date),
  lastUsedAt: Schema.NullOr(Schema.Date),
  createdAt: Schema.Date
}) {}

export const CreateApiKey = Schema.Struct({
  name: Text.Short.pipe(Schema.minLength(1), Schema.maxLength(100)),
  scopes: Schema.Array(Text.Short.pipe(Schema.minLength(1))).pipe(Schema.minItems(1), Schema.maxItems(100)),
  expiresAt: Schema.optional(Text.Timestamp)
})

/** Returned once, at creation: the only time the key itself is shown. */
export const CreatedApiKey = Schema.Struct({ ...ApiKey.fields, key: Schema.String })
