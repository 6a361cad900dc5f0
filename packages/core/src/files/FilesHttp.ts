/** REST for a session's files: streamed upload, list, streamed download, delete. */
import { Effect, Schema } from "effect"
import { Conflict, NotFound, PayloadTooLarge, QuotaExceeded, ValidationError } from "../Errors.ts"
import * as HttpRoute from "../HttpRoute.ts"
import { Files, StoredFile } from "./Files.ts"
import * as Text from "../Text.ts"

const SessionParams = Schema.Struct({ id: Text.Id })
const FileParams = Schema.Struct({ id: Text.Id, fileId: Text.Id })
const UploadQuery = Schema.Struct({
  name: Schema.optional(Text.make(255).pipe(Schema.minLength(1)))
})

const fileName = (query: { name?: string | undefined }, request: Request) => {
  const name = query.name ?? request.headers.get("x-file-name") ?? undefined
  if (!name)
    return Effect.fail(ValidationError.field("query.name", "the file name is required (?name= or X-File-Name)"))
  if (/[/\\\0]/.test(name) || name === "." || name === "..")
    return Effect.fail(ValidationError.field("query.name", "must not contain path separators"))
  return Effect.succeed(name)
}

export const fileRoutes = [
  HttpRoute.make({
    method: "POST",
    path: "/api/sessions/:id/files",
    summary: "Upload a file (raw body, streamed) into your storage for this session",
    tags: ["files"],
    permission: "files:write",
    params: SessionParams,
    query: UploadQuery,
    body: "raw",
    response: StoredFile,
    successStatus: 201,
    // Streaming cannot hold a transaction open; the file row and its event commit together inside.
    transactional: false,
    audit: { action: "file.upload", target: (_, out) => out.id },
    errors: [NotFound, Conflict, QuotaExceeded, PayloadTooLarge],
    handler: ({ params, query, request }) =>
      Effect.gen(function* () {
        const name = yield* fileName(query, request)
        if (!request.body) return yield* ValidationError.field("body", "the file contents are required")
        const length = request.headers.get("content-length")
        return yield* Effect.flatMap(Files, (f) =>
          f.upload({
            sessionId: params.id,
            name,
            contentType: request.headers.get("content-type") ?? "application/octet-stream",
            declaredSize: length !== null && /^\d+$/.test(length) ? Number(length) : null,
            body: request.body!
          })
        )
      })
  }),
  HttpRoute.make({
    method: "GET",
    path: "/api/sessions/:id/files",
    summary: "Files uploaded into this session",
    tags: ["files"],
    permission: "files:read",
    params: SessionParams,
    response: Schema.Struct({ items: Schema.Array(StoredFile) }),
    errors: [NotFound, Conflict],
    handler: ({ params }) =>
      Effect.map(
        Effect.flatMap(Files, (f) => f.list(params.id)),
        (items) => ({ items })
      )
  }),
  HttpRoute.make({
    method: "GET",
    path: "/api/sessions/:id/files/:fileId",
    summary: "Download a file (streamed)",
    tags: ["files"],
    permission: "files:read",
    params: FileParams,
    errors: [NotFound, Conflict],
    handler: ({ params }) =>
      Effect.map(
        Effect.flatMap(Files, (f) => f.download(params.id, params.fileId)),
        ({ file, blob }) =>
          new Response(blob.stream(), {
            headers: {
              "content-type": file.contentType,
              "content-length": String(file.size),
              "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`,
              "x-content-type-options": "nosniff"
            }
          })
      )
  }),
  HttpRoute.make({
    method: "DELETE",
    path: "/api/sessions/:id/files/:fileId",
    summary: "Delete a file",
    tags: ["files"],
    permission: "files:write",
    params: FileParams,
    transactional: false,
    audit: { action: "file.delete", target: (i) => i.params.fileId },
    errors: [NotFound, Conflict],
    handler: ({ params }) => Effect.flatMap(Files, (f) => f.delete(params.id, params.fileId))
  })
]
