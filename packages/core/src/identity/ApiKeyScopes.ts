/**
 * API-key scopes, pure: a key may carry only permissions its owner holds
 * (`*` and `area:*` grant what they name), and a request made with a key
 * has the intersection of the key's scopes and the owner's current
 * permissions — a key never outlives a permission its owner lost. Every
 * user holds `account` (Actor.ACCOUNT_PERMISSION) besides what their roles
 * grant, so any user may scope a key to it.
 */
import { ACCOUNT_PERMISSION } from "../Actor.ts"

/** Whether holding `owned` grants `scope`: exactly, through `area:*`, or through `*`. */
export const grants = (owned: Iterable<string>, scope: string): boolean => {
  const held = owned instanceof Set ? owned : new Set(owned)
  return held.has("*") || held.has(scope) || held.has(`${scope.split(":")[0]}:*`)
}

/** What a user holds: the permissions their roles grant, plus `account`. */
export const heldBy = (granted: ReadonlyArray<string>): ReadonlyArray<string> =>
  granted.includes(ACCOUNT_PERMISSION) ? granted : [...granted, ACCOUNT_PERMISSION]

/** The index of the first scope `owned` does not grant, or -1 when it grants them all. */
export const firstUngranted = (owned: ReadonlyArray<string>, scopes: ReadonlyArray<string>): number =>
  scopes.findIndex((s) => !grants(owned, s))

/**
 * The permissions of a request: the owner's role permissions, narrowed to the key's scopes when a key was
 * used (`null`: no key; `account` is then implicit, see `Actor.hasPermission`).
 */
export const effectivePermissions = (
  granted: ReadonlyArray<string>,
  scopes: ReadonlyArray<string> | null
): ReadonlySet<string> => {
  if (scopes === null) return new Set(granted)
  const held = heldBy(granted)
  return new Set(scopes.filter((s) => grants(held, s)))
}
