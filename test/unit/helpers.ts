/**
 * Shared pieces of the fast tier (`*.unit.test.ts`): actors, rows and
 * templates, and running an Effect to its Exit — no database, no HTTP, no
 * platform; services get stub repositories (`stubLayer`).
 */
import { Actor, SessionRepo, TemplateModel } from "@streamspace/core"
import { Cause, Effect, Exit, Option } from "effect"

export const user = (
  userId: string,
  permissions: ReadonlyArray<string> = ["sessions:read", "sessions:write"]
): Actor.Actor => ({
  _tag: "User",
  userId,
  username: userId,
  roles: ["user"],
  permissions: new Set(permissions),
  apiKeyId: Option.none()
})

export const system: Actor.Actor = Actor.system("test")
export const anonymous: Actor.Actor = Actor.anonymous

/** Runs `effect` as `actor` to its Exit. */
export const runAs = <A, E>(
  actor: Actor.Actor,
  effect: Effect.Effect<A, E, Actor.CurrentActor>
): Promise<Exit.Exit<A, E>> => Effect.runPromiseExit(Effect.provideService(effect, Actor.CurrentActor, actor))

/** The typed failure of an Exit; throws (failing the test) on success or on a defect. */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) throw new Error(`expected a failure, got ${Cause.pretty(exit.cause)}`)
  return failure.value
}

/** The value of an Exit; throws (failing the test) with the cause otherwise. */
export const valueOf = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isFailure(exit)) throw new Error(`expected success, got ${Cause.pretty(exit.cause)}`)
  return exit.value
}

/** The message of a defect (`Effect.die`) an Exit ended with. */
export const defectOf = <A, E>(exit: Exit.Exit<A, E>): string => {
  if (Exit.isSuccess(exit)) throw new Error("expected a defect, got success")
  const defect = Cause.dieOption(exit.cause)
  if (Option.isNone(defect)) throw new Error(`expected a defect, got ${Cause.pretty(exit.cause)}`)
  return defect.value instanceof Error ? defect.value.message : String(defect.value)
}

const at = new Date("2026-01-01T00:00:00Z")

export const sessionRow = (overrides: Partial<SessionRepo.SessionRow> = {}): SessionRepo.SessionRow => ({
  id: "s1",
  user_id: "owner",
  template_id: "t1",
  template_name: "firefox",
  state: "running",
  desired: "running",
  reason: null,
  runtime: "simulated",
  cpu: 500,
  memory: 1024,
  persistent_home: true,
  endpoint: "10.0.0.1:5900",
  submitted: true,
  attempts: 0,
  last_activity_at: at,
  created_at: at,
  updated_at: at,
  share_access: null,
  ...overrides
})

export const template = (
  overrides: Partial<ConstructorParameters<typeof TemplateModel.Template>[0]> = {}
): TemplateModel.Template =>
  new TemplateModel.Template({
    id: "t1",
    name: "firefox",
    displayName: "Firefox",
    description: "",
    iconUrl: null,
    category: "general",
    tags: [],
    image: "example/firefox:1",
    defaultCpu: 500,
    defaultMemory: 1024,
    maxCpu: 2000,
    maxMemory: 4096,
    ports: [],
    env: {},
    vncPort: 5900,
    enabled: true,
    createdAt: at,
    updatedAt: at,
    ...overrides
  })
