/**
 * Turns a bearer credential (access token or API key) into an `Actor`. The
 * HTTP edge calls it once per request; identity provides the Live layer.
 */
import { Context, type Effect } from "effect"
import type { Actor } from "../Actor.ts"
import type { Unauthorized } from "../Errors.ts"

export class Authenticator extends Context.Tag("@streamspace/core/Authenticator")<
  Authenticator,
  {
    readonly authenticate: (bearer: string) => Effect.Effect<Actor, Unauthorized>
  }
>() {}
