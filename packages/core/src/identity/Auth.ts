/**
 * Login, token refresh and logout, MFA, and turning bearer credentials into
 * an `Actor`. Access tokens are short-lived HS256 JWTs; refresh tokens are
 * random, stored hashed, rotated on use (reuse revokes the family).
 * Failed logins are throttled per account, and per IP for sprays of unknown
 * usernames only (LoginThrottle), counted in the database so the limit
 * holds across replicas and restarts.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect, Layer, Option, Redacted } from "effect"
import { type Actor, CurrentActor, type RequestInfo, system } from "../Actor.ts"
import { AuditLog } from "../audit/AuditLog.ts"
import { Conflict, Forbidden, ServiceUnavailable, TooManyRequests, Unauthorized, ValidationError } from "../Errors.ts"
import { isSqlError } from "../Infrastructure.ts"
import { isSealed, SecretBox, sealedPrefix } from "../secrets/SecretBox.ts"
import { EventOutbox } from "../events/EventOutbox.ts"
import { HookRunner } from "../hooks/HookRunner.ts"
import { ServerConfig } from "../ServerConfig.ts"
import { Settings } from "../settings/Settings.ts"
import { ApiKeyRepo, lastUsedPrecisionMs } from "./ApiKeyRepo.ts"
import { effectivePermissions } from "./ApiKeyScopes.ts"
import { Authenticator } from "./Authenticator.ts"
import type { TokenPair } from "./IdentityModel.ts"
import * as Tokens from "./internal/Tokens.ts"
import * as Totp from "./internal/Totp.ts"
import { retryAfterSeconds } from "./LoginThrottle.ts"
import { verifyPassword } from "./Passwords.ts"
import { PrincipalCache } from "./PrincipalCache.ts"
import { type Principal, UserRepo } from "./UserRepo.ts"
import { Users } from "./Users.ts"
import { now } from "../Timestamps.ts"

export const API_KEY_PREFIX = "ssk_"

export interface LoginInput {
  readonly username: string
  readonly password: string
  readonly totp?: string | undefined
}

export class Auth extends Context.Tag("@streamspace/core/Auth")<
  Auth,
  {
    readonly login: (
      input: LoginInput,
      request: RequestInfo
    ) => Effect.Effect<TokenPair, Unauthorized | Forbidden | TooManyRequests | SqlError>
    readonly refresh: (refreshToken: string) => Effect.Effect<TokenPair, Unauthorized | SqlError>
    readonly logout: (userId: string, refreshToken: string | undefined) => Effect.Effect<void, SqlError, CurrentActor>
    readonly enrollTotp: (
      userId: string
    ) => Effect.Effect<{ secret: string; otpauthUri: string }, Unauthorized | Conflict | SqlError>
    readonly activateTotp: (
      userId: string,
      code: string
    ) => Effect.Effect<ReadonlyArray<string>, ValidationError | Conflict | SqlError>
    readonly disableTotp: (userId: string, code: string) => Effect.Effect<void, ValidationError | SqlError>
  }
>() {}

/** The key that signs access tokens: configured, or generated once and kept in settings. */
const jwtSecret = Effect.gen(function* () {
  const config = yield* ServerConfig
  return config.auth.jwtSecret
    ? Redacted.value(config.auth.jwtSecret)
    : yield* Effect.flatMap(Settings, (s) => s.getOrCreate("auth.jwtSecret", () => Tokens.randomToken(48)))
})

export const AuthLive = Layer.effect(
  Auth,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const config = yield* ServerConfig
    const users = yield* Users
    const repo = yield* UserRepo
    const audit = yield* AuditLog
    const outbox = yield* EventOutbox
    const hooks = yield* HookRunner
    const secret = yield* jwtSecret
    const dummyPasswordHash = yield* Effect.promise(makeDummyHash)
    const box = yield* SecretBox
    yield* sealClearTotpSecrets
    const {
      accessTokenTtlSeconds: accessTtl,
      refreshTokenTtlSeconds: refreshTtl,
      maxFailedLogins,
      failedLoginWindowSeconds
    } = config.auth

    const issue = (userId: string, username: string, family: string) =>
      Effect.gen(function* () {
        const at = yield* now
        const iat = Math.floor(at.getTime() / 1000)
        const accessToken = Tokens.signJwt(
          { sub: userId, username, iat, exp: iat + accessTtl, jti: crypto.randomUUID() },
          secret
        )
        const refreshToken = Tokens.randomToken(32)
        yield* sql`INSERT INTO refresh_tokens ${sql.insert({
          id: crypto.randomUUID(),
          family,
          user_id: userId,
          token_hash: Tokens.sha256(refreshToken),
          created_at: at,
          expires_at: new Date(at.getTime() + refreshTtl * 1000)
        })}`
        return { accessToken, refreshToken, expiresIn: accessTtl, tokenType: "Bearer" as const }
      })

    /**
     * How long `username` must wait before trying from `ip` (see LoginThrottle): its own failures since its
     * last success, and the address's failures for unknown usernames unless the account has logged in from
     * it before. `rateLimit: false` turns throttling off (attempts are still recorded and audited).
     */
    const throttled = (username: string, ip: string) =>
      Effect.gen(function* () {
        if (!config.rateLimit) return Option.none<number>()
        const at = yield* now
        const since = new Date(at.getTime() - failedLoginWindowSeconds * 1000)
        const [byUser, byIp] = yield* Effect.all([
          sql<{ n: string; first: Date | null }>`
            SELECT count(*) AS n, min(at) AS first FROM login_attempts
            WHERE username = ${username} AND NOT success AND at > ${since}
              AND at > COALESCE((SELECT max(at) FROM login_attempts WHERE username = ${username} AND success), '-infinity')`,
          ip
            ? sql<{ n: string; first: Date | null }>`
                SELECT count(*) AS n, min(at) AS first FROM login_attempts
                WHERE ip = ${ip} AND unknown_user AND NOT success AND at > ${since}`
            : Effect.succeed([])
        ])
        const failures = (row: { n: string; first: Date | null } | undefined) => ({
          count: Number(row?.n ?? 0),
          firstAtMs: row?.first?.getTime() ?? null
        })
        const policy = {
          maxFailedLogins,
          failedLoginWindowSeconds,
          maxUnknownUserFailuresPerIp: config.auth.maxUnknownUserFailuresPerIp
        }
        const sprayed = ip ? failures(byIp[0]) : undefined
        const recognised =
          sprayed !== undefined &&
          sprayed.count >= policy.maxUnknownUserFailuresPerIp &&
          (yield* sql`SELECT 1 FROM login_attempts WHERE username = ${username} AND ip = ${ip} AND success LIMIT 1`)
            .length > 0
        const wait = retryAfterSeconds(
          policy,
          { byUser: failures(byUser[0]), unknownUsersByIp: recognised ? undefined : sprayed },
          at.getTime()
        )
        return Option.fromNullable(wait)
      })

    const recordAttempt = (
      username: string,
      info: RequestInfo,
      success: boolean,
      actor: Actor,
      detail: string | null,
      unknownUser = false
    ) =>
      Effect.gen(function* () {
        yield* sql`INSERT INTO login_attempts ${sql.insert({
          username,
          ip: info.ip,
          at: yield* now,
          success,
          unknown_user: unknownUser
        })}`
        yield* audit.record({
          actor,
          action: "auth.login",
          target: username,
          ip: info.ip,
          userAgent: info.userAgent,
          result: success ? "success" : "failure",
          detail,
          requestId: info.requestId
        })
      })

    /**
     * Whether `code` is the user's current TOTP code and its time step was not accepted before. The
     * conditional UPDATE is the check: of two requests racing with one code, only one changes the row.
     */
    const acceptTotp = (userId: string, storedSecret: string, code: string) =>
      Effect.gen(function* () {
        const step = Totp.matchingStep(openTotpSecret(box, storedSecret), code, yield* Clock.currentTimeMillis)
        if (step === undefined) return Option.none<boolean>()
        const accepted = yield* sql<{ id: string }>`
          UPDATE users SET totp_last_step = ${step}
          WHERE id = ${userId} AND (totp_last_step IS NULL OR totp_last_step < ${step}) RETURNING id`
        return Option.some(accepted.length > 0)
      })

    const checkSecondFactor = (userId: string, totpSecret: string, code: string | undefined) =>
      Effect.gen(function* () {
        if (!code) return false
        const totp = yield* acceptTotp(userId, totpSecret, code)
        if (Option.isSome(totp)) return totp.value
        const used = yield* sql<{ code_hash: string }>`
          UPDATE recovery_codes SET used_at = ${yield* now}
          WHERE user_id = ${userId} AND code_hash = ${Tokens.sha256(code.trim().toLowerCase())} AND used_at IS NULL RETURNING code_hash`
        return used.length > 0
      })

    return {
      login: (input, info) =>
        Effect.gen(function* () {
          const username = input.username.toLowerCase()
          const wait = yield* throttled(username, info.ip)
          if (Option.isSome(wait)) {
            yield* audit.record({
              actor: system("auth"),
              action: "auth.login",
              target: username,
              ip: info.ip,
              userAgent: info.userAgent,
              result: "denied",
              detail: "throttled",
              requestId: info.requestId
            })
            return yield* new TooManyRequests({
              message: "too many failed logins; try again later",
              retryAfterSeconds: wait.value
            })
          }
          const row = yield* users.credentials(username)
          // Verify against a dummy hash when the user is unknown so timing does not reveal which usernames exist.
          const hash = Option.match(row, { onNone: () => dummyPasswordHash, onSome: (r) => r.password_hash })
          const passwordOk = yield* verifyPassword(input.password, hash)
          const fail = (detail: string, message = "invalid username or password") =>
            Effect.zipRight(
              recordAttempt(username, info, false, system("auth"), detail, Option.isNone(row)),
              Effect.fail(new Unauthorized({ message }))
            )
          if (Option.isNone(row) || !passwordOk)
            return yield* fail(Option.isNone(row) ? "unknown user" : "wrong password")
          const user = row.value
          const actor: Actor = {
            _tag: "User",
            userId: user.id,
            username: user.username,
            roles: user.roles ?? [],
            permissions: new Set(),
            apiKeyId: Option.none()
          }
          if (user.disabled) return yield* fail("account disabled")
          if (user.totp_enabled && user.totp_secret) {
            if (!input.totp)
              return yield* fail("second factor missing", "a TOTP code or recovery code is required (field totp)")
            if (!(yield* checkSecondFactor(user.id, user.totp_secret, input.totp)))
              return yield* fail("wrong second factor", "invalid TOTP or recovery code")
          }
          yield* hooks
            .run("user.beforeLogin", {
              userId: user.id,
              username: user.username,
              ip: info.ip,
              mfa: Boolean(user.totp_enabled && user.totp_secret)
            })
            .pipe(Effect.tapError((e) => recordAttempt(username, info, false, actor, `vetoed: ${e.message}`)))
          return yield* sql.withTransaction(
            Effect.gen(function* () {
              const tokens = yield* issue(user.id, user.username, crypto.randomUUID())
              yield* recordAttempt(username, info, true, actor, null)
              yield* outbox
                .publish("user.login", { userId: user.id, username: user.username })
                .pipe(Effect.provideService(CurrentActor, actor))
              return tokens
            })
          )
        }),
      refresh: (refreshToken) =>
        Effect.gen(function* () {
          // The transaction returns an outcome instead of failing, so that revoking a
          // reused token's family commits even though the request is refused.
          const outcome = yield* sql.withTransaction(
            Effect.gen(function* () {
              const at = yield* now
              const rows = yield* sql<{
                id: string
                family: string
                user_id: string
                expires_at: Date
                used_at: Date | null
                revoked_at: Date | null
              }>`
              SELECT id, family, user_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = ${Tokens.sha256(refreshToken)} FOR UPDATE`
              const token = rows[0]
              if (!token) return { _tag: "Refused", reason: "unknown refresh token" } as const
              if (token.used_at !== null) {
                yield* sql`UPDATE refresh_tokens SET revoked_at = ${at} WHERE family = ${token.family} AND revoked_at IS NULL`
                return {
                  _tag: "Refused",
                  reason: "refresh token reuse detected; every token of this login was revoked"
                } as const
              }
              if (token.revoked_at !== null || token.expires_at.getTime() <= at.getTime())
                return { _tag: "Refused", reason: "refresh token expired or revoked" } as const
              const principal = yield* repo.principal(token.user_id)
              if (!principal || principal.disabled) return { _tag: "Refused", reason: "account disabled" } as const
              yield* sql`UPDATE refresh_tokens SET used_at = ${at} WHERE id = ${token.id}`
              return { _tag: "Issued", tokens: yield* issue(token.user_id, principal.username, token.family) } as const
            })
          )
          if (outcome._tag === "Refused") return yield* new Unauthorized({ message: outcome.reason })
          return outcome.tokens
        }),
      logout: (userId, refreshToken) =>
        Effect.gen(function* () {
          const at = yield* now
          if (refreshToken) {
            yield* sql`UPDATE refresh_tokens SET revoked_at = ${at}
              WHERE family = (SELECT family FROM refresh_tokens WHERE token_hash = ${Tokens.sha256(refreshToken)} AND user_id = ${userId}) AND revoked_at IS NULL`
          } else {
            yield* repo.revokeRefreshTokens(userId, at)
          }
          const principal = yield* repo.principal(userId)
          yield* outbox.publish("user.logout", { userId, username: principal?.username ?? "" })
        }),
      enrollTotp: (userId) =>
        Effect.gen(function* () {
          const user = yield* repo.findById(userId)
          if (!user) return yield* new Unauthorized({ message: "unknown user" })
          if (user.totp_enabled)
            return yield* new Conflict({ message: "TOTP is already enabled; disable it first", code: "mfa_enabled" })
          const secretB32 = Totp.generateSecret()
          yield* sql`UPDATE users SET totp_secret = ${box.seal(secretB32)}, totp_last_step = NULL WHERE id = ${userId}`
          return { secret: secretB32, otpauthUri: Totp.otpauthUri("StreamSpace", user.username, secretB32) }
        }),
      activateTotp: (userId, code) =>
        Effect.gen(function* () {
          const user = yield* repo.findById(userId)
          if (!user?.totp_secret)
            return yield* ValidationError.field("code", "enroll first (POST /api/auth/mfa/totp/enroll)")
          if (user.totp_enabled) return yield* new Conflict({ message: "TOTP is already enabled", code: "mfa_enabled" })
          if (!Option.getOrElse(yield* acceptTotp(userId, user.totp_secret, code), () => false))
            return yield* ValidationError.field("code", "does not match the authenticator")
          const codes = Array.from({ length: 10 }, () =>
            Tokens.randomToken(8)
              .toLowerCase()
              .replace(/[^a-z0-9]/g, "")
              .slice(0, 10)
          )
          yield* sql`UPDATE users SET totp_enabled = true WHERE id = ${userId}`
          yield* sql`DELETE FROM recovery_codes WHERE user_id = ${userId}`
          yield* sql`INSERT INTO recovery_codes ${sql.insert(codes.map((c) => ({ user_id: userId, code_hash: Tokens.sha256(c) })))}`
          return codes
        }),
      disableTotp: (userId, code) =>
        Effect.gen(function* () {
          const user = yield* repo.findById(userId)
          if (!user?.totp_enabled || !user.totp_secret)
            return yield* ValidationError.field("code", "TOTP is not enabled")
          if (!(yield* checkSecondFactor(userId, user.totp_secret, code)))
            return yield* ValidationError.field("code", "invalid TOTP or recovery code")
          yield* sql`UPDATE users SET totp_enabled = false, totp_secret = NULL, totp_last_step = NULL WHERE id = ${userId}`
          yield* sql`DELETE FROM recovery_codes WHERE user_id = ${userId}`
        })
    }
  })
)

/** A TOTP secret as stored: sealed, or in clear when written before secrets were sealed. */
const openTotpSecret = (box: SecretBox["Type"], stored: string) => (isSealed(stored) ? box.open(stored) : stored)

/**
 * Seals the TOTP secrets older versions stored in clear (run when Auth is built, i.e. at boot). Each row
 * is rewritten only if it still holds the clear value, so replicas booting together do no harm.
 */
export const sealClearTotpSecrets = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const box = yield* SecretBox
  const clear = yield* sql<{ id: string; totp_secret: string }>`
    SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL AND NOT starts_with(totp_secret, ${sealedPrefix})`
  yield* Effect.forEach(
    clear,
    (row) =>
      sql`UPDATE users SET totp_secret = ${box.seal(row.totp_secret)} WHERE id = ${row.id} AND totp_secret = ${row.totp_secret}`,
    { discard: true }
  )
})

/**
 * An argon2id hash of a random string: verifying against it costs what a real check costs. Made
 * once per process when Auth is first built (not on import: importing the core stays cheap).
 */
let dummyHash: Promise<string> | undefined
const makeDummyHash = () =>
  (dummyHash ??= Bun.password.hash(crypto.randomUUID(), { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 }))

/** How long a client should wait before retrying when the database cannot resolve its credential. */
const retryAfterOutageSeconds = 5

/**
 * The database failing while a credential is resolved is an outage, not a bad credential: 503 with
 * Retry-After, so clients keep their tokens and retry (a 401 would make them drop a valid login).
 */
const outageIsUnavailable = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchSomeDefect(effect, (defect) =>
    isSqlError(defect)
      ? Option.some(
          Effect.zipRight(
            Effect.logWarning("cannot resolve a credential: the database is unavailable", defect),
            Effect.fail(
              new ServiceUnavailable({
                message: "cannot check credentials right now; try again shortly",
                retryAfterSeconds: retryAfterOutageSeconds
              })
            )
          )
        )
      : Option.none()
  )

/**
 * The actor of `p`, the principal of `userId`: the user's permissions narrowed to an API key's `scopes`
 * (`null`: no key); a disabled or deleted user (`undefined`) is Unauthorized.
 */
const actorFrom = (
  userId: string,
  apiKeyId: Option.Option<string>,
  scopes: ReadonlyArray<string> | null,
  p: Principal | undefined
): Effect.Effect<Actor, Unauthorized> => {
  if (!p || p.disabled) return Effect.fail(new Unauthorized({ message: "account disabled or deleted" }))
  const permissions = effectivePermissions(p.permissions ?? [], scopes)
  return Effect.succeed({ _tag: "User", userId, username: p.username, roles: p.roles ?? [], permissions, apiKeyId })
}

/**
 * The actor of `userId` as read now from the database (see `actorFrom`). Credentials checked earlier
 * resolve through it (a VNC ticket names its user and key).
 */
export const actorOf = (
  userId: string,
  apiKeyId: Option.Option<string>,
  scopes: ReadonlyArray<string> | null
): Effect.Effect<Actor, Unauthorized, UserRepo> =>
  Effect.flatMap(UserRepo, (users) =>
    Effect.flatMap(users.principal(userId), (p) => actorFrom(userId, apiKeyId, scopes, p))
  )

/**
 * Resolves access tokens and API keys into an Actor with the user's current permissions, read through
 * the PrincipalCache (a change made through the API applies from the next request). Reads only, except
 * that a valid key's `last_used_at` is recorded: an unknown, revoked or expired key writes nothing.
 */
export const AuthenticatorLive = Layer.effect(
  Authenticator,
  Effect.gen(function* () {
    const users = yield* UserRepo
    const keys = yield* ApiKeyRepo
    const cache = yield* PrincipalCache
    const secret = yield* jwtSecret
    const unauthorized = (message: string) => Effect.fail(new Unauthorized({ message }))
    const principalActor = (
      userId: string,
      at: number,
      apiKeyId: Option.Option<string>,
      scopes: ReadonlyArray<string> | null
    ) =>
      Effect.flatMap(cache.principal(userId, at, users.principal(userId)), (p) =>
        actorFrom(userId, apiKeyId, scopes, p)
      )
    const byApiKey = (bearer: string, at: number) => {
      const keyHash = Tokens.sha256(bearer)
      return Effect.flatMap(cache.apiKey(keyHash, at, keys.find(keyHash)), (key) => {
        if (!key || key.revoked_at !== null) return unauthorized("invalid API key")
        if (key.expires_at !== null && key.expires_at.getTime() <= at) return unauthorized("API key expired")
        const actor = principalActor(key.user_id, at, Option.some(key.id), key.scopes)
        if (key.last_used_at !== null && at - key.last_used_at.getTime() < lastUsedPrecisionMs) return actor
        const used = new Date(at)
        return Effect.tap(actor, () =>
          Effect.zipRight(
            keys.touch(key.id, used),
            Effect.sync(() => cache.apiKeyUsed(keyHash, used))
          )
        )
      })
    }
    const byAccessToken = (bearer: string, at: number) => {
      const claims = Tokens.verifyJwt(bearer, secret, Math.floor(at / 1000))
      if (typeof claims === "string")
        return unauthorized(claims === "expired" ? "access token expired" : "invalid access token")
      return principalActor(claims.sub, at, Option.none(), null)
    }
    return {
      authenticate: (bearer) =>
        outageIsUnavailable(
          Effect.flatMap(Clock.currentTimeMillis, (at) =>
            bearer.startsWith(API_KEY_PREFIX) ? byApiKey(bearer, at) : byAccessToken(bearer, at)
          )
        )
    }
  })
)
