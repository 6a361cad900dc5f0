/** Names for the generated API types: the JSON a route answers with, the JSON it accepts. */
import type { paths } from "./schema.gen.ts"

type Method = "get" | "post" | "put" | "patch" | "delete"
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>
type Json<C> = C extends { content: { "application/json": infer J } } ? J : never
type Success<R> = R extends { 200: infer A } ? A : R extends { 201: infer B } ? B : never

/** `ResponseOf<"/api/auth/me">`: the 200/201 JSON body of a route (GET unless named). */
export type ResponseOf<P extends keyof paths, M extends Method = "get"> = Json<
  Success<Operation<P, M> extends { responses: infer R } ? R : never>
>

/** `BodyOf<"/api/sessions", "post">`: the JSON body a route accepts. */
export type BodyOf<P extends keyof paths, M extends Method> =
  Operation<P, M> extends {
    requestBody?: infer B
  }
    ? Json<NonNullable<B>>
    : never
