/**
 * All core services as one Layer over a migrated database, built level by
 * level: foundation → repositories (the SQL) → services on repositories →
 * services on services → sessions. Features add their Live layer to the
 * level whose services it needs; the server and the test kit compose this.
 * The `HookRunner` comes from outside: `HookRunnerNone` for the core alone,
 * the plugin kernel's runner otherwise.
 *
 * `make(replace)` puts a layer of the caller's in place of core services
 * (the test kit's `TestPlatform.make({ replace })`): the replacement is
 * merged over every level, so each layer above the real one is built with
 * the replacement, and so are the routes that read the final context. The
 * real layer is still built (below, unused). The replacement is built once,
 * on the foundation: it may use `SqlClient`, `ServerConfig` and the
 * foundation's services, not the services it stands among.
 */
import { Effect, Layer } from "effect"
import { AuditLogLive } from "./audit/AuditLog.ts"
import { DirectoryLive } from "./directory/Directory.ts"
import { EgressPolicyLive } from "./EgressPolicy.ts"
import { EventOutboxLive } from "./events/EventOutbox.ts"
import { BlobStoreLive } from "./files/BlobStore.ts"
import { FilesLive } from "./files/Files.ts"
import { ApiKeyRepoLive } from "./identity/ApiKeyRepo.ts"
import { ApiKeysLive } from "./identity/ApiKeys.ts"
import { AuthenticatorLive, AuthLive } from "./identity/Auth.ts"
import { GroupRepoLive } from "./identity/GroupRepo.ts"
import { GroupsLive } from "./identity/Groups.ts"
import { PermissionsLive } from "./identity/Permissions.ts"
import { PrincipalCacheLive } from "./identity/PrincipalCache.ts"
import { UserRepoLive } from "./identity/UserRepo.ts"
import { ensureAdmin, UsersLive } from "./identity/Users.ts"
import * as StarterTemplates from "./templates/StarterTemplates.ts"
import { IntegrationDeliveriesLive } from "./integrations/IntegrationDeliveries.ts"
import { IntegrationDispatcherLive } from "./integrations/IntegrationDispatcher.ts"
import { IntegrationsLive } from "./integrations/Integrations.ts"
import { QuotaRepoLive } from "./quotas/QuotaRepo.ts"
import { QuotasLive } from "./quotas/Quotas.ts"
import { RetentionLive } from "./retention/Retention.ts"
import { SecretBoxLive } from "./secrets/SecretBox.ts"
import { SessionOrchestratorLive } from "./sessions/SessionOrchestrator.ts"
import { SessionRepoLive } from "./sessions/SessionRepo.ts"
import { SessionRuntimeLive } from "./sessions/SessionRuntimeLive.ts"
import { SessionsLive } from "./sessions/Sessions.ts"
import { SettingsLive } from "./settings/Settings.ts"
import { TemplateRepoLive } from "./templates/TemplateRepo.ts"
import { TemplatesLive } from "./templates/Templates.ts"
import { WebhookDispatcherLive } from "./webhooks/WebhookDispatcher.ts"
import { WebhookRepoLive } from "./webhooks/WebhookRepo.ts"
import { WebhooksLive } from "./webhooks/Webhooks.ts"

/** Services every feature may depend on. */
export const FoundationLive = Layer.mergeAll(
  SecretBoxLive.pipe(Layer.provideMerge(Layer.mergeAll(AuditLogLive, EventOutboxLive, SettingsLive))),
  EgressPolicyLive,
  PrincipalCacheLive
)

export type FoundationServices = Layer.Layer.Success<typeof FoundationLive>

/** The SQL of each feature: services read and write through these, never through an SqlClient of their own. */
export const RepositoriesLive = Layer.mergeAll(
  SessionRepoLive,
  TemplateRepoLive,
  QuotaRepoLive,
  UserRepoLive,
  GroupRepoLive,
  ApiKeyRepoLive,
  WebhookRepoLive
)

/** Services that need only repositories and the foundation (and the first-boot admin). */
const BaseServices = Layer.mergeAll(
  UsersLive,
  // The boot that creates the first admin also fills the empty catalog.
  Layer.effectDiscard(Effect.flatMap(ensureAdmin, (firstBoot) => (firstBoot ? StarterTemplates.install : Effect.void))),
  TemplatesLive,
  QuotasLive,
  PermissionsLive,
  SessionRuntimeLive,
  BlobStoreLive,
  WebhookDispatcherLive,
  IntegrationsLive,
  DirectoryLive,
  RetentionLive
)

/** Services built on the base services. */
const ComposedServices = Layer.mergeAll(
  AuthLive,
  AuthenticatorLive,
  ApiKeysLive,
  GroupsLive,
  SessionOrchestratorLive,
  FilesLive,
  WebhooksLive,
  IntegrationDispatcherLive,
  IntegrationDeliveriesLive
)

/** The core with `replace`'s services in place of the real ones (`Layer.empty`: the real core). */
export const make = <E = never, RIn = never>(replace: Layer.Layer<never, E, RIn>) => {
  /** `below` with the replacement's services winning over its own. */
  const over = <A, E1, R1>(below: Layer.Layer<A, E1, R1>) => replace.pipe(Layer.provideMerge(below))
  const foundation = over(FoundationLive)
  const repositories = over(RepositoriesLive.pipe(Layer.provideMerge(foundation)))
  const base = over(BaseServices.pipe(Layer.provideMerge(repositories)))
  const composed = over(ComposedServices.pipe(Layer.provideMerge(base)))
  return over(SessionsLive.pipe(Layer.provideMerge(composed)))
}

export const CoreLive = make(Layer.empty)

export type CoreServices = Layer.Layer.Success<typeof CoreLive>
