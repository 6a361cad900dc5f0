/**
 * Stand-ins for services in fast tests: `stubLayer(SessionRepo, { find: … })`
 * is a Layer of the service with only the members the test gives. Any other
 * member, called (a method) or run (a member that is an Effect), dies with
 * `stub: SessionRepo.claim not provided`, so a test that reaches further
 * than it meant to says where instead of failing on `undefined`. Members
 * are looked up when used, so a service that copies a member at
 * construction (`list: repo.list`) builds fine and dies only if the test
 * calls it.
 *
 *     const repo = stubLayer(TemplateRepo.TemplateRepo, { findById: () => Effect.succeed(template) })
 *     await Effect.runPromise(Effect.provide(program, Templates.TemplatesLive.pipe(Layer.provide(repo))))
 *
 * Exported from `@streamspace/testing` and, alone, from `@streamspace/testing/stubs`: fast tests
 * import the latter so that they do not load the platform (server, kernel, database drivers).
 */
import { type Context, Effect, Layer } from "effect"

/** Keys that libraries probe on any value (promises, JSON, test matchers, React): absent, not dying. */
const probed: ReadonlySet<string> = new Set([
  "then",
  "toJSON",
  "constructor",
  "asymmetricMatch",
  "nodeType",
  "$$typeof"
])

/** The service's short name: the last segment of its tag key (`@streamspace/core/SessionRepo` → `SessionRepo`). */
const serviceName = (key: string) => key.slice(key.lastIndexOf("/") + 1)

/**
 * A member nobody provided: a function that returns a dying Effect, which is
 * also itself that Effect (its prototype), for members that are Effects.
 */
const missing = (message: string): unknown => {
  const dies = Effect.dieMessage(message)
  return Object.setPrototypeOf(() => dies, dies)
}

/** The service value: `implementation`'s members, and dying stand-ins for every other one. */
export const stub = <I, S extends object>(tag: Context.Tag<I, S>, implementation: Partial<S> = {}): S => {
  const name = serviceName(tag.key)
  const stand = new Map<string, unknown>()
  return new Proxy(implementation, {
    get: (target, key, receiver) => {
      if (typeof key === "symbol" || key in target || probed.has(key)) return Reflect.get(target, key, receiver)
      let member = stand.get(key)
      if (member === undefined) {
        member = missing(`stub: ${name}.${key} not provided`)
        stand.set(key, member)
      }
      return member
    }
  }) as S
}

/** A Layer of `tag` built from `implementation` (see `stub`). */
export const stubLayer = <I, S extends object>(
  tag: Context.Tag<I, S>,
  implementation: Partial<S> = {}
): Layer.Layer<I> => Layer.succeed(tag, stub(tag, implementation))
