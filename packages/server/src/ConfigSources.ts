/**
 * Where the server config comes from: an optional file, overlaid with
 * environment variables, decoded by `ServerConfigSchema`. Every problem is
 * reported as one line naming the key (and the env var or file it came from),
 * what was expected and what was given.
 */
import { ServerConfig } from "@streamspace/core"
import { Data, Effect, Either, ParseResult, Schema } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Yaml from "yaml"

type EnvKind = "string" | "int" | "bool" | "list"

interface EnvBinding {
  readonly env: string
  readonly path: ReadonlyArray<string>
  readonly kind: EnvKind
  readonly doc: string
  readonly secret?: boolean
}

const bind = (env: string, path: string, kind: EnvKind, doc: string, secret = false): EnvBinding => ({
  env,
  path: path.split("."),
  kind,
  doc,
  secret
})

/** The environment variables the server reads, in README order. */
export const envBindings: ReadonlyArray<EnvBinding> = [
  bind("HOST", "host", "string", "Interface to listen on (default 127.0.0.1; 0.0.0.0 in containers)"),
  bind("PORT", "port", "int", "HTTP port (default 8080)"),
  bind("STREAMSPACE_PUBLIC_URL", "publicUrl", "string", "URL users reach the server at"),
  bind("DATABASE_URL", "databaseUrl", "string", "PostgreSQL URL; unset = embedded PGlite under <dataDir>/pglite", true),
  bind("STREAMSPACE_DATA_DIR", "dataDir", "string", "Data directory (default ./data)"),
  bind(
    "STREAMSPACE_SECRETS_KEY",
    "secretsKey",
    "string",
    "Key that encrypts secrets at rest (generated on first boot)",
    true
  ),
  bind("STREAMSPACE_LOG_LEVEL", "log.level", "string", "trace, debug, info (default), warning, error"),
  bind(
    "STREAMSPACE_LOG_FORMAT",
    "log.format",
    "string",
    "auto (default: pretty on a TTY, JSON otherwise), json, pretty"
  ),
  bind(
    "STREAMSPACE_SHUTDOWN_TIMEOUT_MS",
    "shutdownTimeoutMs",
    "int",
    "How long in-flight requests may finish on shutdown (default 10000)"
  ),
  bind(
    "STREAMSPACE_RATE_LIMIT",
    "rateLimit",
    "bool",
    "Per-caller request budgets (default true; false only behind a limiting gateway)"
  ),
  bind(
    "STREAMSPACE_TRUSTED_PROXIES",
    "trustedProxies",
    "list",
    "Comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (default: none)"
  ),
  bind(
    "STREAMSPACE_EGRESS_ALLOW",
    "egress.allow",
    "list",
    "Comma-separated CIDRs, hosts or *.domain that webhooks, integrations, SMTP relays and plugins may reach although private or loopback (default: none)"
  ),
  bind(
    "STREAMSPACE_JWT_SECRET",
    "auth.jwtSecret",
    "string",
    "Signs access tokens (generated and stored on first boot)",
    true
  ),
  bind(
    "STREAMSPACE_ACCESS_TOKEN_TTL_SECONDS",
    "auth.accessTokenTtlSeconds",
    "int",
    "Access token lifetime (default 900)"
  ),
  bind(
    "STREAMSPACE_REFRESH_TOKEN_TTL_SECONDS",
    "auth.refreshTokenTtlSeconds",
    "int",
    "Refresh token lifetime (default 30 days)"
  ),
  bind(
    "STREAMSPACE_ADMIN_PASSWORD",
    "auth.adminPassword",
    "string",
    "First-boot admin password (random and printed once when unset)",
    true
  ),
  bind(
    "SESSION_RUNTIME",
    "sessions.runtime",
    "string",
    "auto (default: local when Xvnc is on the PATH, else simulated), local, simulated or kubernetes"
  ),
  bind(
    "STREAMSPACE_IDLE_TIMEOUT_SECONDS",
    "sessions.idleTimeoutSeconds",
    "int",
    "Idle seconds before a session hibernates (default 1800)"
  ),
  bind(
    "STREAMSPACE_K8S_NAMESPACE",
    "sessions.kubernetes.namespace",
    "string",
    "Namespace for session workloads (default streamspace)"
  ),
  bind(
    "KUBECONFIG",
    "sessions.kubernetes.kubeconfig",
    "string",
    "kubeconfig file (in-cluster service account when unset)"
  ),
  bind("STREAMSPACE_K8S_STORAGE_CLASS", "sessions.kubernetes.storageClass", "string", "StorageClass of home volumes"),
  bind("STREAMSPACE_STORAGE_KIND", "storage.kind", "string", "Blob storage: local (default) or s3"),
  bind("STREAMSPACE_MAX_UPLOAD_BYTES", "storage.maxUploadBytes", "int", "Largest accepted upload (default 100 MiB)"),
  bind(
    "STREAMSPACE_WEBHOOK_MAX_ATTEMPTS",
    "webhooks.maxAttempts",
    "int",
    "Attempts before a webhook delivery is dead (default 8; an admin can replay it)"
  ),
  bind(
    "STREAMSPACE_INTEGRATION_MAX_ATTEMPTS",
    "integrations.maxAttempts",
    "int",
    "Attempts before a notification delivery is dead (default 8; an admin can replay it)"
  ),
  bind(
    "STREAMSPACE_RETENTION_DAYS",
    "retention.days",
    "int",
    "Days to keep delivered deliveries, passed events, job runs, login attempts, expired refresh tokens (default 30)"
  ),
  bind(
    "STREAMSPACE_AUDIT_RETENTION_DAYS",
    "retention.auditDays",
    "int",
    "Days to keep audit entries (default: for ever)"
  ),
  bind("STREAMSPACE_PLUGINS", "plugins.enabled", "list", "Comma-separated plugin ids enabled on first boot"),
  bind("STREAMSPACE_PLUGINS_DIR", "plugins.dir", "string", "Folder of external plugins")
]

export class ConfigError extends Data.TaggedError("ConfigError")<{ readonly problems: ReadonlyArray<string> }> {
  override get message() {
    return this.problems.join("\n")
  }
}

type Json = { [key: string]: unknown }

const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const setPath = (target: Json, path: ReadonlyArray<string>, value: unknown) => {
  let node = target
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value
      return
    }
    const next = node[key]
    node = isRecord(next) ? next : ((node[key] = {}) as Json)
  })
}

const fromEnv = (kind: EnvKind, raw: string): unknown => {
  switch (kind) {
    case "string":
      return raw
    case "int":
      return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw
    case "bool":
      return /^(true|1|yes|on)$/i.test(raw.trim()) ? true : /^(false|0|no|off)$/i.test(raw.trim()) ? false : raw
    case "list":
      return raw
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
  }
}

/**
 * One problem per key: optional fields and literal unions report several
 * issues for one value ("Expected undefined", one per literal); merge them,
 * and drop a parent's issue when a child key already explains it.
 */
const describeIssues = (issues: ReadonlyArray<ParseResult.ArrayFormatterIssue>) => {
  const byKey = new Map<string, Array<string>>()
  for (const issue of issues) {
    const key = issue.path.join(".")
    const message = issue.message.replace(/, actual [\s\S]*$/, "")
    if (message === "Expected undefined" && issues.some((i) => i !== issue && i.path.join(".") === key)) continue
    const list = byKey.get(key) ?? []
    if (!list.includes(message)) list.push(message)
    byKey.set(key, list)
  }
  const keys = [...byKey.keys()]
  return keys
    .filter((key) => !keys.some((other) => other !== key && key !== "" && other.startsWith(`${key}.`)))
    .map((key) => {
      const messages = byKey.get(key)!
      const literals = messages.filter((m) => /^Expected ".*"$/.test(m)).map((m) => m.slice("Expected ".length))
      const rest = messages.filter((m) => !/^Expected ".*"$/.test(m))
      const parts = [...(literals.length > 0 ? [`expected one of ${literals.join(", ")}`] : []), ...rest]
      return {
        key: key === "" ? "(top level)" : key,
        expected: parts
          .join("; ")
          .replace(/^Expected/, "expected")
          .replace(/^[Ii]s unexpected, expected: /, "unknown key; allowed keys: ")
      }
    })
}

const configFileCandidates = ["streamspace.config.json", "streamspace.config.yaml", "streamspace.config.yml"]

const readFile = (file: string): Effect.Effect<Json, ConfigError> =>
  Effect.try({
    try: () => {
      const text = Fs.readFileSync(file, "utf8")
      const parsed: unknown = file.endsWith(".json") ? JSON.parse(text) : Yaml.parse(text)
      if (parsed !== null && parsed !== undefined && !isRecord(parsed))
        throw new Error("the top level must be an object")
      return (parsed ?? {}) as Json
    },
    catch: (e) =>
      new ConfigError({ problems: [`${file}: cannot read config (${e instanceof Error ? e.message : String(e)})`] })
  })

export interface LoadOptions {
  readonly env?: Record<string, string | undefined>
  readonly cwd?: string
}

/**
 * Loads `STREAMSPACE_CONFIG` (or the first `streamspace.config.{json,yaml,yml}`
 * in cwd), overlays the environment and decodes. Fails with one line per problem.
 */
export const load = (options: LoadOptions = {}): Effect.Effect<ServerConfig.ServerConfigShape, ConfigError> =>
  Effect.gen(function* () {
    const env = options.env ?? process.env
    const cwd = options.cwd ?? process.cwd()
    const explicit = env.STREAMSPACE_CONFIG
    const file = explicit
      ? Path.resolve(cwd, explicit)
      : configFileCandidates.map((f) => Path.join(cwd, f)).find((f) => Fs.existsSync(f))
    const raw: Json = file ? yield* readFile(file) : {}
    const origin = new Map<string, string>()
    for (const b of envBindings) {
      const value = env[b.env]
      if (value === undefined || value === "") continue
      setPath(raw, b.path, fromEnv(b.kind, value))
      origin.set(b.path.join("."), b.env)
    }
    const decoded = Schema.decodeUnknownEither(ServerConfig.ServerConfigSchema, {
      errors: "all",
      onExcessProperty: "error"
    })(raw)
    if (Either.isRight(decoded)) return decoded.right
    const problems = describeIssues(ParseResult.ArrayFormatter.formatErrorSync(decoded.left)).map(
      ({ key, expected }) => {
        const source = origin.get(key)
        const where = source ? `${source} (config key ${key})` : file ? `${key} in ${Path.basename(file)}` : key
        const given = source ? `, given ${JSON.stringify(env[source])}` : ""
        return `${where}: ${expected}${given}`
      }
    )
    return yield* new ConfigError({ problems })
  })
