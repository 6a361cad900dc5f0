/**
 * The whole server configuration: one Schema, decoded once at start-up from
 * `streamspace.config.json|yaml` overlaid with environment variables (see
 * `ConfigSources` in @streamspace/server). Services read their slice through
 * the `ServerConfig` tag; nothing reads `process.env` directly.
 */
import { Context, Layer, Schema } from "effect"
import { parseAllowEntry } from "./internal/AddressRanges.ts"

/** 0 asks the OS for a free port (the URL printed at start-up shows which). */
const Port = Schema.Int.pipe(
  Schema.between(0, 65535),
  Schema.annotations({ message: () => ({ message: "expected an integer port between 0 and 65535", override: true }) })
)
const PositiveInt = Schema.Int.pipe(
  Schema.positive(),
  Schema.annotations({ message: () => ({ message: "expected a positive integer", override: true }) })
)
const Secret = Schema.Redacted(Schema.String.pipe(Schema.minLength(1)))

/** One `egress.allow` entry (see `EgressPolicy`). */
const EgressAllowEntry = Schema.String.pipe(
  Schema.filter((entry) => parseAllowEntry(entry) !== undefined, {
    message: () => "a CIDR (10.0.0.0/8), an address, a host name or *.domain"
  })
)

export const LogLevel = Schema.Literal("trace", "debug", "info", "warning", "error")
export type LogLevel = typeof LogLevel.Type

export const KubernetesConfig = Schema.Struct({
  namespace: Schema.optionalWith(Schema.String, { default: () => "streamspace" }),
  /** Path to a kubeconfig file; when absent the in-cluster service account is used. */
  kubeconfig: Schema.optional(Schema.String),
  /** Overrides the API server URL (kubeconfig or in-cluster otherwise). */
  apiServer: Schema.optional(Schema.String),
  storageClass: Schema.optional(Schema.String),
  homeSize: Schema.optionalWith(Schema.String, { default: () => "5Gi" }),
  imagePullSecrets: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  labels: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), {
    default: () => ({})
  }),
  resyncSeconds: Schema.optionalWith(PositiveInt, { default: () => 300 })
})

export const SessionsConfig = Schema.Struct({
  /**
   * `auto` (default): `local` when TigerVNC's Xvnc is on the PATH, else `simulated` (resolved once at start).
   * `local`: a real Xvnc desktop per session on this machine (refuses to start without Xvnc).
   */
  runtime: Schema.optionalWith(Schema.Literal("auto", "simulated", "local", "kubernetes"), {
    default: () => "auto" as const
  }),
  /** Seconds without heartbeat or VNC connection before a running session hibernates. */
  idleTimeoutSeconds: Schema.optionalWith(PositiveInt, { default: () => 1800 }),
  /** A session the runtime has not started within this many seconds fails. */
  startTimeoutSeconds: Schema.optionalWith(PositiveInt, { default: () => 300 }),
  /** Delay the simulated runtime waits before a state change lands. */
  simulatedDelayMs: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 500 }),
  kubernetes: Schema.optionalWith(KubernetesConfig, { default: () => Schema.decodeSync(KubernetesConfig)({}) })
})

export const AuthConfig = Schema.Struct({
  /** Signs access tokens. Generated and stored in the database on first boot when absent. */
  jwtSecret: Schema.optional(Secret),
  accessTokenTtlSeconds: Schema.optionalWith(PositiveInt, { default: () => 900 }),
  refreshTokenTtlSeconds: Schema.optionalWith(PositiveInt, { default: () => 30 * 24 * 3600 }),
  /** First-boot admin password; a random one is generated and printed once when absent. */
  adminPassword: Schema.optional(Secret),
  /** Failed logins per account since its last success within the window before that account is throttled. */
  maxFailedLogins: Schema.optionalWith(PositiveInt, { default: () => 5 }),
  failedLoginWindowSeconds: Schema.optionalWith(PositiveInt, { default: () => 900 }),
  /** Failed logins for unknown usernames from one client IP within the window before that IP is throttled (sprays). */
  maxUnknownUserFailuresPerIp: Schema.optionalWith(PositiveInt, { default: () => 50 }),
  /** Least zxcvbn score (0–4) a new password must reach. */
  passwordMinScore: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 4)), { default: () => 3 }),
  /** How long a VNC ticket (POST /api/sessions/:id/vnc-ticket) may wait to be used, once. */
  vncTicketTtlSeconds: Schema.optionalWith(PositiveInt, { default: () => 30 }),
  /**
   * How long a replica acts on what it read about a caller (roles, permissions, an API key) before reading
   * again (0: on every request). Changes through the API take effect on the next request on every replica;
   * this bounds a change whose notice was lost, or made in the database directly.
   */
  principalCacheMs: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 60_000)), { default: () => 2000 })
})

export const StorageConfig = Schema.Struct({
  kind: Schema.optionalWith(Schema.Literal("local", "s3"), { default: () => "local" as const }),
  /** Local blob directory; defaults to `<dataDir>/blobs`. */
  dir: Schema.optional(Schema.String),
  maxUploadBytes: Schema.optionalWith(PositiveInt, { default: () => 100 * 1024 * 1024 }),
  s3: Schema.optional(
    Schema.Struct({
      endpoint: Schema.String,
      bucket: Schema.String,
      region: Schema.optionalWith(Schema.String, { default: () => "us-east-1" }),
      accessKeyId: Schema.String,
      secretAccessKey: Secret
    })
  )
})

/** How an outgoing delivery (webhook, notification) is retried. */
export const DeliveryPolicy = Schema.Struct({
  /** Attempts before a delivery is dead (an admin can replay it). */
  maxAttempts: Schema.optionalWith(PositiveInt, { default: () => 8 }),
  /** First retry delay; doubles each attempt, capped at an hour. */
  backoffBaseMs: Schema.optionalWith(PositiveInt, { default: () => 2000 }),
  timeoutMs: Schema.optionalWith(PositiveInt, { default: () => 10_000 })
})
export type DeliveryPolicy = typeof DeliveryPolicy.Type

export const WebhooksConfig = DeliveryPolicy
/** Deliveries of integrations (Slack, PagerDuty, email… through notification plugins). */
export const IntegrationsConfig = DeliveryPolicy

export const RetentionConfig = Schema.Struct({
  /** Days to keep delivered webhook and integration deliveries, outbox events every reader has passed, job runs, login attempts and expired refresh tokens. */
  days: Schema.optionalWith(PositiveInt, { default: () => 30 }),
  /** Days to keep audit entries; unset keeps them for ever. */
  auditDays: Schema.optional(PositiveInt),
  intervalMinutes: Schema.optionalWith(PositiveInt, { default: () => 60 })
})

export const PluginsConfig = Schema.Struct({
  /** Plugin ids installed and enabled on first boot; afterwards the admin decides. */
  enabled: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  /** Folder with one sub-folder per external plugin (package.json whose main exports a plugin). */
  dir: Schema.optional(Schema.String),
  enableTimeoutMs: Schema.optionalWith(PositiveInt, { default: () => 10_000 })
})

export const ServerConfigSchema = Schema.Struct({
  host: Schema.optionalWith(Schema.String, { default: () => "127.0.0.1" }),
  port: Schema.optionalWith(Port, { default: () => 8080 }),
  /** The URL users reach the server at; defaults to http://<host>:<port>. */
  publicUrl: Schema.optional(Schema.String),
  /** PostgreSQL URL. When absent, embedded PGlite under `<dataDir>/pglite` is used. */
  databaseUrl: Schema.optional(Secret),
  dataDir: Schema.optionalWith(Schema.String, { default: () => "./data" }),
  /** Encrypts secrets at rest (plugin secrets, integration secrets). Generated on first boot when absent. */
  secretsKey: Schema.optional(Secret),
  log: Schema.optionalWith(
    Schema.Struct({
      level: Schema.optionalWith(LogLevel, { default: () => "info" as const }),
      format: Schema.optionalWith(Schema.Literal("auto", "json", "pretty"), { default: () => "auto" as const })
    }),
    { default: () => ({ level: "info" as const, format: "auto" as const }) }
  ),
  shutdownTimeoutMs: Schema.optionalWith(PositiveInt, { default: () => 10_000 }),
  /** Per-caller request budgets by route class, and login throttling; turn off only behind a gateway that limits. */
  rateLimit: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /**
   * CIDRs of reverse proxies whose `X-Forwarded-For` is believed; the client
   * IP is then the right-most address not in this list. Empty: the socket
   * address is the client.
   */
  trustedProxies: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  /**
   * Outgoing HTTP (webhooks, integrations, plugins' HTTP client) refuses
   * loopback, link-local and private destinations unless a CIDR or host here
   * allows them.
   */
  egress: Schema.optionalWith(
    Schema.Struct({ allow: Schema.optionalWith(Schema.Array(EgressAllowEntry), { default: () => [] }) }),
    { default: () => ({ allow: [] }) }
  ),
  auth: Schema.optionalWith(AuthConfig, { default: () => Schema.decodeSync(AuthConfig)({}) }),
  sessions: Schema.optionalWith(SessionsConfig, { default: () => Schema.decodeSync(SessionsConfig)({}) }),
  storage: Schema.optionalWith(StorageConfig, { default: () => Schema.decodeSync(StorageConfig)({}) }),
  webhooks: Schema.optionalWith(WebhooksConfig, { default: () => Schema.decodeSync(WebhooksConfig)({}) }),
  integrations: Schema.optionalWith(IntegrationsConfig, { default: () => Schema.decodeSync(IntegrationsConfig)({}) }),
  retention: Schema.optionalWith(RetentionConfig, { default: () => Schema.decodeSync(RetentionConfig)({}) }),
  plugins: Schema.optionalWith(PluginsConfig, { default: () => Schema.decodeSync(PluginsConfig)({}) })
})

export type ServerConfigShape = typeof ServerConfigSchema.Type
export type ServerConfigInput = typeof ServerConfigSchema.Encoded

export class ServerConfig extends Context.Tag("@streamspace/core/ServerConfig")<ServerConfig, ServerConfigShape>() {}

/** Decodes a (partial) plain config, filling defaults; throws on invalid input. For tests and tools. */
export const make = (input: ServerConfigInput = {}): ServerConfigShape =>
  Schema.decodeUnknownSync(ServerConfigSchema)(input)

export const layer = (config: ServerConfigShape): Layer.Layer<ServerConfig> => Layer.succeed(ServerConfig, config)
