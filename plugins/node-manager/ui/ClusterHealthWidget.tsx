/** Dashboard widget: nodes by state, sessions, and how much of the cluster's allocatable is requested. */
import { Alert, Badge, Group, Loader, Progress, Stack, Text, usePluginApi } from "@streamspace/web/sdk"
import { useQuery } from "@tanstack/react-query"
import { percent, type Summary } from "./api.ts"

const ClusterHealthWidget = () => {
  const api = usePluginApi()
  const stats = useQuery({
    queryKey: ["plugin", api.plugin, "stats"],
    queryFn: () => api.get<Summary>("/stats"),
    refetchInterval: 30_000
  })
  if (stats.isPending) return <Loader size="sm" aria-label="Loading cluster health" />
  if (stats.isError)
    return (
      <Alert color="red" title="Cluster health could not be loaded">
        {stats.error.message}
      </Alert>
    )
  const s = stats.data
  const cpu = percent(s.requested.cpuMillis, s.allocatable.cpuMillis)
  const memory = percent(s.requested.memoryBytes, s.allocatable.memoryBytes)
  return (
    <Stack gap="xs">
      <Group gap="xs">
        <Text size="sm">
          <strong>{s.readyNodes}</strong> of {s.totalNodes} nodes ready
        </Text>
        {s.notReadyNodes > 0 && (
          <Badge color="red" variant="dot">
            {s.notReadyNodes} not ready
          </Badge>
        )}
        {s.unhealthyNodes > 0 && (
          <Badge color="orange" variant="dot">
            {s.unhealthyNodes} unhealthy
          </Badge>
        )}
        {s.cordonedNodes > 0 && (
          <Badge color="gray" variant="dot">
            {s.cordonedNodes} cordoned
          </Badge>
        )}
      </Group>
      <Text size="sm">
        {s.sessions} sessions · {s.totalPods} pods
      </Text>
      <Text size="xs">CPU requested: {cpu} %</Text>
      <Progress value={cpu} color={cpu >= 90 ? "red" : "blue"} aria-label={`CPU requested ${cpu} %`} />
      <Text size="xs">Memory requested: {memory} %</Text>
      <Progress value={memory} color={memory >= 90 ? "red" : "teal"} aria-label={`Memory requested ${memory} %`} />
      {s.usage.state === "no-metrics" && (
        <Text size="xs" c="dimmed">
          No live usage: {s.usage.reason}
        </Text>
      )}
    </Stack>
  )
}

export default ClusterHealthWidget
