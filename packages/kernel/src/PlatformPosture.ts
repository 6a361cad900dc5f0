/**
 * The platform's security posture, read-only, for plugins granted
 * `posture` in their manifest (a compliance plugin's control checks).
 *
 * One call, `snapshot`, answers a fixed set of facts the core keeps:
 * ids, counts, settings and times — never a credential, hash, secret,
 * e-mail address or audit row. It cannot be steered at other data: it takes
 * no table, column or filter. Without the grant it fails with
 * `PlatformAccessDenied`.
 */
import { Context, type Effect } from "effect"
import type { PlatformAccessDenied } from "./Platform.ts"

export interface PostureSnapshot {
  readonly takenAt: Date
  /** Enabled users with a confirmed TOTP second factor. */
  readonly mfaUserIds: ReadonlyArray<string>
  /** `auth.passwordMinScore` (zxcvbn, 0–4) and the least length every new password must have. */
  readonly passwordPolicy: { readonly minScore: number; readonly minLength: number }
  /** `retention.auditDays`; null: audit entries are kept for ever. */
  readonly auditRetentionDays: number | null
  /** `sessions.idleTimeoutSeconds` in minutes. */
  readonly idleTimeoutMinutes: number
  /**
   * Stored secrets (webhook signing secrets, integration and plugin secrets, TOTP secrets) that are not
   * sealed with the secret box, and whether its key comes from the config (`secretsKey`) rather than
   * the database itself.
   */
  readonly secrets: { readonly unsealed: number; readonly keyConfigured: boolean }
  /** Every enabled user's latest successful sign-in (null: none on record) and creation time. */
  readonly lastLogins: ReadonlyArray<{
    readonly userId: string
    readonly username: string
    readonly lastLogin: Date | null
    readonly createdAt: Date
  }>
  /** Active (not revoked) API keys that never expire. */
  readonly apiKeysWithoutExpiry: ReadonlyArray<{ readonly id: string; readonly userId: string }>
  /** Per installed plugin, the core tables its database role holds any privilege on (confined: 0). */
  readonly pluginRoles: ReadonlyArray<{ readonly plugin: string; readonly coreTables: number }>
}

export class PlatformPosture extends Context.Tag("@streamspace/kernel/PlatformPosture")<
  PlatformPosture,
  {
    readonly snapshot: Effect.Effect<PostureSnapshot, PlatformAccessDenied>
  }
>() {}
