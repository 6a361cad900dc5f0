/**
 * Turns a bearer credential (access token or API key) into an `Actor`. The
 * HTTP edge calls it once per request; identity provides the Live layer.
 */
import { Context, Effect, Layer } from "effect"
import type { Actor } from "../Actor.ts"
import { Unauthorized } from "../Errors.ts"

export class Authenticator extends Context.Tag("@streamspace/core/Authenticator")<Authenticator, {
  readonly authenticate: (bearer: string) => Effect.Effect<Actor, Unauthorized>
}>() {}

/** Until identity is composed: every bearer token is refused (anonymous requests still work). */
export const AuthenticatorRefuseAll = Layer.succeed(Authenticator, {
  authenticate: () => Effect.fail(new Unauthorized({ message: "no identity provider is configured" }))
})
