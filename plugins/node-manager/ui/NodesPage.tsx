/**
 * Admin nodes page: every node with its readiness, health, sessions and
 * requests; cordon / uncordon; and a drain wizard that shows the dry run
 * (what would be hibernated, evicted or left) before the admin confirms,
 * with the choice of hibernating sessions at once or notifying owners first.
 */
import {
  Alert,
  Badge,
  Button,
  DataTable,
  Group,
  Loader,
  Modal,
  notify,
  Select,
  Stack,
  Text,
  useCan,
  usePluginApi
} from "@streamspace/web/sdk"
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { type DrainResult, type NodeView, percent } from "./api.ts"

/** Never cut a state to "PLA…" in a narrow column (as the console's own state badges). */
const badgeStyles = { root: { maxWidth: "none", flexShrink: 0, overflow: "visible" }, label: { overflow: "visible" } }

const outcomeColor: Record<string, string> = {
  planned: "blue",
  hibernating: "green",
  evicted: "green",
  ended: "green",
  notified: "yellow",
  blocked: "red",
  failed: "red",
  skipped: "gray",
  gone: "gray"
}

const DrainWizard = ({ node, onClose }: { node: string; onClose: () => void }) => {
  const api = usePluginApi()
  const queryClient = useQueryClient()
  const [mode, setMode] = useState<string | null>("hibernate")
  const plan = useQuery({
    queryKey: ["plugin", api.plugin, "drain-plan", node],
    queryFn: () => api.post<DrainResult>(`/nodes/${node}/drain`, { dryRun: true }),
    gcTime: 0
  })
  const drain = useMutation({
    mutationFn: () => api.post<DrainResult>(`/nodes/${node}/drain`, { mode }),
    onSuccess: async (r) => {
      notify({
        title: `Drain of ${node}: ${r.status === "done" ? (r.complete ? "complete" : "incomplete") : r.status}`,
        message: `${r.items.filter((i) => i.outcome === "evicted").length} pods evicted, ${
          r.items.filter((i) => i.outcome === "hibernating").length
        } sessions hibernating, ${r.items.filter((i) => i.outcome === "notified").length} owners' sessions notified`,
        color: r.complete || r.status !== "done" ? "green" : "orange"
      })
      await queryClient.invalidateQueries({ queryKey: ["plugin", api.plugin] })
    }
  })
  const result = drain.data ?? plan.data
  return (
    <Modal opened onClose={onClose} title={`Drain ${node}`} size="xl">
      <Stack>
        {plan.isPending && <Loader size="sm" aria-label="Loading the dry run" />}
        {plan.isError && (
          <Alert color="red" title="The dry run failed">
            {plan.error.message}
          </Alert>
        )}
        {result && (
          <DataTable
            caption={drain.data ? `What the drain did on ${node}` : `Dry run: what a drain of ${node} would do`}
            rows={result.items.map((i) => ({ ...i, key: `${i.namespace}/${i.pod}` }))}
            rowKey={(r) => r.key}
            empty={<Text size="sm">No pods on this node.</Text>}
            columns={[
              { key: "pod", title: "Pod" },
              { key: "namespace", title: "Namespace" },
              { key: "sessionId", title: "Session", render: (r) => r.sessionId ?? "—" },
              { key: "action", title: "Action" },
              {
                key: "outcome",
                title: "Outcome",
                render: (r) => (
                  <Badge color={outcomeColor[r.outcome] ?? "gray"} variant="dot" styles={badgeStyles}>
                    {r.outcome}
                  </Badge>
                )
              },
              { key: "detail", title: "Detail", render: (r) => r.detail ?? "" }
            ]}
          />
        )}
        {drain.isError && (
          <Alert color="red" title="The drain failed">
            {drain.error.message}
          </Alert>
        )}
        {!drain.data && (
          <Group align="flex-end">
            <Select
              label="Sessions"
              data={[
                { value: "hibernate", label: "Hibernate now" },
                { value: "notify", label: "Notify owners, then hibernate" }
              ]}
              value={mode}
              onChange={setMode}
              allowDeselect={false}
            />
            <Button color="red.9" onClick={() => drain.mutate()} loading={drain.isPending} disabled={!plan.data}>
              Cordon and drain {node}
            </Button>
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
          </Group>
        )}
        {drain.data && (
          <Group>
            <Text size="sm">
              Status: <strong>{drain.data.status}</strong>
              {drain.data.status !== "done" && " (the plugin goes on in the background; see the drains list)"}
            </Text>
            <Button onClick={onClose}>Close</Button>
          </Group>
        )}
      </Stack>
    </Modal>
  )
}

const NodesPage = () => {
  const api = usePluginApi()
  const queryClient = useQueryClient()
  const canWrite = useCan("node-manager:write")
  const [draining, setDraining] = useState<string | null>(null)
  const nodes = useQuery({
    queryKey: ["plugin", api.plugin, "nodes"],
    queryFn: () => api.get<{ items: ReadonlyArray<NodeView> }>("/nodes")
  })
  const toggle = useMutation({
    mutationFn: ({ name, verb }: { name: string; verb: "cordon" | "uncordon" }) =>
      api.post(`/nodes/${name}/${verb}`, {}),
    onSuccess: async (_, v) => {
      notify({ title: v.verb === "cordon" ? "Cordoned" : "Uncordoned", message: v.name, color: "green" })
      await queryClient.invalidateQueries({ queryKey: ["plugin", api.plugin] })
    },
    onError: (e) => notify({ title: "The change failed", message: e.message, color: "red" })
  })

  if (nodes.isPending) return <Loader aria-label="Loading nodes" />
  if (nodes.isError)
    return (
      <Alert color="red" title="Nodes could not be loaded">
        {nodes.error.message}
      </Alert>
    )
  return (
    <Stack>
      <DataTable
        caption="Kubernetes nodes"
        rows={nodes.data.items}
        rowKey={(n) => n.name}
        empty={<Text size="sm">The cluster has no nodes.</Text>}
        columns={[
          { key: "name", title: "Node" },
          {
            key: "ready",
            title: "State",
            render: (n) => (
              <Group gap={4}>
                <Badge color={n.ready ? "green" : "red"} variant="dot" styles={badgeStyles}>
                  {n.ready ? "Ready" : "NotReady"}
                </Badge>
                {!n.schedulable && (
                  <Badge color="gray" variant="dot" styles={badgeStyles}>
                    cordoned
                  </Badge>
                )}
              </Group>
            )
          },
          { key: "health", title: "Health", render: (n) => n.health.status },
          { key: "sessions", title: "Sessions", align: "right", render: (n) => n.sessions.length },
          { key: "pods", title: "Pods", align: "right" },
          {
            key: "cpu",
            title: "CPU requested",
            align: "right",
            render: (n) => `${percent(n.requested.cpuMillis, n.allocatable.cpuMillis)} %`
          },
          {
            key: "memory",
            title: "Memory requested",
            align: "right",
            render: (n) => `${percent(n.requested.memoryBytes, n.allocatable.memoryBytes)} %`
          },
          {
            key: "actions",
            title: "Actions",
            render: (n) =>
              canWrite ? (
                <Group gap={4} wrap="nowrap">
                  <Button
                    size="xs"
                    variant="default"
                    aria-label={`${n.schedulable ? "Cordon" : "Uncordon"} ${n.name}`}
                    onClick={() => toggle.mutate({ name: n.name, verb: n.schedulable ? "cordon" : "uncordon" })}
                  >
                    {n.schedulable ? "Cordon" : "Uncordon"}
                  </Button>
                  <Button
                    size="xs"
                    color="red"
                    variant="light"
                    aria-label={`Drain ${n.name}`}
                    onClick={() => setDraining(n.name)}
                  >
                    Drain
                  </Button>
                </Group>
              ) : null
          }
        ]}
      />
      {draining && <DrainWizard node={draining} onClose={() => setDraining(null)} />}
    </Stack>
  )
}

export default NodesPage
