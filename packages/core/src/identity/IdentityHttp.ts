/**
 * REST for auth, users, groups and API keys (paths from docs/architecture.md).
 * Routes that change the caller's own account (logout, MFA, API keys, and
 * PATCH /api/users/:id on yourself, see IdentityPolicy) need
 * `ACCOUNT_PERMISSION`: any login has it, an API key only when scoped to it.
 * Reading yourself (`/api/auth/me`, GET /api/users/:id) needs only a credential.
 */
import { Effect, Schema } from "effect"
import { ACCOUNT_PERMISSION } from "../Actor.ts"
import { Conflict, Forbidden, NotFound, Unauthorized } from "../Errors.ts"
import * as HttpRoute from "../HttpRoute.ts"
import { ByName, ListQuery, Page } from "../Pagination.ts"
import * as Text from "../Text.ts"
import { ApiKeys } from "./ApiKeys.ts"
import { Auth } from "./Auth.ts"
import { Groups } from "./Groups.ts"
import {
  ApiKey,
  CreateApiKey,
  CreatedApiKey,
  CreateGroup,
  CreateUser,
  Group,
  Login,
  Me,
  TokenPair,
  UpdateGroup,
  UpdateUser,
  User
} from "./IdentityModel.ts"
import { authorizeUserUpdate, canReadUser, userIdOf } from "./IdentityPolicy.ts"
import { Users } from "./Users.ts"

const IdParams = Schema.Struct({ id: Text.Id })
const MemberParams = Schema.Struct({ id: Text.Id, userId: Text.Id })
const UserListQuery = Schema.Struct({ ...ListQuery(ByName).fields, q: Schema.optional(Text.Short) })
const GroupMember = Schema.Struct({
  id: Schema.String,
  username: Schema.String,
  displayName: Schema.String,
  addedAt: Schema.Date
})

const auth = [
  HttpRoute.make({
    method: "POST",
    path: "/api/auth/login",
    summary: "Log in with username, password and (when enrolled) a TOTP or recovery code",
    tags: ["auth"],
    permission: "public",
    rateLimit: "strict",
    body: Login,
    response: TokenPair,
    // Attempts are audited by Auth itself, failed ones included.
    transactional: false,
    audit: false,
    errors: [Unauthorized, Forbidden],
    handler: ({ body, info }) => Effect.flatMap(Auth, (a) => a.login(body, info))
  }),
  HttpRoute.make({
    method: "POST",
    path: "/api/auth/refresh",
    summary: "Exchange a refresh token for new tokens (the old one is rotated out)",
    tags: ["auth"],
    permission: "public",
    rateLimit: "strict",
    body: Schema.Struct({ refreshToken: Text.Secret }),
    response: TokenPair,
    transactional: false,
    audit: { action: "auth.refresh" },
    errors: [Unauthorized],
    handler: ({ body }) => Effect.flatMap(Auth, (a) => a.refresh(body.refreshToken))
  }),
  HttpRoute.make({
    method: "POST",
    path: "/api/auth/logout",
    summary: "Revoke the given refresh token's login, or every login of the caller",
    tags: ["auth"],
    permission: ACCOUNT_PERMISSION,
    body: Schema.Struct({ refreshToken: Schema.optional(Text.Secret) }),
    audit: { action: "auth.logout" },
    handler: ({ body, actor }) =>
      Effect.flatMap(userIdOf(actor), (id) => Effect.flatMap(Auth, (a) => a.logout(id, body.refreshToken)))
  }),
  HttpRoute.make({
    method: "GET",
    path: "/api/auth/me",
    summary: "The caller: account, roles, effective permissions and groups",
    tags: ["auth"],
    permission: "authenticated",
    response: Me,
    errors: [NotFound],
    handler: ({ actor }) =>
      Effect.gen(function* () {
        const id = yield* userIdOf(actor)
        const user = yield* Effect.flatMap(Users, (u) => u.get(id))
        const groups = yield* Effect.flatMap(Groups, (g) => g.groupsOf(id))
        const permissions = actor._tag === "User" ? [...actor.permissions].sort() : []
        return new Me({ ...user, permissions, groups })
      })
  }),
  HttpRoute.make({
    method: "POST",
    path: "/api/auth/mfa/totp/enroll",
    summary: "Start TOTP enrolment: returns the secret and an otpauth:// URI for authenticator apps",
    tags: ["auth"],
    permission: ACCOUNT_PERMISSION,
    response: Schema.Struct({ secret: Schema.String, otpauthUri: Schema.String }),
    audit: { action: "auth.mfa.enroll" },
    errors: [Conflict],
    handler: ({ actor }) => Effect.flatMap(userIdOf(actor), (id) => Effect.flatMap(Auth, (a) => a.enrollTotp(id)))
  }),
  HttpRoute.make({
    method: "POST",
    path: "/api/auth/mfa/totp/verify",
    summary: "Confirm enrolment with a current code; returns recovery codes once",
    tags: ["auth"],
    permission: ACCOUNT_PERMISSION,
    body: Schema.Struct({ code: Text.Secret }),
    response: Schema.Struct({ recoveryCodes: Schema.Array(Schema.String) }),
    audit: { action: "auth.mfa.activate" },
    errors: [Conflict],
    handler: ({ actor, body }) =>
      Effect.flatMap(userIdOf(actor), (id) =>
        Effect.flatMap(Auth, (a) => Effect.map(a.activateTotp(id, body.code), (recoveryCodes) => ({ recoveryCodes })))
      )
  }),
  HttpRoute.make({
    method: "POST",
    path: "/api/auth/mfa/totp/disable",
    summary: "Turn TOTP off (needs a current code or a recovery code)",
    tags: ["auth"],
    permission: ACCOUNT_PERMISSION,
    body: Schema.Struct({ code: Text.Secret }),
    audit: { action: "auth.mfa.disable" },
    handler: ({ actor, body }) =>
      Effect.flatMap(userIdOf(actor), (id) => Effect.flatMap(Auth, (a) => a.disableTotp(id, body.code)))
  })
]

const users = [
  HttpRoute.make({
    method: "GET",
    path: "/api/users",
    summary: "List users (search by username, name or email)",
    tags: ["users"],
    permission: "users:read",
    query: UserListQuery,
    response: Page(User),
    handler: ({ query }) =>
      Effect.flatMap(Users, (u) =>
        u.list({
          limit: query.limit,
          ...(query.cursor ? { cursor: query.cursor } : {}),
          ...(query.q ? { search: query.q } : {})
        })
      )
  }),
  HttpRoute.make({
    method: "POST",
    path: "/api/users",
    summary: "Create a local user",
    tags: ["users"],
    permission: "users:write",
    body: CreateUser,
    response: User,
    successStatus: 201,
    audit: { action: "user.create", target: (_, out) => out.id },
    errors: [NotFound, Conflict],
    handler: ({ body }) => Effect.flatMap(Users, (u) => u.create(body))
  }),
  HttpRoute.make({
    method: "GET",
    path: "/api/users/:id",
    summary: "Read a user (yourself, or anyone with users:read)",
    tags: ["users"],
    permission: "authenticated",
    params: IdParams,
    response: User,
    errors: [NotFound],
    handler: ({ params, actor }) =>
      Effect.zipRight(
        canReadUser(actor, params.id),
        Effect.flatMap(Users, (u) => u.get(params.id))
      )
  }),
  HttpRoute.make({
    method: "PATCH",
    path: "/api/users/:id",
    summary: "Change a user (yourself: email, name, password; users:write: also roles and disabled)",
    tags: ["users"],
    permission: "authenticated",
    params: IdParams,
    body: UpdateUser,
    response: User,
    audit: { action: "user.update", target: (i) => i.params.id },
    errors: [NotFound, Conflict],
    handler: ({ params, body, actor }) =>
      Effect.gen(function* () {
        yield* authorizeUserUpdate(actor, params.id, body)
        const svc = yield* Users
        const { currentPassword: _, ...patch } = body
        return yield* svc.update(params.id, patch)
      })
  }),
  HttpRoute.make({
    method: "DELETE",
    path: "/api/users/:id",
    summary: "Delete a user (not yourself, not the last admin)",
    tags: ["users"],
    permission: "users:write",
    params: IdParams,
    audit: { action: "user.delete", target: (i) => i.params.id },
    errors: [NotFound, Conflict],
    handler: ({ params, actor }) =>
      actor._tag === "User" && actor.userId === params.id
        ? Effect.fail(new Conflict({ message: "you cannot delete your own account", code: "self_delete" }))
        : Effect.flatMap(Users, (u) => u.delete(params.id))
  })
]

const groups = [
  HttpRoute.make({
    method: "GET",
    path: "/api/groups",
    summary: "List groups",
    tags: ["groups"],
    permission: "groups:read",
    query: ListQuery(ByName),
    response: Page(Group),
    handler: ({ query }) =>
      Effect.flatMap(Groups, (g) => g.list({ limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) }))
  }),
  HttpRoute.make({
    method: "POST",
    path: "/api/groups",
    summary: "Create a group",
    tags: ["groups"],
    permission: "groups:write",
    body: CreateGroup,
    response: Group,
    successStatus: 201,
    audit: { action: "group.create", target: (_, out) => out.id },
    errors: [NotFound, Conflict],
    handler: ({ body }) => Effect.flatMap(Groups, (g) => g.create(body))
  }),
  HttpRoute.make({
    method: "GET",
    path: "/api/groups/:id",
    summary: "Read a group",
    tags: ["groups"],
    permission: "groups:read",
    params: IdParams,
    response: Group,
    errors: [NotFound],
    handler: ({ params }) => Effect.flatMap(Groups, (g) => g.get(params.id))
  }),
  HttpRoute.make({
    method: "PATCH",
    path: "/api/groups/:id",
    summary: "Rename or describe a group",
    tags: ["groups"],
    permission: "groups:write",
    params: IdParams,
    body: UpdateGroup,
    response: Group,
    audit: { action: "group.update", target: (i) => i.params.id },
    errors: [NotFound, Conflict],
    handler: ({ params, body }) => Effect.flatMap(Groups, (g) => g.update(params.id, body))
  }),
  HttpRoute.make({
    method: "DELETE",
    path: "/api/groups/:id",
    summary: "Delete a group (members keep their accounts)",
    tags: ["groups"],
    permission: "groups:write",
    params: IdParams,
    audit: { action: "group.delete", target: (i) => i.params.id },
    errors: [NotFound],
    handler: ({ params }) => Effect.flatMap(Groups, (g) => g.delete(params.id))
  }),
  HttpRoute.make({
    method: "GET",
    path: "/api/groups/:id/members",
    summary: "List a group's members",
    tags: ["groups"],
    permission: "groups:read",
    params: IdParams,
    response: Schema.Struct({ items: Schema.Array(GroupMember) }),
    errors: [NotFound],
    handler: ({ params }) =>
      Effect.map(
        Effect.flatMap(Groups, (g) => g.members(params.id)),
        (items) => ({ items })
      )
  }),
  HttpRoute.make({
    method: "POST",
    path: "/api/groups/:id/members",
    summary: "Add a user to a group",
    tags: ["groups"],
    permission: "groups:write",
    params: IdParams,
    body: Schema.Struct({ userId: Text.Id }),
    successStatus: 204,
    audit: { action: "group.member.add", target: (i) => `${i.params.id}/${i.body.userId}` },
    errors: [NotFound, Conflict],
    handler: ({ params, body }) => Effect.flatMap(Groups, (g) => g.addMember(params.id, body.userId))
  }),
  HttpRoute.make({
    method: "DELETE",
    path: "/api/groups/:id/members/:userId",
    summary: "Remove a user from a group",
    tags: ["groups"],
    permission: "groups:write",
    params: MemberParams,
    audit: { action: "group.member.remove", target: (i) => `${i.params.id}/${i.params.userId}` },
    errors: [NotFound],
    handler: ({ params }) => Effect.flatMap(Groups, (g) => g.removeMember(params.id, params.userId))
  })
]

const apiKeys = [
  HttpRoute.make({
    method: "GET",
    path: "/api/api-keys",
    summary: "Your API keys (never the keys themselves)",
    tags: ["api-keys"],
    permission: ACCOUNT_PERMISSION,
    response: Schema.Struct({ items: Schema.Array(ApiKey) }),
    handler: ({ actor }) =>
      Effect.flatMap(userIdOf(actor), (id) =>
        Effect.map(
          Effect.flatMap(ApiKeys, (k) => k.list(id)),
          (items) => ({ items })
        )
      )
  }),
  HttpRoute.make({
    method: "POST",
    path: "/api/api-keys",
    summary: "Create an API key scoped to some of your permissions; the key is shown only in this response",
    tags: ["api-keys"],
    permission: ACCOUNT_PERMISSION,
    body: CreateApiKey,
    response: CreatedApiKey,
    successStatus: 201,
    audit: { action: "api-key.create", target: (_, out) => out.id },
    handler: ({ actor, body }) =>
      Effect.gen(function* () {
        // A key cannot mint keys, even one scoped to `account`: that would let a narrow key outlive its revocation.
        if (actor._tag === "User" && actor.apiKeyId._tag === "Some")
          return yield* new Forbidden({ message: "API keys cannot create API keys; log in" })
        const id = yield* userIdOf(actor)
        const { key, apiKey } = yield* Effect.flatMap(ApiKeys, (k) => k.create(id, body))
        return { ...apiKey, key }
      })
  }),
  HttpRoute.make({
    method: "DELETE",
    path: "/api/api-keys/:id",
    summary: "Revoke one of your API keys",
    tags: ["api-keys"],
    permission: ACCOUNT_PERMISSION,
    params: IdParams,
    audit: { action: "api-key.revoke", target: (i) => i.params.id },
    errors: [NotFound],
    handler: ({ actor, params }) =>
      Effect.flatMap(userIdOf(actor), (id) => Effect.flatMap(ApiKeys, (k) => k.revoke(id, params.id)))
  })
]

export const identityRoutes = [...auth, ...users, ...groups, ...apiKeys]
