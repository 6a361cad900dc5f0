/** The portal pages (each loaded lazily: none is in the first-load bundle). */
import { IconApps, IconDeviceDesktop, IconUserCircle } from "@tabler/icons-react"
import { lazy } from "react"
import type { ConsoleRoute } from "../routes.ts"

const CatalogPage = lazy(() => import("./CatalogPage.tsx"))
const SessionsPage = lazy(() => import("./SessionsPage.tsx"))
const FilesPage = lazy(() => import("./FilesPage.tsx"))
const AccountPage = lazy(() => import("./AccountPage.tsx"))

export const portalRoutes: ReadonlyArray<ConsoleRoute> = [
  { path: "/sessions", title: "My sessions", nav: "portal", icon: IconDeviceDesktop, component: SessionsPage },
  {
    path: "/catalog",
    title: "Catalog",
    nav: "portal",
    permission: "templates:read",
    icon: IconApps,
    component: CatalogPage
  },
  { path: "/sessions/:id/files", title: "Files", permission: "files:read", component: FilesPage },
  { path: "/account", title: "Account", nav: "portal", icon: IconUserCircle, component: AccountPage },
  { path: "/account/:tab", title: "Account", component: AccountPage }
]
