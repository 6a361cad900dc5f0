/**
 * The catalog's resource rules, pure: a template's defaults may not exceed
 * its maximums (checked on the merged result of an update), and a session
 * launched from it gets the defaults unless it asks for more, never more
 * than the maximums. Each refusal is a 400 naming the field that is wrong.
 */
import { Effect } from "effect"
import { ValidationError } from "../Errors.ts"

export interface Limits {
  readonly defaultCpu: number
  readonly maxCpu: number
  readonly defaultMemory: number
  readonly maxMemory: number
}

/** Defaults may not exceed maximums; reported on the field that is wrong. */
export const checkLimits = (t: Limits, prefix: string): Effect.Effect<void, ValidationError> =>
  t.defaultCpu > t.maxCpu
    ? Effect.fail(ValidationError.field(`${prefix}defaultCpu`, `must not exceed maxCpu (${t.maxCpu})`))
    : t.defaultMemory > t.maxMemory
      ? Effect.fail(ValidationError.field(`${prefix}defaultMemory`, `must not exceed maxMemory (${t.maxMemory})`))
      : Effect.void

/** A stored template with a partial update applied: fields the patch leaves undefined keep their value. */
export const patched = <T extends object, P extends object>(before: T, patch: P): T => ({
  ...before,
  ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined))
})

/** The resources a session of `template` gets: what it asked for, else the defaults; at most the maximums. */
export const resourcesFor = (
  template: Limits & { readonly name: string },
  wanted: { readonly cpu?: number | undefined; readonly memory?: number | undefined }
): Effect.Effect<{ readonly cpu: number; readonly memory: number }, ValidationError> => {
  const cpu = wanted.cpu ?? template.defaultCpu
  const memory = wanted.memory ?? template.defaultMemory
  if (cpu > template.maxCpu)
    return Effect.fail(ValidationError.field("body.cpu", `at most ${template.maxCpu} millicores for ${template.name}`))
  if (memory > template.maxMemory)
    return Effect.fail(ValidationError.field("body.memory", `at most ${template.maxMemory} MiB for ${template.name}`))
  return Effect.succeed({ cpu, memory })
}
