/** Identity as one Layer: users, groups, permissions, auth, API keys, and the first-boot admin. */
import { Layer } from "effect"
import { ApiKeysLive } from "./ApiKeys.ts"
import { AuthenticatorLive, AuthLive } from "./Auth.ts"
import { GroupsLive } from "./Groups.ts"
import { PermissionsLive } from "./Permissions.ts"
import { ensureAdmin, UsersLive } from "./Users.ts"

export const IdentityLive = Layer.mergeAll(AuthLive, AuthenticatorLive, ApiKeysLive, GroupsLive, PermissionsLive, Layer.effectDiscard(ensureAdmin)).pipe(
  Layer.provideMerge(UsersLive)
)
