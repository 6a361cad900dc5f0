/**
 * The scopes an API key may be given: permissions its owner holds (the
 * server refuses others, see core identity/ApiKeyScopes.ts), plus `account`
 * (your own account: MFA, keys, profile) which every user holds.
 */
export interface ScopeOption {
  readonly value: string
  readonly description: string
}

/** The core's permissions (migrations 0003 and 0009), described for the picker. */
export const corePermissions: ReadonlyArray<ScopeOption> = [
  { value: "account", description: "Your own account: profile, password, MFA, API keys" },
  { value: "templates:read", description: "Browse the app catalog" },
  { value: "sessions:read", description: "Read own sessions" },
  { value: "sessions:write", description: "Launch and control own sessions" },
  { value: "sessions:connect", description: "Open the desktop (VNC) of own and shared sessions" },
  { value: "files:read", description: "List and download own files" },
  { value: "files:write", description: "Upload and delete own files" },
  { value: "quotas:read", description: "Read quotas" },
  { value: "sessions:admin", description: "See and control every session" },
  { value: "templates:admin", description: "Manage the app catalog" },
  { value: "users:read", description: "List and read users" },
  { value: "users:write", description: "Create, change and delete users" },
  { value: "groups:read", description: "List and read groups" },
  { value: "groups:write", description: "Create, change and delete groups and their members" },
  { value: "quotas:admin", description: "Set quotas" },
  { value: "audit:read", description: "Query the audit log" },
  { value: "webhooks:admin", description: "Manage outgoing webhooks" },
  { value: "integrations:admin", description: "Manage integrations" },
  { value: "plugins:admin", description: "Install, configure and remove plugins" },
  { value: "*", description: "Every permission you hold" }
]

/** Whether holding `held` grants `scope` (exactly, `area:*`, or `*`). */
const grants = (held: ReadonlySet<string>, scope: string) =>
  held.has("*") || held.has(scope) || held.has(`${scope.split(":")[0]}:*`)

/** The scopes `permissions` (the caller's, from /api/auth/me) allow, known ones first with their descriptions. */
export const scopeOptions = (permissions: ReadonlyArray<string>): ReadonlyArray<ScopeOption> => {
  const held = new Set([...permissions, "account"])
  const known = corePermissions.filter((p) => grants(held, p.value))
  const others = [...held]
    .filter((p) => !corePermissions.some((k) => k.value === p))
    .sort()
    .map((value) => ({ value, description: "Granted by your roles" }))
  return [...known, ...others]
}

/** An expiry choice → the ISO timestamp the API wants (undefined: never expires). */
export const expiryOf = (days: string, now: Date = new Date()): string | undefined => {
  const n = Number(days)
  if (!Number.isFinite(n) || n <= 0) return undefined
  return new Date(now.getTime() + n * 24 * 3600 * 1000).toISOString()
}
