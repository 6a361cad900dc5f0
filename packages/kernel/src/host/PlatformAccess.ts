/**
 * The host's side of `Platform.ts`: the core's Kubernetes API client on the
 * server's `sessions.kubernetes` config (kubeconfig, `apiServer`, or the
 * in-cluster service account, as the `kubernetes` runtime uses), made on
 * first use so a plugin enables without a cluster; and session hibernation
 * through the core's `Sessions`; the platform's posture (`posture`): fixed
 * read-only queries that return ids, counts, settings and times. Each is
 * handed to a plugin only with its grant; otherwise every call is
 * `PlatformAccessDenied`.
 */
import type { SqlClient } from "@effect/sql"
import {
  Actor,
  type AuditLog,
  Auth,
  IdentityModel,
  KubeClient,
  type ServerConfig,
  type SessionModel,
  type SessionRuntime,
  type Sessions,
  UserRepo,
  Xrandr
} from "@streamspace/core"
import { Effect, Either, Option, Redacted, Schema } from "effect"
import {
  type DesktopControl,
  DesktopControlError,
  type Kubernetes,
  KubernetesError,
  PlatformAccessDenied,
  type PlatformGrant,
  type SessionControl,
  SessionControlError
} from "../Platform.ts"
import type { PlatformPosture, PostureSnapshot } from "../PlatformPosture.ts"
import { roleOf } from "./Manifest.ts"

/** An API path: absolute, no scheme or authority, no dot segments; it can only name a resource of that server. */
const API_PATH = /^\/(?!\/)[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]*$/

export const kubernetes = (
  plugin: string,
  grants: ReadonlyArray<PlatformGrant>,
  config: ServerConfig.ServerConfig["Type"]
): Kubernetes["Type"] => {
  const denied = PlatformAccessDenied.notGranted(plugin, "kubernetes")
  let client: KubeClient.KubeClient | undefined
  const request = <A>(
    method: string,
    path: string,
    options?: { readonly body?: unknown; readonly contentType?: string }
  ): Effect.Effect<A, KubernetesError | PlatformAccessDenied> =>
    Effect.gen(function* () {
      if (!grants.includes("kubernetes")) return yield* denied
      if (
        !API_PATH.test(path) ||
        path
          .split("?")[0]!
          .split("/")
          .some((s) => s === ".." || s === ".")
      )
        return yield* new KubernetesError({ status: null, reason: "InvalidPath", message: `not an API path: ${path}` })
      const kube = yield* Effect.try({
        try: () => {
          client ??= KubeClient.make(KubeClient.authFrom(config.sessions.kubernetes))
          return client
        },
        catch: (e) =>
          new KubernetesError({
            status: null,
            reason: "NotConfigured",
            message: e instanceof Error ? e.message : String(e)
          })
      })
      return yield* kube.request<A>(method, path, options?.body, options?.contentType).pipe(
        Effect.mapError(
          (e) =>
            new KubernetesError({
              status: e.status,
              reason: e.reason,
              message: e.message,
              ...(e.details === undefined ? {} : { details: e.details })
            })
        )
      )
    })
  return { request, sessionNamespace: config.sessions.kubernetes.namespace }
}

export const sessionControl = (
  plugin: string,
  grants: ReadonlyArray<PlatformGrant>,
  core: {
    readonly sessions: Sessions.Sessions["Type"]
    readonly users: UserRepo.UserRepo["Type"]
    readonly audit: AuditLog.AuditLog["Type"]
  }
): SessionControl["Type"] => {
  const platform = Actor.system(`plugin:${plugin}`)
  const granted = grants.includes("sessions")
    ? Effect.void
    : Effect.fail(PlatformAccessDenied.notGranted(plugin, "sessions"))
  /** The request's user when there is one (their permissions apply and the audit names them), else the platform. */
  const caller = Effect.map(
    Effect.serviceOption(Actor.CurrentActor),
    Option.getOrElse(() => platform)
  )
  /** The audit row names who asked (the request's user, or the platform in jobs and handlers) and the plugin. */
  const audited = (action: string, by: Actor.Actor, session: SessionModel.Session, detail?: string) =>
    core.audit
      .record({ actor: by, action, target: session.id, result: "success", plugin, detail: detail ?? null })
      .pipe(
        Effect.catchAll((e) => Effect.logWarning(`plugin ${plugin}: audit row of ${action} not written`, e)),
        Effect.as({ id: session.id, state: session.state, desired: session.desired })
      )
  const intent =
    (action: string, run: (id: string) => ReturnType<Sessions.Sessions["Type"]["hibernate"]>) => (sessionId: string) =>
      Effect.gen(function* () {
        yield* granted
        const as = yield* caller
        const session = yield* run(sessionId).pipe(
          Effect.provideService(Actor.CurrentActor, as),
          Effect.mapError((e) => new SessionControlError({ sessionId, status: e.status, message: e.message }))
        )
        return yield* audited(action, as, session)
      })
  return {
    hibernate: intent("session.hibernate", core.sessions.hibernate),
    wake: intent("session.wake", core.sessions.wake),
    delete: intent("session.delete", core.sessions.delete),
    create: (userId, input) =>
      Effect.gen(function* () {
        yield* granted
        const current = yield* caller
        const refuse = (status: number, message: string) => new SessionControlError({ sessionId: "", status, message })
        if (current._tag === "User" && current.userId !== userId && !Actor.hasPermission(current, "sessions:admin"))
          return yield* refuse(
            403,
            "a user may launch sessions only for themselves (sessions:admin launches for others)"
          )
        const as =
          current._tag === "User" && current.userId === userId
            ? current
            : yield* Auth.actorOf(userId, Option.none(), null).pipe(
                Effect.provideService(UserRepo.UserRepo, core.users),
                Effect.mapError((e) => refuse(404, `user ${userId}: ${e.message}`))
              )
        const session = yield* core.sessions.create({ persistentHome: true, ...input }).pipe(
          Effect.provideService(Actor.CurrentActor, as),
          Effect.mapError((e) => refuse(e.status, e.message))
        )
        return yield* audited("session.create", current, session, `for user ${userId}`)
      })
  }
}

/**
 * `applyMonitors` for plugins granted `desktops`: the session must be visible to the acting user (the request's
 * user, else the platform) and running; the local runtime's display gets `xrandr` (Xrandr.apply); the other
 * runtimes refuse with 501 (Kubernetes would need the pod exec API or an agent in the image).
 */
export const desktopControl = (
  plugin: string,
  grants: ReadonlyArray<PlatformGrant>,
  sessions: Sessions.Sessions["Type"],
  runtime: SessionRuntime.SessionRuntime["Type"]
): DesktopControl["Type"] => ({
  applyMonitors: (sessionId, monitors) =>
    Effect.gen(function* () {
      if (!grants.includes("desktops")) return yield* PlatformAccessDenied.notGranted(plugin, "desktops")
      const fail = (status: number, message: string) => new DesktopControlError({ sessionId, status, message })
      const actor = yield* Effect.serviceOption(Actor.CurrentActor)
      const as = Option.getOrElse(actor, () => Actor.system(`plugin:${plugin}`))
      const session = yield* sessions.get(sessionId).pipe(
        Effect.provideService(Actor.CurrentActor, as),
        Effect.mapError((e) => fail(e._tag === "NotFound" ? 404 : 403, e.message))
      )
      if (session.state !== "running") return yield* fail(409, `the session is ${session.state}, not running`)
      if (runtime.kind !== "local")
        return yield* fail(501, `the ${runtime.kind} runtime cannot change a session's monitors (local runtime only)`)
      const desktop = runtime.desktop(sessionId)
      if (!desktop) return yield* fail(409, "this host runs no desktop for the session")
      const listed = yield* Xrandr.apply(`:${desktop.display}`, monitors).pipe(
        Effect.mapError((e) => fail(500, e.message))
      )
      return listed.map((m) => ({ name: m.name, width: m.width, height: m.height, x: m.x, y: m.y, primary: m.primary }))
    })
})

/** The least length `IdentityModel.Password` accepts (read from the schema, so it follows the core). */
const passwordMinLength = (() => {
  const decode = Schema.decodeUnknownEither(IdentityModel.Password)
  for (let n = 1; n <= 256; n++) if (Either.isRight(decode("x".repeat(n)))) return n
  return 0
})()

/** A stored secret sealed by the SecretBox starts so (SecretBox.sealedPrefix). */
const sealedPattern = "v1.%"

/**
 * `snapshot` for plugins granted `posture`: fixed statements over the core's tables and settings (no input
 * reaches them) that return ids, counts, times and settings only.
 */
export const platformPosture = (
  plugin: string,
  grants: ReadonlyArray<PlatformGrant>,
  core: { readonly sql: SqlClient.SqlClient; readonly config: ServerConfig.ServerConfig["Type"] }
): PlatformPosture["Type"] => {
  const { sql, config } = core
  const snapshot = Effect.gen(function* () {
    const mfa = yield* sql<{ id: string }>`SELECT id FROM users WHERE totp_enabled AND NOT disabled ORDER BY id`
    const logins = yield* sql<{ id: string; username: string; created_at: Date; last_login: Date | null }>`
      SELECT u.id, u.username, u.created_at, GREATEST(
        (SELECT max(a.at) FROM login_attempts a WHERE lower(a.username) = lower(u.username) AND a.success),
        (SELECT max(l.at) FROM audit_log l WHERE l.actor_id = u.id AND l.action = 'auth.login' AND l.result = 'success')
      ) AS last_login
      FROM users u WHERE NOT u.disabled ORDER BY u.username`
    const keys = yield* sql<{ id: string; user_id: string }>`
      SELECT id, user_id FROM api_keys WHERE expires_at IS NULL AND revoked_at IS NULL ORDER BY id`
    const [unsealed] = yield* sql<{ n: string | number }>`SELECT
      (SELECT count(*) FROM webhooks WHERE secret_encrypted NOT LIKE ${sealedPattern})
      + (SELECT count(*) FROM integrations WHERE secrets_encrypted IS NOT NULL AND secrets_encrypted NOT LIKE ${sealedPattern})
      + (SELECT count(*) FROM plugins WHERE secrets IS NOT NULL AND secrets NOT LIKE ${sealedPattern})
      + (SELECT count(*) FROM users WHERE totp_secret IS NOT NULL AND totp_secret NOT LIKE ${sealedPattern}) AS n`
    const [database] = yield* sql<{ name: string }>`SELECT current_database() AS name`
    const plugins = yield* sql<{ id: string }>`SELECT id FROM plugins ORDER BY id`
    const pluginRoles: Array<{ plugin: string; coreTables: number }> = []
    for (const p of plugins) {
      const role = roleOf(p.id, database?.name ?? "")
      const [row] = yield* sql<{ n: string | number }>`
        SELECT count(*) AS n FROM pg_tables t
        WHERE t.schemaname = 'public' AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${role})
          AND has_table_privilege(${role}, quote_ident(t.schemaname) || '.' || quote_ident(t.tablename),
            'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')`
      pluginRoles.push({ plugin: p.id, coreTables: Number(row?.n ?? 0) })
    }
    const takenAt = new Date()
    const posture: PostureSnapshot = {
      takenAt,
      mfaUserIds: mfa.map((r) => r.id),
      passwordPolicy: { minScore: config.auth.passwordMinScore, minLength: passwordMinLength },
      auditRetentionDays: config.retention.auditDays ?? null,
      idleTimeoutMinutes: config.sessions.idleTimeoutSeconds / 60,
      secrets: {
        unsealed: Number(unsealed?.n ?? 0),
        keyConfigured: config.secretsKey !== undefined && Redacted.value(config.secretsKey).length > 0
      },
      lastLogins: logins.map((r) => ({
        userId: r.id,
        username: r.username,
        lastLogin: r.last_login === null ? null : new Date(r.last_login),
        createdAt: new Date(r.created_at)
      })),
      apiKeysWithoutExpiry: keys.map((k) => ({ id: k.id, userId: k.user_id })),
      pluginRoles
    }
    return posture
  }).pipe(Effect.orDie)
  return {
    snapshot: grants.includes("posture") ? snapshot : Effect.fail(PlatformAccessDenied.notGranted(plugin, "posture"))
  }
}
