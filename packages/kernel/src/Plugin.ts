/**
 * The plugin contract: a plugin is a value made by `definePlugin`. The host
 * validates the manifest, installs its schema and role, runs its migrations,
 * and builds `layer` in a Scope of its own with only plugin-scoped services.
 */
import type { HttpClient } from "@effect/platform"
import type { CoreMigrations, Directory } from "@streamspace/core"
import { Effect, type Layer, Schema } from "effect"
import type { Events } from "./Events.ts"
import type { Hooks } from "./Hooks.ts"
import type { DesktopControl, Kubernetes, PlatformGrant, SessionControl } from "./Platform.ts"
import type { PlatformPosture } from "./PlatformPosture.ts"
import type { IntegrationProvider } from "./IntegrationProvider.ts"
import type { PluginConfig, PluginInfo } from "./PluginContext.ts"
import type { Plugins } from "./Plugins.ts"
import type { PluginSql } from "./PluginSql.ts"
import type { PluginStorage } from "./PluginStorage.ts"
import type { Routes } from "./Routes.ts"
import type { Scheduler } from "./Scheduler.ts"
import type { Ui, UiExtension } from "./Ui.ts"
import type { PluginBlobs } from "./PluginBlobs.ts"
import type { VncTap } from "./VncTap.ts"

/** Everything a plugin's layer may require. */
export type PluginServices =
  | Events
  | Hooks
  | PluginSql
  | PluginStorage
  | Routes
  | Scheduler
  | Ui
  | Plugins
  | PluginInfo
  | PluginConfig
  | IntegrationProvider
  /** Read-only: users (name, email, roles, groups) and templates. */
  | Directory.Directory
  /** Outgoing HTTP (the platform's client; the test kit captures what goes out). */
  | HttpClient.HttpClient
  /** Only with `grants: ["kubernetes"]` / `["sessions"]` in the manifest (Platform.ts); otherwise every call is refused. */
  | Kubernetes
  | SessionControl
  /** Only with `grants: ["desktops"]`: monitor layouts on running local desktops. */
  | DesktopControl
  /** Only with `grants: ["vnc"]` / `["blobs"]` (VncTap.ts, PluginBlobs.ts); otherwise every call is refused. */
  | VncTap
  | PluginBlobs
  /** Only with `grants: ["posture"]` (PlatformPosture.ts): read-only security posture facts. */
  | PlatformPosture

export type PluginType = "extension" | "integration" | "theme"
export type PluginCategory =
  | "notifications"
  | "enterprise"
  | "security"
  | "sessions"
  | "productivity"
  | "example"
  | (string & {})

export interface PermissionDeclaration {
  readonly name: string
  readonly description: string
  /** Roles that get it on install (default: admin only, which has `*`). */
  readonly roles?: ReadonlyArray<string>
}

export interface Dependency {
  readonly id: string
  /** semver range, e.g. `^1.2.0` */
  readonly version: string
}

export interface MethodSpec<I, II, O, OI> {
  readonly input: Schema.Schema<I, II>
  readonly output: Schema.Schema<O, OI>
  readonly handler: (input: I) => Effect.Effect<O, unknown, PluginServices>
}

/** What a caller needs of a method: its name and its Schemas (`Plugins.call` takes it and infers the types). */
// biome-ignore lint/suspicious/noExplicitAny: Schemas are invariant: these defaults let one type stand for "any method".
export interface MethodSignature<Name extends string = string, I = any, II = any, O = any, OI = any> {
  readonly name: Name
  readonly input: Schema.Schema<I, II>
  readonly output: Schema.Schema<O, OI>
}

/** A method other plugins may call: made by `method`, declared in the manifest's `methods` under its name. */
// biome-ignore lint/suspicious/noExplicitAny: as above, "any method" for the manifest's `methods`.
export interface PluginMethod<Name extends string = string, I = any, II = any, O = any, OI = any>
  extends MethodSignature<Name, I, II, O, OI> {
  readonly _tag: "PluginMethod"
  /**
   * For the host: decodes the input, runs the handler, encodes the result. The host runs it in
   * the callee's context; other plugins go through `Plugins.call`.
   */
  readonly run: (input: unknown) => Effect.Effect<unknown, unknown, PluginServices>
}

/**
 * Declares a callable method named `name`: `export const greet = method("greet", { input, output, handler })`,
 * then `methods: { greet }` in the manifest and `plugins.call("hello", greet, { name })` in a caller.
 * The input is decoded with `input`, the result encoded with `output`.
 */
export const method = <const Name extends string, I, II, O, OI>(
  name: Name,
  spec: MethodSpec<I, II, O, OI>
): PluginMethod<Name, I, II, O, OI> => ({
  _tag: "PluginMethod",
  name,
  input: spec.input,
  output: spec.output,
  run: (raw) =>
    Schema.decodeUnknown(spec.input)(raw).pipe(Effect.flatMap(spec.handler), Effect.flatMap(Schema.encode(spec.output)))
})

/** The manifest's `methods`: each method under its own name (`methods: { greet }`). */
export type Methods<M> = { readonly [K in keyof M]: PluginMethod<K & string> }

export interface PluginManifest<
  C = unknown,
  CI = unknown,
  M extends Methods<M> = Readonly<Record<string, PluginMethod>>
> {
  readonly id: string
  readonly name: string
  readonly version: string
  readonly type: PluginType
  readonly category: PluginCategory
  readonly description?: string
  readonly author?: string
  readonly permissions?: ReadonlyArray<string | PermissionDeclaration>
  readonly dependsOn?: ReadonlyArray<Dependency>
  /** Platform access beyond the plugin-scoped services: `kubernetes`, `sessions`, `vnc`, `blobs` (see `Platform.ts`). */
  readonly grants?: ReadonlyArray<PlatformGrant>
  /** Config Schema; defaults allowed; fields annotated `secret` are encrypted at rest and write-only. */
  readonly config?: Schema.Schema<C, CI>
  /** SQL migrations run inside schema `plugin_<id>` (embed with `import … with { type: "text" }`). */
  readonly migrations?: ReadonlyArray<CoreMigrations.MigrationSource>
  readonly layer: Layer.Layer<never, unknown, PluginServices>
  readonly ui?: ReadonlyArray<UiExtension>
  /** Methods other plugins may `call`, each under its own name: `methods: { greet }`. */
  readonly methods?: M
  /**
   * The plugin's own events: type (`<id>.…`) → payload Schema, e.g. `Events.declare(Greeted)`. Listed in the
   * event catalogue with their JSON Schema; a published event of a declared type must match its Schema.
   */
  readonly events?: Readonly<Record<string, Schema.Schema.AnyNoContext>>
  /** What the host does when enabling takes too long or fails at boot. */
  readonly enable?: { readonly timeoutMs?: number; readonly onFailure?: "continue" | "abort" }
}

/** A plugin as the host sees it: the config Schema's types are erased (each plugin decodes its own with `PluginConfig.get`). */
export interface PluginDefinition extends Omit<PluginManifest, "config"> {
  readonly _tag: "PluginDefinition"
  readonly config?: Schema.Schema<unknown, unknown>
  /**
   * The plugin's folder, against which its UI components (`ui/…`) are read. The loader sets it for external
   * plugins; the console build finds the in-repo plugins' components itself.
   */
  readonly root?: string
}

export const definePlugin = <C = unknown, CI = unknown, M extends Methods<M> = Readonly<Record<string, PluginMethod>>>(
  manifest: PluginManifest<C, CI, M>
): PluginDefinition => ({
  ...manifest,
  _tag: "PluginDefinition",
  // Schemas are invariant in their types; the host only decodes and encodes with them.
  config: manifest.config as unknown as Schema.Schema<unknown, unknown> | undefined
})

export const isPluginDefinition = (u: unknown): u is PluginDefinition =>
  typeof u === "object" && u !== null && "_tag" in u && u._tag === "PluginDefinition"
