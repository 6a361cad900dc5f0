/** Admin pages and dashboard widgets a plugin contributes while enabled. */
import { Context, type Effect, type Scope } from "effect"

export interface UiPage {
  readonly kind: "page"
  readonly id: string
  readonly title: string
  readonly path: string
  readonly icon?: string
  readonly permissions?: ReadonlyArray<string>
  /** Module path of the component, served by the web shell. */
  readonly component: string
}

export interface UiWidget {
  readonly kind: "widget"
  readonly id: string
  readonly title: string
  readonly icon?: string
  readonly permissions?: ReadonlyArray<string>
  readonly component: string
  readonly position?: number
  readonly width?: "small" | "medium" | "large" | "full"
}

export type UiExtension = UiPage | UiWidget

export class Ui extends Context.Tag("@streamspace/kernel/Ui")<
  Ui,
  {
    readonly add: (extension: UiExtension) => Effect.Effect<void, never, Scope.Scope>
  }
>() {}
