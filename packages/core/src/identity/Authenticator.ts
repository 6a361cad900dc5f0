/**
 * Turns a bearer credential (access token or API key) into an `Actor`. The
 * HTTP edge calls it once per request; identity provides the Live layer.
 * A credential that is wrong is `Unauthorized` (401); a database that cannot
 * be asked is `ServiceUnavailable` (503 with Retry-After): clients drop their
 * tokens on a 401, so an outage must never look like one.
 */
import { Context, type Effect } from "effect"
import type { Actor } from "../Actor.ts"
import type { ServiceUnavailable, Unauthorized } from "../Errors.ts"

export class Authenticator extends Context.Tag("@streamspace/core/Authenticator")<
  Authenticator,
  {
    readonly authenticate: (bearer: string) => Effect.Effect<Actor, Unauthorized | ServiceUnavailable>
  }
>() {}
