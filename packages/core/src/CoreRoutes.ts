/**
 * Every core REST route, mounted by the server. Features add their route
 * lists here.
 */
import { adminStatsRoutes } from "./AdminStatsHttp.ts"
import { auditRoutes } from "./audit/AuditHttp.ts"
import { fileRoutes } from "./files/FilesHttp.ts"
import { identityRoutes } from "./identity/IdentityHttp.ts"
import { roleRoutes } from "./identity/RolesHttp.ts"
import { integrationRoutes } from "./integrations/IntegrationsHttp.ts"
import { platformRoutes } from "./PlatformHttp.ts"
import { quotaRoutes } from "./quotas/QuotasHttp.ts"
import { sessionRoutes } from "./sessions/SessionsHttp.ts"
import { templateRoutes } from "./templates/TemplatesHttp.ts"
import { webhookRoutes } from "./webhooks/WebhooksHttp.ts"

export const coreRoutes = [
  ...identityRoutes,
  ...templateRoutes,
  ...sessionRoutes,
  ...quotaRoutes,
  ...auditRoutes,
  ...webhookRoutes,
  ...fileRoutes,
  ...integrationRoutes,
  ...platformRoutes,
  ...adminStatsRoutes,
  ...roleRoutes
]
