/**
 * "Compliance status": the latest check results of each enabled framework
 * (passed, failed, not evaluable) and the open violations by severity,
 * from `GET /dashboard`.
 */
import { Alert, Badge, Group, Loader, Stack, Text, usePluginApi } from "@streamspace/web/sdk"
import { useQuery } from "@tanstack/react-query"

interface Dashboard {
  readonly activePolicies: number
  readonly openViolations: number
  readonly violationsBySeverity: Readonly<Record<string, number>>
  readonly frameworks: ReadonlyArray<{ readonly id: string; readonly results: Readonly<Record<string, number>> }>
}

const severities = ["critical", "high", "medium", "low"] as const

const StatusWidget = () => {
  const api = usePluginApi()
  const dashboard = useQuery({
    queryKey: ["plugin", api.plugin, "dashboard"],
    queryFn: () => api.get<Dashboard>("/dashboard")
  })
  if (dashboard.isPending) return <Loader size="sm" aria-label="Loading compliance status" />
  if (dashboard.isError)
    return (
      <Alert color="red" title="Compliance status could not be loaded">
        {dashboard.error.message}
      </Alert>
    )
  const d = dashboard.data
  return (
    <Stack gap="xs">
      {d.frameworks.map((f) => {
        const r = f.results
        const passed = (r["pass"] ?? 0) + (r["attested"] ?? 0)
        const failed = (r["fail"] ?? 0) + (r["unattested"] ?? 0)
        const unknown = r["not_evaluable"] ?? 0
        return (
          <Group key={f.id} gap="xs" aria-label={`${f.id} controls`}>
            <Text size="sm" fw={600}>
              {f.id}
            </Text>
            {passed + failed + unknown === 0 ? (
              <Text size="sm" c="dimmed">
                not checked yet
              </Text>
            ) : (
              <>
                <Badge variant="default">{`${passed} passed`}</Badge>
                <Badge variant="default">{`${failed} failed`}</Badge>
                <Badge variant="default">{`${unknown} not evaluable`}</Badge>
              </>
            )}
          </Group>
        )
      })}
      <Group gap="xs" aria-label="Open violations">
        <Text size="sm">{`${d.openViolations} open violations`}</Text>
        {severities
          .filter((s) => (d.violationsBySeverity[s] ?? 0) > 0)
          .map((s) => (
            <Badge key={s} variant="default">{`${d.violationsBySeverity[s]} ${s}`}</Badge>
          ))}
      </Group>
      <Text size="xs" c="dimmed">{`${d.activePolicies} active policies`}</Text>
    </Stack>
  )
}

export default StatusWidget
