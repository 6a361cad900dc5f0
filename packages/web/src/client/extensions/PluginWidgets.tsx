/**
 * The dashboard's plugin widgets: the widgets of enabled plugins the user
 * may see (`GET /api/ui/extensions`), ordered by `position`, each in a card
 * sized by its `width`. Nothing is rendered when there are none.
 */
import { Card, Grid, Title } from "@mantine/core"
import { isWidget, type UiWidgetItem, useUiExtensions } from "./UiExtensions.ts"
import { PluginModule } from "./PluginModule.tsx"

const spans: Record<NonNullable<UiWidgetItem["extension"]["width"]>, { base: number; md: number; lg: number }> = {
  small: { base: 12, md: 6, lg: 4 },
  medium: { base: 12, md: 6, lg: 6 },
  large: { base: 12, md: 12, lg: 8 },
  full: { base: 12, md: 12, lg: 12 }
}

export const PluginWidgets = () => {
  const extensions = useUiExtensions()
  const widgets = (extensions.data ?? [])
    .filter(isWidget)
    .sort((a, b) => (a.extension.position ?? 0) - (b.extension.position ?? 0))
  if (widgets.length === 0) return null
  return (
    <section aria-labelledby="plugin-widgets-heading">
      <Title order={3} id="plugin-widgets-heading" size="h4" mb="sm">
        Plugin widgets
      </Title>
      <Grid>
        {widgets.map((w) => {
          const headingId = `widget-${w.plugin}-${w.extension.id}`
          return (
            <Grid.Col key={`${w.plugin}/${w.extension.id}`} span={spans[w.extension.width ?? "medium"]}>
              <Card withBorder padding="md" h="100%" component="section" aria-labelledby={headingId}>
                <Title order={4} size="h5" id={headingId} mb="sm">
                  {w.extension.title}
                </Title>
                <PluginModule plugin={w.plugin} module={w.module} what={`Widget ${w.extension.title}`} />
              </Card>
            </Grid.Col>
          )
        })}
      </Grid>
    </section>
  )
}
