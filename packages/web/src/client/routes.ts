/** The console's pages: each area (portal, admin, viewer, plugin extensions) contributes a list. */
import type { ComponentType, LazyExoticComponent } from "react"

export interface PageProps {
  readonly params: Readonly<Record<string, string>>
}

export interface ConsoleRoute {
  readonly path: string
  readonly title: string
  /** Where the page is listed in the navigation (not listed when absent). */
  readonly nav?: "portal" | "admin"
  /** A permission the caller must hold to see and open the page. */
  readonly permission?: string
  /** Mantine/Tabler icon component for the navigation. */
  readonly icon?: ComponentType<{ readonly size?: number }>
  readonly component: LazyExoticComponent<ComponentType<PageProps>> | ComponentType<PageProps>
}
