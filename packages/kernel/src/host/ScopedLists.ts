/** Registrations kept in per-key lists for as long as a scope is open (a plugin's routes, the handlers of a hook point). */
import { Effect, type Scope } from "effect"

/** Appends `item` to the list of `key` (kept sorted by `order`, if given) until the scope closes. */
export const addScoped = <K, V>(
  lists: Map<K, Array<V>>,
  key: K,
  item: V,
  order?: (a: V, b: V) => number
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const next = [...(lists.get(key) ?? []), item]
      lists.set(key, order ? next.sort(order) : next)
    }),
    () =>
      Effect.sync(
        () =>
          void lists.set(
            key,
            (lists.get(key) ?? []).filter((i) => i !== item)
          )
      )
  )
