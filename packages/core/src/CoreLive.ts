/**
 * All core services as one Layer over a migrated database. Features add
 * their Live layer here; the server and the test kit compose this.
 */
import { Layer } from "effect"
import { AuditLogLive } from "./audit/AuditLog.ts"
import { EventOutboxLive } from "./events/EventOutbox.ts"
import { AuthenticatorRefuseAll } from "./identity/Authenticator.ts"

/** Services every feature may depend on. */
export const FoundationLive = Layer.mergeAll(AuditLogLive, EventOutboxLive)

/** Feature services, each built on the foundation (and on each other, via provideMerge). */
export const CoreLive = Layer.mergeAll(AuthenticatorRefuseAll).pipe(Layer.provideMerge(FoundationLive))
