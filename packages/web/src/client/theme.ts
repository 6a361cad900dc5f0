/** The console's Mantine theme (light and dark follow the user's choice, default: the system's). */
import { createTheme, Drawer, Modal, Notification } from "@mantine/core"

export const theme = createTheme({
  primaryColor: "indigo",
  defaultRadius: "md",
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  // Focus rings on keyboard navigation only, always visible then.
  focusRing: "auto",
  // Shade 6 under white text is below WCAG AA contrast (4.5:1); 7 passes.
  primaryShade: { light: 7, dark: 8 },
  components: {
    // Every close button gets a name, whichever page or plugin opens the toast, dialog or drawer.
    Notification: Notification.extend({ defaultProps: { closeButtonProps: { "aria-label": "Dismiss notification" } } }),
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { "aria-label": "Close dialog" } } }),
    Drawer: Drawer.extend({ defaultProps: { closeButtonProps: { "aria-label": "Close panel" } } })
  }
})
