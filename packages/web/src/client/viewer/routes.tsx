/** The viewer pages: the desktop of a session (not in the navigation; sessions link to it). */
import { lazy } from "react"
import type { ConsoleRoute } from "../routes.ts"

export const viewerRoutes: ReadonlyArray<ConsoleRoute> = [
  {
    path: "/sessions/:id/view",
    title: "Desktop",
    permission: "sessions:connect",
    component: lazy(() => import("./ViewerPage.tsx"))
  }
]
