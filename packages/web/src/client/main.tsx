/** The console's entry: providers, then the app. */
import "@mantine/core/styles.css"
import "@mantine/notifications/styles.css"
import { localStorageColorSchemeManager, MantineProvider } from "@mantine/core"
import { Notifications } from "@mantine/notifications"
import { QueryClient, QueryClientProvider } from "@tanstack/react-query"
import { StrictMode } from "react"
import { createRoot } from "react-dom/client"
import { ApiError } from "./api/Problem.ts"
import { App } from "./App.tsx"
import { SessionProvider } from "./auth/Session.tsx"
import { RouterProvider } from "./Router.tsx"
import { theme } from "./theme.ts"

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      // A 4xx will not change by asking again.
      retry: (count, error) => !(error instanceof ApiError && error.problem.status < 500) && count < 2
    }
  }
})

const root = document.getElementById("root")
if (root) {
  createRoot(root).render(
    <StrictMode>
      <MantineProvider
        theme={theme}
        defaultColorScheme="auto"
        colorSchemeManager={localStorageColorSchemeManager({ key: "streamspace.colorScheme" })}
        // Mantine's "dimmed" fails WCAG AA contrast (axe color-contrast): gray.6 on white is 3.3:1, dark.2 on
        // dark.7 4:1. gray.7 and dark.1 pass in both themes.
        cssVariablesResolver={(t) => ({
          variables: {},
          light: { "--mantine-color-dimmed": t.colors.gray[7] },
          dark: { "--mantine-color-dimmed": t.colors.dark[1] }
        })}
      >
        <Notifications position="top-right" />
        <QueryClientProvider client={queryClient}>
          <RouterProvider>
            <SessionProvider>
              <App />
            </SessionProvider>
          </RouterProvider>
        </QueryClientProvider>
      </MantineProvider>
    </StrictMode>
  )
}
