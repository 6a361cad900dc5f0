/** A plugin's page in the console: its title, then its module (loaded lazily with this page). */
import { Stack, Text, Title } from "@mantine/core"
import type { PageProps } from "../routes.ts"
import { PluginModule } from "./PluginModule.tsx"

export interface PluginPageProps extends PageProps {
  readonly plugin: string
  readonly title: string
  readonly module: string | null
}

const PluginPage = ({ plugin, title, module }: PluginPageProps) => (
  <Stack gap="md">
    <div>
      <Title order={2}>{title}</Title>
      <Text size="sm" c="dimmed">
        From plugin {plugin}
      </Text>
    </div>
    <PluginModule plugin={plugin} module={module} what={`Plugin page ${title}`} />
  </Stack>
)

export default PluginPage
