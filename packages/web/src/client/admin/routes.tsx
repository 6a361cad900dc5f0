/** The admin pages: each lazy (not in the first load), each needing the permission its API needs. */
import {
  IconApps,
  IconDashboard,
  IconDeviceDesktop,
  IconGauge,
  IconListDetails,
  IconPlug,
  IconPuzzle,
  IconShieldLock,
  IconUsers,
  IconUsersGroup,
  IconWebhook
} from "@tabler/icons-react"
import { lazy } from "react"
import type { ConsoleRoute } from "../routes.ts"

export const adminRoutes: ReadonlyArray<ConsoleRoute> = [
  {
    path: "/admin",
    title: "Dashboard",
    nav: "admin",
    permission: "sessions:admin",
    icon: IconDashboard,
    component: lazy(() => import("./DashboardPage.tsx"))
  },
  {
    path: "/admin/users",
    title: "Users",
    nav: "admin",
    permission: "users:read",
    icon: IconUsers,
    component: lazy(() => import("./UsersPage.tsx"))
  },
  {
    path: "/admin/groups",
    title: "Groups",
    nav: "admin",
    permission: "groups:read",
    icon: IconUsersGroup,
    component: lazy(() => import("./GroupsPage.tsx"))
  },
  {
    path: "/admin/roles",
    title: "Roles",
    nav: "admin",
    permission: "users:read",
    icon: IconShieldLock,
    component: lazy(() => import("./RolesPage.tsx"))
  },
  {
    path: "/admin/templates",
    title: "Templates",
    nav: "admin",
    permission: "templates:admin",
    icon: IconApps,
    component: lazy(() => import("./TemplatesPage.tsx"))
  },
  {
    path: "/admin/quotas",
    title: "Quotas",
    nav: "admin",
    permission: "quotas:admin",
    icon: IconGauge,
    component: lazy(() => import("./QuotasPage.tsx"))
  },
  {
    path: "/admin/sessions",
    title: "All sessions",
    nav: "admin",
    permission: "sessions:admin",
    icon: IconDeviceDesktop,
    component: lazy(() => import("./SessionsPage.tsx"))
  },
  {
    path: "/admin/webhooks",
    title: "Webhooks",
    nav: "admin",
    permission: "webhooks:admin",
    icon: IconWebhook,
    component: lazy(() => import("./WebhooksPage.tsx"))
  },
  {
    path: "/admin/integrations",
    title: "Integrations",
    nav: "admin",
    permission: "integrations:admin",
    icon: IconPlug,
    component: lazy(() => import("./IntegrationsPage.tsx"))
  },
  {
    path: "/admin/audit",
    title: "Audit log",
    nav: "admin",
    permission: "audit:read",
    icon: IconListDetails,
    component: lazy(() => import("./AuditPage.tsx"))
  },
  {
    path: "/admin/plugins",
    title: "Plugins",
    nav: "admin",
    permission: "plugins:admin",
    icon: IconPuzzle,
    component: lazy(() => import("./PluginsPage.tsx"))
  },
  {
    path: "/admin/plugins/:id",
    title: "Plugin",
    permission: "plugins:admin",
    component: lazy(() => import("./PluginPage.tsx"))
  }
]
