/** A page's title, what the page is for, and its main actions. */
import { Group, Stack, Text, Title } from "@mantine/core"
import type { ReactNode } from "react"

export const PageHeader = ({
  title,
  description,
  actions,
  spacing = "compact"
}: {
  readonly title: string
  readonly description?: ReactNode
  readonly actions?: ReactNode
  readonly spacing?: "compact" | "roomy"
}) => (
  <Group justify="space-between" align="flex-start" mb={spacing === "roomy" ? "lg" : "md"} wrap="wrap">
    <Stack gap={spacing === "roomy" ? 4 : 2}>
      <Title order={2}>{title}</Title>
      {description && (
        <Text c="dimmed" size="sm">
          {description}
        </Text>
      )}
    </Stack>
    {actions && <Group gap="sm">{actions}</Group>}
  </Group>
)
