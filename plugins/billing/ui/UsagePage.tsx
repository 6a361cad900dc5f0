/** The user's "Billing & usage" page: this period, its forecast, daily trend of the period, invoices with PDF/CSV. */
import {
  Alert,
  Button,
  Card,
  DataTable,
  Group,
  Loader,
  SimpleGrid,
  Stack,
  Text,
  usePluginApi
} from "@streamspace/web/sdk"
import { useQuery } from "@tanstack/react-query"
import { type Current, day, download, type ForecastBody, type InvoiceBody } from "./lib/api.ts"

const UsagePage = () => {
  const api = usePluginApi()
  const current = useQuery({
    queryKey: ["plugin", api.plugin, "current"],
    queryFn: () => api.get<Current>("/costs/current")
  })
  const forecast = useQuery({
    queryKey: ["plugin", api.plugin, "forecast"],
    queryFn: () => api.get<ForecastBody>("/costs/forecast")
  })
  const invoices = useQuery({
    queryKey: ["plugin", api.plugin, "invoices"],
    queryFn: () => api.get<{ items: ReadonlyArray<InvoiceBody> }>("/invoices")
  })
  if (current.isPending || forecast.isPending || invoices.isPending) return <Loader aria-label="Loading billing" />
  const error = current.error ?? forecast.error ?? invoices.error
  if (error || !current.data || !forecast.data || !invoices.data)
    return (
      <Alert color="red" title="Billing could not be loaded">
        {error?.message}
      </Alert>
    )
  const c = current.data
  return (
    <Stack>
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <Card withBorder>
          <Text size="sm" c="dimmed">
            This period ({day(c.periodStart)} – {day(c.periodEnd)})
          </Text>
          <Text size="xl" fw={700}>
            {c.total.amount} {c.currency}
          </Text>
        </Card>
        <Card withBorder>
          <Text size="sm" c="dimmed">
            CPU / memory / storage
          </Text>
          <Text size="xl">
            {c.byResource.cpu.amount} / {c.byResource.memory.amount} / {c.byResource.storage.amount}
          </Text>
        </Card>
        <Card withBorder>
          <Text size="sm" c="dimmed">
            Forecast ({forecast.data.method})
          </Text>
          <Text size="xl">
            {forecast.data.total.amount} {c.currency}
          </Text>
        </Card>
      </SimpleGrid>
      <DataTable
        caption="Invoices"
        pageSize={10}
        rows={invoices.data.items.map((i) => ({
          id: i.id,
          number: i.number ?? "(draft)",
          period: `${day(i.periodStart)} – ${day(i.periodEnd)}`,
          status: i.status,
          total: `${i.total} ${i.currency}`
        }))}
        columns={[
          { key: "number", title: "Number" },
          { key: "period", title: "Period" },
          { key: "status", title: "Status" },
          { key: "total", title: "Total", align: "right" }
        ]}
      />
      <Group>
        {invoices.data.items.slice(0, 6).map((i) => (
          <Group key={i.id} gap={4}>
            <Button
              size="xs"
              variant="light"
              onClick={() => download(api, `/invoices/${i.id}/pdf`, `${i.number ?? i.id}.pdf`)}
            >
              PDF {i.number ?? "draft"}
            </Button>
            <Button
              size="xs"
              variant="subtle"
              onClick={() => download(api, `/invoices/${i.id}/csv`, `${i.number ?? i.id}.csv`)}
            >
              CSV
            </Button>
          </Group>
        ))}
      </Group>
      <Button variant="default" onClick={() => download(api, "/usage/export", "usage.csv")}>
        Export this period's usage (CSV)
      </Button>
    </Stack>
  )
}

export default UsagePage
