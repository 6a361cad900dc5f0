/**
 * The example plugin: touches every plugin-scoped service in under 100
 * lines. It greets new users (a typed subscription to the core's
 * user.created, its own table, its own declared event hello.greeted),
 * counts ticks (scheduler, typed storage), serves two routes, adds a
 * dashboard widget, refuses sessions of a configured template (hook), and
 * exports a method other plugins call with types:
 * `plugins.call("hello", greet, { name })`. Like every plugin, it imports
 * only `@streamspace/kernel` of the kernel (never `@streamspace/kernel/host`).
 */
import { CoreEvents, HttpRoute, Text } from "@streamspace/core"
import {
  definePlugin,
  Events,
  Hooks,
  method,
  PluginConfig,
  PluginSql,
  PluginStorage,
  Routes,
  Scheduler,
  Veto
} from "@streamspace/kernel"
import { Effect, Layer, Option, Schema } from "effect"
import greetings from "../migrations/0001_greetings.sql" with { type: "text" }

export const HelloConfig = Schema.Struct({
  greeting: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1)), { default: () => "Hello" }),
  blockedTemplate: Schema.optionalWith(Schema.String, { default: () => "" }),
  tickSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 3600)), { default: () => 60 }),
  /** A secret, to show how they are stored sealed and shown masked (hello itself never uses it). */
  apiToken: Schema.optional(
    PluginConfig.secret(Schema.String.pipe(Schema.minLength(8, { message: () => "at least 8 characters" })))
  )
})

/** Published after each greeting; declared in the manifest, so the event catalogue lists it. */
export const Greeted = Events.define(
  "hello.greeted",
  Schema.Struct({ username: Schema.String }),
  "hello greeted a new user"
)

/** Callable by other plugins: `plugins.call("hello", greet, { name: "Ada" })` is an `Effect<{ message: string }, …>`. */
export const greet = method("greet", {
  input: Schema.Struct({ name: Schema.String }),
  output: Schema.Struct({ message: Schema.String }),
  handler: ({ name }) => Effect.map(PluginConfig.get(HelloConfig), (c) => ({ message: `${c.greeting}, ${name}!` }))
})

const HelloLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    const config = yield* PluginConfig.get(HelloConfig)
    const sql = yield* PluginSql
    const storage = yield* PluginStorage
    const events = yield* Events

    yield* events.subscribe({ name: "greeter", event: CoreEvents.UserCreated }, (event) =>
      Effect.gen(function* () {
        yield* sql`INSERT INTO greetings (event_type, username) VALUES (${event.type}, ${event.payload.username})`
        yield* events.publish(Greeted, { username: event.payload.username })
      })
    )

    // A stored value that no longer decodes is a bug, not the caller's error: a defect (500).
    const ticks = Effect.map(
      Effect.orDie(storage.get("ticks", Schema.Number)),
      Option.getOrElse(() => 0)
    )
    yield* (yield* Scheduler).schedule(
      "tick",
      { every: `${config.tickSeconds} seconds` },
      Effect.gen(function* () {
        yield* storage.set("ticks", (yield* ticks) + 1)
      })
    )

    const routes = yield* Routes
    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/greetings",
        summary: "Users greeted so far",
        permission: "hello:read",
        response: Schema.Struct({
          greeting: Schema.String,
          usernames: Schema.Array(Schema.NullOr(Schema.String)),
          ticks: Schema.Number
        }),
        handler: () =>
          Effect.gen(function* () {
            const rows = yield* sql<{ username: string | null }>`SELECT username FROM greetings ORDER BY id`
            return { greeting: config.greeting, usernames: rows.map((r) => r.username), ticks: yield* ticks }
          })
      })
    )
    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/echo",
        summary: "Echo a name back with the configured greeting",
        permission: "authenticated",
        rateLimit: "strict",
        body: Schema.Struct({ name: Text.Short.pipe(Schema.minLength(1)) }),
        response: Schema.Struct({ message: Schema.String }),
        transactional: false,
        handler: ({ body }) => Effect.succeed({ message: `${config.greeting}, ${body.name}!` })
      })
    )

    yield* (yield* Hooks).intercept("session.beforeCreate", (input) =>
      input.templateName === config.blockedTemplate && config.blockedTemplate !== ""
        ? Effect.fail(new Veto({ reason: `template ${input.templateName} is blocked by hello` }))
        : Effect.succeed(input)
    )
  })
)

export default definePlugin({
  id: "hello",
  name: "Hello",
  version: "1.0.0",
  type: "extension",
  category: "example",
  description: "The example plugin of docs/plugins.md",
  permissions: [{ name: "hello:read", description: "See who was greeted", roles: ["operator"] }],
  config: HelloConfig,
  migrations: [{ id: 1, name: "greetings", sql: greetings }],
  events: Events.declare(Greeted),
  layer: HelloLive,
  ui: [
    {
      kind: "widget",
      id: "hello-greetings",
      title: "Greetings",
      component: "ui/GreetingsWidget.tsx",
      width: "small",
      permissions: ["hello:read"]
    }
  ],
  methods: { greet }
})
