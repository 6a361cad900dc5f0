/** Toasts for plugin modules, shown by the console's notification area. */
import { notifications } from "@mantine/notifications"

export interface Notice {
  readonly title: string
  readonly message: string
  /** A Mantine colour: "green" for success, "red" for errors (default: the theme's primary). */
  readonly color?: string
  /** Milliseconds before it closes by itself; false keeps it open (default 5000). */
  readonly autoClose?: number | false
}

export const notify = ({ title, message, color, autoClose = 5000 }: Notice): void => {
  notifications.show({
    title,
    message,
    autoClose,
    closeButtonProps: { "aria-label": "Close notification" },
    // Mantine's description grey (gray.6) is below AA contrast on white.
    styles: { description: { color: "var(--mantine-color-dimmed)" } },
    ...(color ? { color } : {})
  })
}
