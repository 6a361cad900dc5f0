/** Admin billing: costs by user and template (charts), pricing rules and a form for a dated rate. */
import {
  Alert,
  ApiError,
  Button,
  Card,
  Chart,
  DataTable,
  fieldErrors,
  Group,
  Loader,
  notify,
  Select,
  Stack,
  TextInput,
  usePluginApi
} from "@streamspace/web/sdk"
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"
import type { Breakdown } from "./lib/api.ts"

interface Pricing {
  readonly currency: string
  readonly cpuHourRate: string
  readonly memoryGBRate: string
  readonly storageGBRate: string
  readonly rules: ReadonlyArray<{
    id: string
    scope: string
    scopeId: string
    resource: string
    rate: string
    effectiveFrom: string
  }>
}

const AdminPage = () => {
  const api = usePluginApi()
  const queryClient = useQueryClient()
  const byUser = useQuery({
    queryKey: ["plugin", api.plugin, "breakdown", "user"],
    queryFn: () => api.get<Breakdown>("/costs/breakdown?by=user")
  })
  const byTemplate = useQuery({
    queryKey: ["plugin", api.plugin, "breakdown", "template"],
    queryFn: () => api.get<Breakdown>("/costs/breakdown?by=template")
  })
  const pricing = useQuery({ queryKey: ["plugin", api.plugin, "pricing"], queryFn: () => api.get<Pricing>("/pricing") })
  const [scope, setScope] = useState<string | null>("template")
  const [scopeId, setScopeId] = useState("")
  const [resource, setResource] = useState<string | null>("cpu")
  const [rate, setRate] = useState("")
  const [effectiveFrom, setEffectiveFrom] = useState("")
  const add = useMutation({
    mutationFn: () =>
      api.post("/pricing/rules", {
        scope,
        ...(scope === "base" ? {} : { scopeId }),
        resource,
        rate,
        ...(effectiveFrom ? { effectiveFrom } : {})
      }),
    onSuccess: async () => {
      notify({ title: "Rate added", message: `${resource} ${rate}`, color: "green" })
      await queryClient.invalidateQueries({ queryKey: ["plugin", api.plugin, "pricing"] })
    }
  })
  const errors = add.error instanceof ApiError ? fieldErrors(add.error.problem) : {}
  const submit = (e: FormEvent) => {
    e.preventDefault()
    add.mutate()
  }

  if (byUser.isPending || byTemplate.isPending || pricing.isPending) return <Loader aria-label="Loading billing" />
  const error = byUser.error ?? byTemplate.error ?? pricing.error
  if (error || !byUser.data || !byTemplate.data || !pricing.data)
    return (
      <Alert color="red" title="Billing could not be loaded">
        {error?.message}
      </Alert>
    )
  const bars = (b: Breakdown) => b.items.map((i) => ({ label: i.label, cost: i.total.amountMinor / 100 }))
  return (
    <Stack>
      <Chart
        type="bar"
        label="Cost this period by user"
        data={bars(byUser.data)}
        dataKey="label"
        series={[{ name: "cost", color: "blue.6" }]}
      />
      <Chart
        type="bar"
        label="Cost this period by template"
        data={bars(byTemplate.data)}
        dataKey="label"
        series={[{ name: "cost", color: "teal.6" }]}
      />
      <DataTable
        caption={`Pricing rules (${pricing.data.currency}; now: CPU ${pricing.data.cpuHourRate}/core-hour, memory ${pricing.data.memoryGBRate}/GB-hour)`}
        pageSize={10}
        rows={pricing.data.rules.map((r) => ({
          ...r,
          scopeId: r.scopeId || "—",
          effectiveFrom: r.effectiveFrom.slice(0, 16)
        }))}
        columns={[
          { key: "scope", title: "Scope" },
          { key: "scopeId", title: "For" },
          { key: "resource", title: "Resource" },
          { key: "rate", title: "Rate", align: "right" },
          { key: "effectiveFrom", title: "From (UTC)" }
        ]}
      />
      <Card withBorder component="form" onSubmit={submit} aria-label="Add a dated rate">
        <Group align="flex-start">
          <Select
            label="Scope"
            data={["base", "template", "group", "user"]}
            value={scope}
            onChange={setScope}
            error={errors["scope"]}
          />
          <TextInput
            label="Template, group or user id"
            value={scopeId}
            onChange={(e) => setScopeId(e.currentTarget.value)}
            disabled={scope === "base"}
            error={errors["scopeId"]}
          />
          <Select label="Resource" data={["cpu", "memory", "storage"]} value={resource} onChange={setResource} />
          <TextInput
            label="Rate"
            value={rate}
            onChange={(e) => setRate(e.currentTarget.value)}
            error={errors["rate"]}
          />
          <TextInput
            label="From (whole hour, UTC; default next hour)"
            placeholder="2026-12-01T00:00:00Z"
            value={effectiveFrom}
            onChange={(e) => setEffectiveFrom(e.currentTarget.value)}
            error={errors["effectiveFrom"]}
          />
          <Button type="submit" mt={24} loading={add.isPending}>
            Add rate
          </Button>
        </Group>
      </Card>
    </Stack>
  )
}

export default AdminPage
