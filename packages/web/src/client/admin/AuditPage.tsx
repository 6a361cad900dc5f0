/**
 * The audit log: filter by actor, action, target and time range (passed to
 * `GET /api/audit` as query parameters), server-side cursor pages, and a CSV
 * export of everything the filter matches (fetched page by page in the
 * browser, up to `exportLimit` rows).
 */
import { Button, Group, Paper, Select, SimpleGrid, Stack, Table, Text, TextInput } from "@mantine/core"
import { useDebouncedValue } from "@mantine/hooks"
import { type FormEvent, useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import { useSession } from "../auth/Session.tsx"
import { download, toCsv, type AuditRow } from "./AuditCsv.ts"
import {
  DataTable,
  fieldErrorsOf,
  formatDate,
  notifyDone,
  notifyFailed,
  PageHeader,
  Pager,
  StateBadge,
  useCursorPages
} from "./AdminUi.tsx"
import { useUserSearch } from "./UserSearch.ts"

const exportLimit = 50_000

interface Filters {
  readonly actor?: string
  readonly action?: string
  readonly target?: string
  readonly from?: string
  readonly to?: string
}

/** `datetime-local` input value (local time) → ISO timestamp, or undefined when empty or invalid. */
const isoOf = (local: string) => {
  if (!local) return undefined
  const d = new Date(local)
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString()
}

const fetchAudit = async (filters: Filters, cursor: string | undefined, limit: number) =>
  unwrap(
    await api.GET("/api/audit", {
      params: { query: { limit: String(limit), ...(cursor ? { cursor } : {}), ...filters } }
    })
  )

/** A user picker (search by name) whose value is the user id the audit API filters on. */
const ActorPicker = ({
  value,
  onChange
}: {
  readonly value: string | null
  readonly onChange: (v: string | null) => void
}) => {
  const session = useSession()
  const [search, setSearch] = useState("")
  const [q] = useDebouncedValue(search, 250)
  const users = useUserSearch(q, session.can("users:read"))
  if (!session.can("users:read"))
    return (
      <TextInput
        label="Actor (user id)"
        value={value ?? ""}
        onChange={(e) => onChange(e.currentTarget.value || null)}
      />
    )
  return (
    <Select
      label="Actor"
      placeholder="Anyone"
      searchable
      clearable
      searchValue={search}
      onSearchChange={setSearch}
      data={(users.data ?? []).map((u) => ({ value: u.id, label: u.username }))}
      value={value}
      onChange={onChange}
      nothingFoundMessage="No such user"
    />
  )
}

export const AuditPage = () => {
  const [actor, setActor] = useState<string | null>(null)
  const [action, setAction] = useState("")
  const [target, setTarget] = useState("")
  const [from, setFrom] = useState("")
  const [to, setTo] = useState("")
  const [filters, setFilters] = useState<Filters>({})
  const [exporting, setExporting] = useState(false)
  const pages = useCursorPages(["audit", filters], (cursor) => fetchAudit(filters, cursor, 50))
  const fields = fieldErrorsOf(pages.query.error)
  const apply = (e: FormEvent) => {
    e.preventDefault()
    const fromIso = isoOf(from)
    const toIso = isoOf(to)
    setFilters({
      ...(actor ? { actor } : {}),
      ...(action.trim() ? { action: action.trim() } : {}),
      ...(target.trim() ? { target: target.trim() } : {}),
      ...(fromIso ? { from: fromIso } : {}),
      ...(toIso ? { to: toIso } : {})
    })
  }
  const clear = () => {
    setActor(null)
    setAction("")
    setTarget("")
    setFrom("")
    setTo("")
    setFilters({})
  }
  const exportCsv = async () => {
    setExporting(true)
    try {
      const rows: Array<AuditRow> = []
      let cursor: string | undefined
      do {
        const page = await fetchAudit(filters, cursor, 500)
        rows.push(...page.items)
        cursor = page.nextCursor ?? undefined
      } while (cursor && rows.length < exportLimit)
      const stamp = new Date().toISOString().replaceAll(":", "-").slice(0, 19)
      download(`audit-${stamp}.csv`, toCsv(rows.slice(0, exportLimit)))
      notifyDone(
        `Exported ${Math.min(rows.length, exportLimit)} entries${rows.length >= exportLimit ? ` (the first ${exportLimit})` : ""}`
      )
    } catch (e) {
      notifyFailed(e, "Export failed")
    } finally {
      setExporting(false)
    }
  }
  return (
    <Stack gap="sm">
      <PageHeader
        title="Audit log"
        description="Who did what, newest first."
        actions={
          <Button variant="default" onClick={exportCsv} loading={exporting}>
            Export CSV
          </Button>
        }
      />
      <Paper withBorder p="md" component="form" onSubmit={apply} aria-label="Audit filters">
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 5 }}>
          <ActorPicker value={actor} onChange={setActor} />
          <TextInput
            label="Action"
            placeholder="e.g. user.create"
            value={action}
            onChange={(e) => setAction(e.currentTarget.value)}
            error={fields["action"]}
          />
          <TextInput
            label="Target"
            placeholder="id of the thing acted on"
            value={target}
            onChange={(e) => setTarget(e.currentTarget.value)}
            error={fields["target"]}
          />
          <TextInput
            label="From"
            type="datetime-local"
            value={from}
            onChange={(e) => setFrom(e.currentTarget.value)}
            error={fields["from"]}
          />
          <TextInput
            label="To"
            type="datetime-local"
            value={to}
            onChange={(e) => setTo(e.currentTarget.value)}
            error={fields["to"]}
          />
        </SimpleGrid>
        <Group mt="sm" gap="sm">
          <Button type="submit">Apply filters</Button>
          <Button variant="subtle" onClick={clear}>
            Clear
          </Button>
        </Group>
      </Paper>
      <DataTable
        label="Audit entries"
        columns={["When", "Actor", "Action", "Target", "Result", "IP", "Detail"]}
        rows={pages.items}
        rowKey={(e) => e.id}
        row={(e) => (
          <>
            <Table.Td>{formatDate(e.at)}</Table.Td>
            <Table.Td>{e.actor}</Table.Td>
            <Table.Td>
              <Text size="sm" ff="monospace">
                {e.action}
              </Text>
            </Table.Td>
            <Table.Td>
              <Text size="sm" ff="monospace">
                {e.target ?? "—"}
              </Text>
            </Table.Td>
            <Table.Td>
              <StateBadge state={e.result} />
            </Table.Td>
            <Table.Td>{e.ip}</Table.Td>
            <Table.Td>{e.detail ?? ""}</Table.Td>
          </>
        )}
        minWidth={900}
        striped
        error={pages.query.error}
        errorTitle="The audit log could not be read"
        pending={pages.query.isPending}
        empty="No audit entry matches."
      />
      <Pager pages={pages} />
    </Stack>
  )
}

export default AuditPage
