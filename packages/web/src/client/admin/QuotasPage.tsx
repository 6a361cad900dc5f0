/** Quotas of one user (with current usage) or one group: empty means no limit. */
import { Button, Card, Group, SegmentedControl, Select, SimpleGrid, Stack, Text, TextInput } from "@mantine/core"
import { useDebouncedValue } from "@mantine/hooks"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { useEffect, useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import type { ResponseOf } from "../api/Types.ts"
import { ProblemAlert, useSubmit } from "../ui/Problems.tsx"
import { ErrorAlert, Loading, notifyDone, PageHeader } from "./AdminUi.tsx"
import { useUserSearch } from "./UserSearch.ts"

type Quota = ResponseOf<"/api/quotas/groups/{id}">
type Scope = "user" | "group"

const limits = [
  { key: "maxSessions", label: "Sessions", unit: "" },
  { key: "maxCpu", label: "CPU", unit: "millicores" },
  { key: "maxMemory", label: "Memory", unit: "MiB" },
  { key: "maxStorage", label: "Storage", unit: "bytes" }
] as const

const QuotaForm = ({
  scope,
  id,
  quota,
  usage
}: {
  readonly scope: Scope
  readonly id: string
  readonly quota: Quota
  readonly usage?: ResponseOf<"/api/quotas/users/{id}">["usage"]
}) => {
  const queryClient = useQueryClient()
  const text = (q: Quota) =>
    Object.fromEntries(limits.map((l) => [l.key, q[l.key] === null ? "" : String(q[l.key])])) as Record<
      (typeof limits)[number]["key"],
      string
    >
  const [values, setValues] = useState(text(quota))
  useEffect(() => setValues(text(quota)), [quota])
  const { submit, busy, error, fields } = useSubmit(async () => {
    const body = Object.fromEntries(
      limits.map((l) => {
        const v = values[l.key].trim()
        return [l.key, v === "" ? null : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v]
      })
    ) as Quota
    if (scope === "user") unwrap(await api.PUT("/api/quotas/users/{id}", { params: { path: { id } }, body }))
    else unwrap(await api.PUT("/api/quotas/groups/{id}", { params: { path: { id } }, body }))
    notifyDone("Quota saved")
    await queryClient.invalidateQueries({ queryKey: ["quotas", scope, id] })
  })
  const usageOf: Record<string, number | undefined> = {
    maxSessions: usage?.sessions,
    maxCpu: usage?.cpu,
    maxMemory: usage?.memory,
    maxStorage: usage?.storage
  }
  return (
    <Card withBorder component="form" onSubmit={submit} noValidate>
      <Stack>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          {limits.map((l) => (
            <TextInput
              key={l.key}
              label={`${l.label}${l.unit ? ` (${l.unit})` : ""}`}
              description={usageOf[l.key] !== undefined ? `In use: ${usageOf[l.key]}` : "Empty: no limit"}
              inputMode="numeric"
              placeholder="no limit"
              value={values[l.key]}
              onChange={(e) => setValues({ ...values, [l.key]: e.currentTarget.value })}
              error={fields[l.key]}
            />
          ))}
        </SimpleGrid>
        <ProblemAlert error={error} placed={limits.map((l) => l.key)} title="Not saved" />
        <Group justify="flex-end">
          <Button type="submit" loading={busy}>
            Save quota
          </Button>
        </Group>
      </Stack>
    </Card>
  )
}

export const QuotasPage = () => {
  const [scope, setScope] = useState<Scope>("user")
  const [search, setSearch] = useState("")
  const [q] = useDebouncedValue(search, 250)
  const [id, setId] = useState<string | null>(null)
  const users = useUserSearch(q, scope === "user")
  const groups = useQuery({
    queryKey: ["groups", { q, picker: true }],
    enabled: scope === "group",
    queryFn: async () =>
      unwrap(await api.GET("/api/groups", { params: { query: { limit: "100" } } }))
        .items.filter((g) => !q || g.name.toLowerCase().includes(q.toLowerCase()))
        .map((g) => ({ value: g.id, label: g.name }))
  })
  const options =
    scope === "user"
      ? { data: users.data?.map((u) => ({ value: u.id, label: u.username })), error: users.error }
      : groups
  const quota = useQuery({
    queryKey: ["quotas", scope, id],
    enabled: id !== null,
    queryFn: async () =>
      scope === "user"
        ? unwrap(await api.GET("/api/quotas/users/{id}", { params: { path: { id: id ?? "" } } }))
        : {
            quota: unwrap(await api.GET("/api/quotas/groups/{id}", { params: { path: { id: id ?? "" } } })),
            usage: undefined
          }
  })
  return (
    <Stack>
      <PageHeader
        title="Quotas"
        description="Limits per user, or per group (a group's limits bind each of its members)."
      />
      <Group align="flex-end">
        <SegmentedControl
          aria-label="Quota of"
          value={scope}
          onChange={(v) => {
            setScope(v as Scope)
            setId(null)
            setSearch("")
          }}
          data={[
            { value: "user", label: "User" },
            { value: "group", label: "Group" }
          ]}
        />
        <Select
          label={scope === "user" ? "User" : "Group"}
          placeholder="Search"
          searchable
          searchValue={search}
          onSearchChange={setSearch}
          data={options.data ?? []}
          value={id}
          onChange={setId}
          nothingFoundMessage="Nothing found"
          w={300}
        />
      </Group>
      <ErrorAlert error={options.error ?? quota.error} />
      {id === null ? (
        <Text c="dimmed">Pick a {scope} to see and set its limits.</Text>
      ) : quota.isPending ? (
        <Loading />
      ) : quota.data ? (
        <QuotaForm scope={scope} id={id} quota={quota.data.quota} usage={quota.data.usage} />
      ) : null}
    </Stack>
  )
}

export default QuotasPage
