/**
 * The host's side of `Platform.ts`: the core's Kubernetes API client on the
 * server's `sessions.kubernetes` config (kubeconfig, `apiServer`, or the
 * in-cluster service account, as the `kubernetes` runtime uses), made on
 * first use so a plugin enables without a cluster; and session hibernation
 * through the core's `Sessions`. Each is handed to a plugin only with its
 * grant; otherwise every call is `PlatformAccessDenied`.
 */
import {
  Actor,
  type AuditLog,
  Auth,
  KubeClient,
  type ServerConfig,
  type SessionModel,
  type SessionRuntime,
  type Sessions,
  UserRepo,
  Xrandr
} from "@streamspace/core"
import { Effect, Option } from "effect"
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

/** An API path: absolute, no scheme or authority, no dot segments; it can only name a resource of that server. */
const API_PATH = /^\/(?!\/)[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]*$/

export const kubernetes = (
  plugin: string,
  grants: ReadonlyArray<PlatformGrant>,
  config: ServerConfig.ServerConfig["Type"]
): Kubernetes["Type"] => {
  const denied = new PlatformAccessDenied({
    plugin,
    grant: "kubernetes",
    message: `plugin ${plugin} was not granted "kubernetes" in its manifest`
  })
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
    : Effect.fail(
        new PlatformAccessDenied({
          plugin,
          grant: "sessions",
          message: `plugin ${plugin} was not granted "sessions" in its manifest`
        })
      )
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
      if (!grants.includes("desktops"))
        return yield* new PlatformAccessDenied({
          plugin,
          grant: "desktops",
          message: `plugin ${plugin} was not granted "desktops" in its manifest`
        })
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
