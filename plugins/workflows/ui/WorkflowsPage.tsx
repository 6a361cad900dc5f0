/**
 * Workflows in the console: the list, a JSON editor checked by the server
 * (each bad field listed with its path), manual runs, and each execution's
 * step timeline with cancel.
 */
import {
  Alert,
  ApiError,
  Badge,
  Button,
  Card,
  Code,
  DataTable,
  fieldErrors,
  Group,
  List,
  Loader,
  notify,
  Stack,
  Text,
  Textarea,
  Title,
  usePluginApi
} from "@streamspace/web/sdk"
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"

interface Summary {
  readonly id: string
  readonly name: string
  readonly enabled: boolean
  readonly triggerType: string
  readonly version: number
  readonly updatedAt: string
}
interface Detail extends Summary {
  readonly definition: unknown
  readonly webhook?: { readonly url: string; readonly secret: string }
}
interface Execution {
  readonly id: string
  readonly status: string
  readonly version: number
  readonly triggerType: string
  readonly error: string | null
  readonly createdAt: string
  readonly finishedAt: string | null
}
interface StepResult {
  readonly stepId: string
  readonly status: string
  readonly attempts: number
  readonly error: string | null
  readonly output: unknown
  readonly startedAt: string | null
  readonly finishedAt: string | null
}
interface ExecutionDetail extends Execution {
  readonly steps: ReadonlyArray<StepResult>
}

const TEMPLATE = JSON.stringify(
  {
    name: "New workflow",
    trigger: { type: "manual" },
    steps: [{ id: "hello", type: "set", variables: { greeting: "'hello ' + coalesce(trigger.input.name, 'world')" } }]
  },
  null,
  2
)

const color = (status: string) =>
  status === "completed"
    ? "green"
    : status === "failed"
      ? "red"
      : status === "cancelled" || status === "bypassed"
        ? "gray"
        : status === "skipped"
          ? "yellow"
          : "blue"

export default function WorkflowsPage() {
  const api = usePluginApi()
  const queryClient = useQueryClient()
  const key = (...rest: ReadonlyArray<string>) => ["plugin", api.plugin, ...rest]
  const [selected, setSelected] = useState<string | null>(null)
  const [text, setText] = useState(TEMPLATE)
  const [execution, setExecution] = useState<string | null>(null)
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null)

  const list = useQuery({
    queryKey: key("workflows"),
    queryFn: () => api.get<{ items: ReadonlyArray<Summary> }>("/workflows")
  })
  const executions = useQuery({
    queryKey: key("executions", selected ?? ""),
    enabled: selected !== null,
    refetchInterval: 2000,
    queryFn: () => api.get<{ items: ReadonlyArray<Execution> }>(`/executions?workflowId=${selected}&limit=20`)
  })
  const detail = useQuery({
    queryKey: key("execution", execution ?? ""),
    enabled: execution !== null,
    refetchInterval: 2000,
    queryFn: () => api.get<ExecutionDetail>(`/executions/${execution}`)
  })

  const parse = (): unknown => {
    try {
      return JSON.parse(text)
    } catch (e) {
      throw new Error(`The definition is not JSON: ${(e as Error).message}`)
    }
  }
  const save = useMutation({
    mutationFn: () =>
      selected ? api.put<Detail>(`/workflows/${selected}`, parse()) : api.post<Detail>("/workflows", parse()),
    onSuccess: async (saved) => {
      notify({ title: "Saved", message: `${saved.name}, version ${saved.version}`, color: "green" })
      if (saved.webhook) setSecret(saved.webhook)
      setSelected(saved.id)
      await queryClient.invalidateQueries({ queryKey: key("workflows") })
    }
  })
  const validate = useMutation({
    mutationFn: () => api.post<{ valid: boolean }>("/validate", parse()),
    onSuccess: () => notify({ title: "Valid", message: "The definition passes every check", color: "green" })
  })
  const runNow = useMutation({
    mutationFn: (id: string) => api.post<{ executionId: string }>(`/workflows/${id}/run`, { input: {} }),
    onSuccess: async (r) => {
      setExecution(r.executionId)
      await queryClient.invalidateQueries({ queryKey: key("executions") })
    }
  })
  const cancel = useMutation({
    mutationFn: (id: string) => api.post(`/executions/${id}/cancel`, {}),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: key("execution") })
    }
  })
  const open = async (id: string) => {
    const d = await api.get<Detail>(`/workflows/${id}`)
    setSelected(id)
    setExecution(null)
    setSecret(null)
    setText(JSON.stringify(d.definition, null, 2))
  }

  const problem = save.error ?? validate.error
  const errors = problem instanceof ApiError ? fieldErrors(problem.problem) : {}

  if (list.isPending) return <Loader aria-label="Loading workflows" />
  if (list.isError)
    return (
      <Alert color="red" title="Workflows could not be loaded">
        {list.error.message}
      </Alert>
    )

  return (
    <Stack>
      <DataTable
        caption="Workflows"
        rows={list.data.items}
        rowKey={(w) => w.id}
        empty="No workflows yet: write one below."
        columns={[
          {
            key: "name",
            title: "Name",
            render: (w) => (
              <Button variant="subtle" size="compact-sm" onClick={() => void open(w.id)}>
                {w.name}
              </Button>
            )
          },
          { key: "triggerType", title: "Trigger" },
          { key: "version", title: "Version", align: "right" },
          {
            key: "enabled",
            title: "State",
            render: (w) => <Badge color={w.enabled ? "green" : "gray"}>{w.enabled ? "enabled" : "disabled"}</Badge>
          },
          {
            key: "run",
            title: "Run",
            render: (w) => (
              <Button size="compact-sm" onClick={() => runNow.mutate(w.id)} disabled={!w.enabled}>
                Run now
              </Button>
            )
          }
        ]}
      />

      <Card withBorder aria-label="Definition editor">
        <Stack>
          <Group justify="space-between">
            <Title order={4}>{selected ? "Edit definition (saves a new version)" : "New workflow"}</Title>
            <Button
              variant="default"
              onClick={() => {
                setSelected(null)
                setText(TEMPLATE)
              }}
            >
              New
            </Button>
          </Group>
          <Textarea
            label="Definition (JSON)"
            autosize
            minRows={12}
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            styles={{ input: { fontFamily: "monospace" } }}
          />
          {problem ? (
            <Alert color="red" title="The definition was refused">
              {Object.keys(errors).length > 0 ? (
                <List size="sm">
                  {Object.entries(errors).map(([path, message]) => (
                    <List.Item key={path}>
                      <Code>{path}</Code>: {message}
                    </List.Item>
                  ))}
                </List>
              ) : (
                problem.message
              )}
            </Alert>
          ) : null}
          {secret ? (
            <Alert color="yellow" title="Webhook (shown once)">
              <Text size="sm">
                URL: <Code>{secret.url}</Code>
              </Text>
              <Text size="sm">
                Signing secret: <Code>{secret.secret}</Code>
              </Text>
            </Alert>
          ) : null}
          <Group>
            <Button variant="default" onClick={() => validate.mutate()} loading={validate.isPending}>
              Validate
            </Button>
            <Button onClick={() => save.mutate()} loading={save.isPending}>
              Save
            </Button>
          </Group>
        </Stack>
      </Card>

      {selected && executions.data ? (
        <DataTable
          caption="Executions"
          rows={executions.data.items}
          rowKey={(e) => e.id}
          empty="No executions yet."
          columns={[
            {
              key: "createdAt",
              title: "Started",
              render: (e) => (
                <Button variant="subtle" size="compact-sm" onClick={() => setExecution(e.id)}>
                  {new Date(e.createdAt).toLocaleString()}
                </Button>
              )
            },
            { key: "triggerType", title: "Trigger" },
            { key: "version", title: "Version", align: "right" },
            { key: "status", title: "Status", render: (e) => <Badge color={color(e.status)}>{e.status}</Badge> },
            { key: "error", title: "Error" }
          ]}
        />
      ) : null}

      {detail.data ? (
        <Card withBorder aria-label="Execution timeline">
          <Stack>
            <Group justify="space-between">
              <Title order={4}>
                Execution <Badge color={color(detail.data.status)}>{detail.data.status}</Badge>
              </Title>
              {detail.data.status === "running" || detail.data.status === "queued" ? (
                <Button color="red" variant="light" onClick={() => cancel.mutate(detail.data.id)}>
                  Cancel
                </Button>
              ) : null}
            </Group>
            {detail.data.error ? <Text c="red">{detail.data.error}</Text> : null}
            <List>
              {detail.data.steps.map((s) => (
                <List.Item key={s.stepId}>
                  <Group gap="xs">
                    <Code>{s.stepId}</Code>
                    <Badge color={color(s.status)}>{s.status}</Badge>
                    {s.attempts > 1 ? <Text size="sm">{s.attempts} attempts</Text> : null}
                    {s.startedAt ? <Text size="sm">{new Date(s.startedAt).toLocaleTimeString()}</Text> : null}
                    {s.error ? (
                      <Text size="sm" c="red">
                        {s.error}
                      </Text>
                    ) : null}
                  </Group>
                  {s.output !== null && s.output !== undefined ? (
                    <Code block>{JSON.stringify(s.output, null, 2).slice(0, 2000)}</Code>
                  ) : null}
                </List.Item>
              ))}
            </List>
          </Stack>
        </Card>
      ) : null}
    </Stack>
  )
}
