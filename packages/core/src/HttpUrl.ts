/** An http(s) URL (webhook endpoints, API bases), as a Schema. */
import { Schema } from "effect"

export const HttpUrl = Schema.String.pipe(Schema.pattern(/^https?:\/\/[^\s]+$/, { message: () => "an http(s) URL" }))
