/** The console's Mantine theme (light and dark follow the user's choice, default: the system's). */
import { createTheme } from "@mantine/core"

export const theme = createTheme({
  primaryColor: "indigo",
  defaultRadius: "md",
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  // Focus rings on keyboard navigation only, always visible then.
  focusRing: "auto",
  // Shade 6 under white text is below WCAG AA contrast (4.5:1); 7 passes.
  primaryShade: { light: 7, dark: 8 }
})
