/**
 * All core services as one Layer over a migrated database. Features add
 * their Live layer here; the server and the test kit compose this. The
 * `HookRunner` comes from outside: `HookRunnerNone` for the core alone, the
 * plugin kernel's runner otherwise.
 */
import { Layer } from "effect"
import { AuditLogLive } from "./audit/AuditLog.ts"
import { EventOutboxLive } from "./events/EventOutbox.ts"
import { BlobStoreLive } from "./files/BlobStore.ts"
import { FilesLive } from "./files/Files.ts"
import { IdentityLive } from "./identity/IdentityLive.ts"
import { DirectoryLive } from "./directory/Directory.ts"
import { IntegrationDeliveriesLive } from "./integrations/IntegrationDeliveries.ts"
import { IntegrationDispatcherLive } from "./integrations/IntegrationDispatcher.ts"
import { IntegrationsLive } from "./integrations/Integrations.ts"
import { QuotasLive } from "./quotas/Quotas.ts"
import { RetentionLive } from "./retention/Retention.ts"
import { SessionOrchestratorLive } from "./sessions/SessionOrchestrator.ts"
import { SessionRuntimeLive } from "./sessions/SessionRuntimeLive.ts"
import { SessionsLive } from "./sessions/Sessions.ts"
import { SecretBoxLive } from "./secrets/SecretBox.ts"
import { SettingsLive } from "./settings/Settings.ts"
import { TemplatesLive } from "./templates/Templates.ts"
import { WebhookDispatcherLive } from "./webhooks/WebhookDispatcher.ts"
import { WebhooksLive } from "./webhooks/Webhooks.ts"

/** Services every feature may depend on. */
export const FoundationLive = SecretBoxLive.pipe(Layer.provideMerge(Layer.mergeAll(AuditLogLive, EventOutboxLive, SettingsLive)))

const WebhooksFeature = WebhooksLive.pipe(Layer.provideMerge(WebhookDispatcherLive))

const SessionsFeature = SessionsLive.pipe(
  Layer.provideMerge(SessionOrchestratorLive),
  Layer.provideMerge(SessionRuntimeLive),
  Layer.provideMerge(Layer.mergeAll(TemplatesLive, QuotasLive))
)

/** Feature services, each built on the foundation (and on each other, via provideMerge). */
const FilesFeature = FilesLive.pipe(Layer.provideMerge(BlobStoreLive))

const IntegrationsFeature = Layer.mergeAll(IntegrationDispatcherLive, IntegrationDeliveriesLive).pipe(Layer.provideMerge(IntegrationsLive))

export const CoreLive = Layer.mergeAll(FilesFeature, WebhooksFeature, IntegrationsFeature, DirectoryLive, RetentionLive).pipe(
  Layer.provideMerge(SessionsFeature),
  Layer.provideMerge(IdentityLive),
  Layer.provideMerge(FoundationLive)
)

export type CoreServices = Layer.Layer.Success<typeof CoreLive>
