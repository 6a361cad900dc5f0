/**
 * A small typed client for the Kubernetes API over fetch: credentials from
 * a kubeconfig (token, client certificate, CA, insecure-skip-tls-verify) or
 * the in-cluster service account, JSON requests, and line-delimited watch
 * streams. Errors say whether retrying may help (API down, 5xx, 409, 429).
 */
import { Data, Effect, Stream } from "effect"
import * as Fs from "node:fs"
import * as Yaml from "yaml"

export interface KubeAuth {
  readonly server: string
  readonly token?: string
  readonly ca?: string
  readonly cert?: string
  readonly key?: string
  readonly insecure?: boolean
}

export class KubeError extends Data.TaggedError("KubeError")<{
  readonly status: number | null
  readonly reason: string
  readonly message: string
  readonly retryable: boolean
  /** The API's Status object (or the body) of a refused request. */
  readonly details?: unknown
}> {}

const decode = (data: string | undefined) => (data ? Buffer.from(data, "base64").toString("utf8") : undefined)

interface KubeConfigFile {
  readonly "current-context"?: string
  readonly contexts?: ReadonlyArray<{
    readonly name: string
    readonly context: { readonly cluster: string; readonly user: string }
  }>
  readonly clusters?: ReadonlyArray<{
    readonly name: string
    readonly cluster: {
      readonly server: string
      readonly "certificate-authority-data"?: string
      readonly "certificate-authority"?: string
      readonly "insecure-skip-tls-verify"?: boolean
    }
  }>
  readonly users?: ReadonlyArray<{
    readonly name: string
    readonly user: {
      readonly token?: string
      readonly "client-certificate-data"?: string
      readonly "client-key-data"?: string
    }
  }>
}

export const fromKubeconfig = (path: string): KubeAuth => {
  const file = Yaml.parse(Fs.readFileSync(path, "utf8")) as KubeConfigFile
  const ctx = file.contexts?.find((c) => c.name === file["current-context"]) ?? file.contexts?.[0]
  const cluster = file.clusters?.find((c) => c.name === ctx?.context.cluster)?.cluster
  const user = file.users?.find((u) => u.name === ctx?.context.user)?.user
  if (!cluster) throw new Error(`${path}: no cluster for the current context`)
  const ca =
    decode(cluster["certificate-authority-data"]) ??
    (cluster["certificate-authority"] ? Fs.readFileSync(cluster["certificate-authority"], "utf8") : undefined)
  return {
    server: cluster.server,
    ...(user?.token ? { token: user.token } : {}),
    ...(ca ? { ca } : {}),
    ...(user?.["client-certificate-data"] ? { cert: decode(user["client-certificate-data"])! } : {}),
    ...(user?.["client-key-data"] ? { key: decode(user["client-key-data"])! } : {}),
    ...(cluster["insecure-skip-tls-verify"] ? { insecure: true } : {})
  }
}

const serviceAccount = "/var/run/secrets/kubernetes.io/serviceaccount"

export const inCluster = (): KubeAuth => {
  const host = process.env["KUBERNETES_SERVICE_HOST"]
  const port = process.env["KUBERNETES_SERVICE_PORT"] ?? "443"
  if (!host) throw new Error("not in a cluster: KUBERNETES_SERVICE_HOST is unset and no kubeconfig is configured")
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    token: Fs.readFileSync(`${serviceAccount}/token`, "utf8").trim(),
    ca: Fs.readFileSync(`${serviceAccount}/ca.crt`, "utf8")
  }
}

/**
 * The credentials the `sessions.kubernetes` config names: its kubeconfig, else its `apiServer` (no
 * credentials), else the in-cluster service account; `apiServer` also overrides a kubeconfig's server.
 * Throws (with the reason) when none applies.
 */
export const authFrom = (k8s: {
  readonly kubeconfig?: string | undefined
  readonly apiServer?: string | undefined
}) => {
  const base: KubeAuth = k8s.kubeconfig
    ? fromKubeconfig(k8s.kubeconfig)
    : k8s.apiServer
      ? { server: k8s.apiServer }
      : inCluster()
  return k8s.apiServer ? { ...base, server: k8s.apiServer } : base
}

export interface KubeStatus {
  readonly kind?: string
  readonly reason?: string
  readonly message?: string
  readonly code?: number
}

export const make = (auth: KubeAuth) => {
  const base = auth.server.replace(/\/$/, "")
  const tls =
    auth.ca || auth.cert || auth.insecure
      ? {
          tls: {
            ...(auth.ca ? { ca: auth.ca } : {}),
            ...(auth.cert ? { cert: auth.cert } : {}),
            ...(auth.key ? { key: auth.key } : {}),
            ...(auth.insecure ? { rejectUnauthorized: false } : {})
          }
        }
      : {}
  const headers = (contentType?: string): Record<string, string> => ({
    accept: "application/json",
    ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
    ...(contentType ? { "content-type": contentType } : {})
  })

  const request = <A>(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json"
  ): Effect.Effect<A, KubeError> =>
    Effect.tryPromise({
      try: (signal) =>
        fetch(`${base}${path}`, {
          method,
          // A redirect could lead the credentials to another host.
          redirect: "manual",
          headers: headers(body === undefined ? undefined : contentType),
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal,
          ...tls
        }),
      catch: (e) =>
        new KubeError({
          status: null,
          reason: "Unreachable",
          message: `${method} ${path}: ${e instanceof Error ? e.message : String(e)}`,
          retryable: true
        })
    }).pipe(
      Effect.flatMap((res) =>
        Effect.tryPromise({
          try: () => res.text(),
          catch: (e) => new KubeError({ status: res.status, reason: "Unreadable", message: String(e), retryable: true })
        }).pipe(
          Effect.flatMap((text) => {
            let json: unknown = {}
            try {
              json = text.length > 0 ? JSON.parse(text) : {}
            } catch {
              if (res.ok)
                return Effect.fail(
                  new KubeError({
                    status: res.status,
                    reason: "NotJson",
                    message: `${method} ${path}: the answer is not JSON`,
                    retryable: false
                  })
                )
              json = { message: text.slice(0, 200) }
            }
            if (res.ok) return Effect.succeed(json as A)
            const status = json as KubeStatus
            return Effect.fail(
              new KubeError({
                status: res.status,
                reason: status.reason ?? `HTTP${res.status}`,
                message: `${method} ${path}: ${status.message ?? res.statusText}`,
                retryable: res.status >= 500 || res.status === 409 || res.status === 429,
                details: json
              })
            )
          })
        )
      ),
      Effect.timeout("30 seconds"),
      Effect.catchTag("TimeoutException", () =>
        Effect.fail(
          new KubeError({ status: null, reason: "Timeout", message: `${method} ${path}: timed out`, retryable: true })
        )
      )
    )

  /** A watch: each line of the chunked response is one watch event. Ends when the server closes it. */
  const watch = <E>(path: string): Stream.Stream<E, KubeError> =>
    Stream.unwrapScoped(
      Effect.gen(function* () {
        const controller = new AbortController()
        yield* Effect.addFinalizer(() => Effect.sync(() => controller.abort()))
        const res = yield* Effect.tryPromise({
          try: () => fetch(`${base}${path}`, { headers: headers(), signal: controller.signal, ...tls }),
          catch: (e) =>
            new KubeError({
              status: null,
              reason: "Unreachable",
              message: `watch ${path}: ${e instanceof Error ? e.message : String(e)}`,
              retryable: true
            })
        })
        if (!res.ok || !res.body) {
          const status = (yield* Effect.promise(() => res.json().catch(() => ({})))) as KubeStatus
          return yield* new KubeError({
            status: res.status,
            reason: status.reason ?? `HTTP${res.status}`,
            message: `watch ${path}: ${status.message ?? res.statusText}`,
            retryable: true
          })
        }
        return Stream.fromReadableStream(
          () => res.body!,
          (e) => new KubeError({ status: null, reason: "WatchBroken", message: String(e), retryable: true })
        ).pipe(
          Stream.decodeText(),
          Stream.splitLines,
          Stream.filter((line) => line.trim().length > 0),
          Stream.map((line) => JSON.parse(line) as E)
        )
      })
    )

  return { request, watch }
}

export type KubeClient = ReturnType<typeof make>
