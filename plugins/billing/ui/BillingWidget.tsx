/** Admin dashboard widget: everyone's spend this period so far and the forecast for its end. */
import { Alert, Group, Loader, Stack, Text, usePluginApi } from "@streamspace/web/sdk"
import { useQuery } from "@tanstack/react-query"
import type { Current, ForecastBody } from "./lib/api.ts"

const BillingWidget = () => {
  const api = usePluginApi()
  const current = useQuery({
    queryKey: ["plugin", api.plugin, "current"],
    queryFn: () => api.get<Current>("/costs/current")
  })
  const forecast = useQuery({
    queryKey: ["plugin", api.plugin, "forecast"],
    queryFn: () => api.get<ForecastBody>("/costs/forecast")
  })
  if (current.isPending || forecast.isPending) return <Loader size="sm" aria-label="Loading billing" />
  if (current.isError || forecast.isError)
    return (
      <Alert color="red" title="Billing could not be loaded">
        {(current.error ?? forecast.error)?.message}
      </Alert>
    )
  const c = current.data
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Text size="sm">This period so far</Text>
        <Text fw={700}>
          {c.total.amount} {c.currency}
        </Text>
      </Group>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          CPU {c.byResource.cpu.amount} · memory {c.byResource.memory.amount} · storage {c.byResource.storage.amount}
        </Text>
      </Group>
      <Group justify="space-between">
        <Text size="sm">Forecast for {c.periodEnd.slice(0, 10)}</Text>
        <Text>
          {forecast.data.total.amount} {c.currency}
        </Text>
      </Group>
      <Text size="xs" c="dimmed">
        Usage through {c.through.slice(11, 16)} UTC; forecast: {forecast.data.method}
      </Text>
    </Stack>
  )
}

export default BillingWidget
