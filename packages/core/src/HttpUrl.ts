/**
 * Outgoing destinations as Schemas: an http(s) URL (webhook endpoints, API
 * bases) and a host to connect to (an SMTP relay). Both are annotated as
 * destinations, so that the integrations store checks every such field of a
 * provider's config against the egress policy when it is configured.
 */
import { Schema } from "effect"
import * as Text from "./Text.ts"

/** Annotation of Schema nodes naming a place the platform connects to: `"url"` or `"host"`. */
export const Destination: unique symbol = Symbol.for("@streamspace/Destination")

export const HttpUrl = Text.Line.pipe(
  Schema.pattern(/^https?:\/\/[^\s]+$/, { message: () => "an http(s) URL" }),
  Schema.annotations({ [Destination]: "url" })
)

/** A host name or address the platform opens connections to. */
export const OutgoingHost = Text.Short.pipe(
  Schema.minLength(1),
  Schema.maxLength(253),
  Schema.pattern(/^[^\s/@]+$/, { message: () => "a host name or address" }),
  Schema.annotations({ [Destination]: "host" })
)
