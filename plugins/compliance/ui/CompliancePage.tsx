/**
 * The compliance page: the violations queue (acknowledge, resolve, mark a
 * false positive), the controls of a framework with their latest evidence
 * ("Run checks now"), and the DLP tester (findings and the redacted text,
 * never the matched text on the server's side).
 */
import {
  Alert,
  ApiError,
  Badge,
  Button,
  Code,
  DataTable,
  fieldErrors,
  Group,
  Loader,
  notify,
  Select,
  Stack,
  Tabs,
  Text,
  Textarea,
  useCan,
  usePluginApi
} from "@streamspace/web/sdk"
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"

interface Violation {
  readonly id: string
  readonly policyName: string
  readonly type: string
  readonly severity: string
  readonly description: string
  readonly action: string
  readonly status: string
  readonly createdAt: string
}

interface Control {
  readonly id: string
  readonly title: string
  readonly kind: string
  readonly latest: { readonly status: string; readonly summary: string } | null
}

// Neutral badges (the light and outline colours fail contrast at badge size); the word says the status.
const statusKind: Record<string, string> = {
  pass: "good",
  attested: "good",
  fail: "bad",
  unattested: "bad",
  not_evaluable: "unknown"
}

const Violations = () => {
  const api = usePluginApi()
  const client = useQueryClient()
  const canWrite = useCan("compliance:write")
  const list = useQuery({
    queryKey: ["plugin", api.plugin, "violations"],
    queryFn: () => api.get<{ items: ReadonlyArray<Violation> }>("/violations")
  })
  const act = useMutation({
    mutationFn: ({ id, step }: { id: string; step: "acknowledge" | "resolved" | "false_positive" }) =>
      step === "acknowledge"
        ? api.post(`/violations/${id}/acknowledge`)
        : api.post(`/violations/${id}/resolve`, {
            status: step,
            resolution: `marked ${step.replace("_", " ")} in the console`
          }),
    onSuccess: async () => {
      notify({ title: "Violation updated", message: "The queue is up to date.", color: "green" })
      await client.invalidateQueries({ queryKey: ["plugin", api.plugin] })
    }
  })
  if (list.isPending) return <Loader aria-label="Loading violations" />
  if (list.isError)
    return (
      <Alert color="red" title="Violations could not be loaded">
        {list.error.message}
      </Alert>
    )
  return (
    <DataTable
      caption="Violations"
      rows={list.data.items}
      rowKey={(v) => v.id}
      empty="No violations."
      columns={[
        { key: "createdAt", title: "When", render: (v) => new Date(v.createdAt).toLocaleString() },
        { key: "policyName", title: "Policy" },
        { key: "description", title: "What" },
        { key: "severity", title: "Severity", render: (v) => <Badge variant="default">{v.severity}</Badge> },
        { key: "action", title: "Action" },
        { key: "status", title: "Status" },
        {
          key: "actions",
          title: "Actions",
          render: (v) =>
            !canWrite || v.status === "resolved" || v.status === "false_positive" ? null : (
              <Group gap={4}>
                {v.status === "open" && (
                  <Button size="xs" variant="light" onClick={() => act.mutate({ id: v.id, step: "acknowledge" })}>
                    Acknowledge
                  </Button>
                )}
                <Button
                  size="xs"
                  variant="light"
                  color="green"
                  onClick={() => act.mutate({ id: v.id, step: "resolved" })}
                >
                  Resolve
                </Button>
                <Button size="xs" variant="subtle" onClick={() => act.mutate({ id: v.id, step: "false_positive" })}>
                  False positive
                </Button>
              </Group>
            )
        }
      ]}
    />
  )
}

const Controls = () => {
  const api = usePluginApi()
  const client = useQueryClient()
  const [framework, setFramework] = useState<string>("SOC2")
  const controls = useQuery({
    queryKey: ["plugin", api.plugin, "controls", framework],
    queryFn: () => api.get<{ items: ReadonlyArray<Control> }>(`/frameworks/${framework}/controls`)
  })
  const run = useMutation({
    mutationFn: () => api.post<{ failed: number; notEvaluable: number }>("/checks/run", { frameworks: [framework] }),
    onSuccess: async (r) => {
      notify({
        title: "Checks finished",
        message: `${r.failed} failed, ${r.notEvaluable} not evaluable`,
        color: "blue"
      })
      await client.invalidateQueries({ queryKey: ["plugin", api.plugin] })
    }
  })
  return (
    <Stack>
      <Group align="flex-end">
        <Select
          label="Framework"
          data={["SOC2", "HIPAA", "GDPR", "ISO27001"]}
          value={framework}
          onChange={(v) => v && setFramework(v)}
          allowDeselect={false}
        />
        {useCan("compliance:write") && (
          <Button onClick={() => run.mutate()} loading={run.isPending}>
            Run checks now
          </Button>
        )}
      </Group>
      {controls.isPending ? (
        <Loader aria-label="Loading controls" />
      ) : controls.isError ? (
        <Alert color="red" title="Controls could not be loaded">
          {controls.error.message}
        </Alert>
      ) : (
        <DataTable
          caption={`${framework} controls`}
          rows={controls.data.items}
          rowKey={(c) => c.id}
          pageSize={20}
          columns={[
            { key: "id", title: "Control" },
            { key: "title", title: "Title" },
            { key: "kind", title: "Kind" },
            {
              key: "status",
              title: "Latest",
              render: (c) => (
                <Badge variant="default" data-status={statusKind[c.latest?.status ?? ""] ?? "unknown"}>
                  {c.latest?.status ?? "not checked"}
                </Badge>
              )
            },
            { key: "summary", title: "Evidence", render: (c) => c.latest?.summary ?? "—" }
          ]}
        />
      )}
    </Stack>
  )
}

interface TestResult {
  readonly findings: ReadonlyArray<{
    readonly pattern: string
    readonly severity: string
    readonly start: number
    readonly end: number
  }>
  readonly redacted: string
  readonly timedOut: boolean
}

const Tester = () => {
  const api = usePluginApi()
  const [text, setText] = useState("")
  const test = useMutation({ mutationFn: (value: string) => api.post<TestResult>("/dlp/test", { text: value }) })
  const errors = test.error instanceof ApiError ? fieldErrors(test.error.problem) : {}
  const submit = (e: FormEvent) => {
    e.preventDefault()
    test.mutate(text)
  }
  return (
    <Stack component="form" onSubmit={submit} aria-label="DLP tester">
      <Textarea
        label="Text to inspect"
        autosize
        minRows={3}
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        error={errors["text"]}
      />
      <Group>
        <Button type="submit" loading={test.isPending}>
          Inspect
        </Button>
      </Group>
      {test.data && (
        <Stack gap="xs" aria-label="Inspection result">
          <Text size="sm">{`${test.data.findings.length} findings${test.data.timedOut ? " (custom patterns timed out)" : ""}`}</Text>
          <Group gap={4}>
            {test.data.findings.map((f) => (
              <Badge key={`${f.pattern}-${f.start}`} variant="default">
                {f.pattern}
              </Badge>
            ))}
          </Group>
          <Code block>{test.data.redacted}</Code>
        </Stack>
      )}
    </Stack>
  )
}

const CompliancePage = () => (
  <Tabs defaultValue="violations">
    <Tabs.List>
      <Tabs.Tab value="violations">Violations</Tabs.Tab>
      <Tabs.Tab value="controls">Controls</Tabs.Tab>
      <Tabs.Tab value="dlp">DLP tester</Tabs.Tab>
    </Tabs.List>
    <Tabs.Panel value="violations" pt="md">
      <Violations />
    </Tabs.Panel>
    <Tabs.Panel value="controls" pt="md">
      <Controls />
    </Tabs.Panel>
    <Tabs.Panel value="dlp" pt="md">
      <Tester />
    </Tabs.Panel>
  </Tabs>
)

export default CompliancePage
