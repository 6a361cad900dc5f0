/**
 * Pages and dashboard widgets a plugin contributes to the web console while
 * enabled. `component` names an ES module the plugin ships in its `ui/`
 * folder, relative to the plugin's root (`"ui/GreetingsWidget.tsx"`): the
 * platform bundles it (React, React Query and `@streamspace/web/sdk` shared
 * with the console) and the console imports it from a hashed URL.
 */
import { Context, type Effect, type Scope } from "effect"

export interface UiPage {
  readonly kind: "page"
  readonly id: string
  readonly title: string
  readonly path: string
  readonly icon?: string
  /** Every one is needed to see the page (listed and opened). */
  readonly permissions?: ReadonlyArray<string>
  /** Where the console lists it: the user portal or the administration (default). */
  readonly nav?: "portal" | "admin"
  /** The module (`ui/<Name>.tsx` in the plugin's folder) whose default export is the page component. */
  readonly component: string
}

export interface UiWidget {
  readonly kind: "widget"
  readonly id: string
  readonly title: string
  readonly icon?: string
  readonly permissions?: ReadonlyArray<string>
  /** The module (`ui/<Name>.tsx` in the plugin's folder) whose default export is the widget component. */
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
