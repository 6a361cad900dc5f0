/**
 * Scheduled sessions in the console: your schedules with their next
 * occurrence, a form to create or change one (each bad field shown under
 * it, as the server names it), the occurrences the executor launched, the
 * subscribe URL of your iCalendar feed (rotate, revoke, download) and your
 * Google / Outlook connections with their sync status.
 */
import {
  Alert,
  Anchor,
  ApiError,
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  DataTable,
  fieldErrors,
  Group,
  Loader,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  Textarea,
  TextInput,
  Title,
  notify,
  useCan,
  usePluginApi
} from "@streamspace/web/sdk"
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import {
  type AutoStop,
  describeRecurrence,
  empty,
  type FormState,
  type Frequency,
  fromSchedule,
  type ScheduleBody,
  toBody,
  type Weekday,
  weekdays
} from "./lib/ScheduleForm.ts"

interface Schedule extends ScheduleBody {
  readonly id: string
  readonly sequence: number
  readonly nextOccurrence: { readonly start: string; readonly end: string } | null
}
interface Occurrence {
  readonly id: string
  readonly scheduleId: string
  readonly startsAt: string
  readonly endsAt: string
  readonly state: string
  readonly sessionId: string | null
  readonly error: string | null
}
interface Integration {
  readonly provider: "google" | "microsoft"
  readonly connectedAt: string
  readonly lastSyncedAt: string | null
  readonly lastError: string | null
}

const providers = [
  { id: "google", label: "Google Calendar" },
  { id: "microsoft", label: "Outlook" }
] as const

const stateColor = (state: string) =>
  state === "running" || state === "completed"
    ? "green"
    : state === "failed" || state === "missed"
      ? "red"
      : state === "pending"
        ? "blue"
        : "gray"

/** Badges keep their whole word in narrow cells (Mantine truncates them by default). */
const badgeStyles = { root: { maxWidth: "none", flexShrink: 0, overflow: "visible" }, label: { overflow: "visible" } }

const when = (iso: string) => new Date(iso).toLocaleString()
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"

export default function CalendarPage() {
  const api = usePluginApi()
  const canWrite = useCan("calendar:write")
  const queryClient = useQueryClient()
  const key = (...rest: ReadonlyArray<string>) => ["plugin", api.plugin, ...rest]
  const refresh = () => queryClient.invalidateQueries({ queryKey: key() })

  const [editing, setEditing] = useState<string | null>(null)
  const [form, setForm] = useState<FormState>(() => empty(browserZone()))
  const [feedUrl, setFeedUrl] = useState<{ url: string; webcalUrl: string } | null>(null)
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setForm((f) => ({ ...f, [k]: v }))
  const connected = new URLSearchParams(window.location.search).get("connected")

  const schedules = useQuery({
    queryKey: key("schedules"),
    queryFn: () => api.get<{ items: ReadonlyArray<Schedule> }>("/schedules")
  })
  const occurrences = useQuery({
    queryKey: key("occurrences"),
    refetchInterval: 15_000,
    queryFn: () => api.get<{ items: ReadonlyArray<Occurrence> }>("/occurrences?limit=50")
  })
  const feed = useQuery({
    queryKey: key("feed"),
    queryFn: () => api.get<{ active: boolean; createdAt: string | null }>("/feed")
  })
  const integrations = useQuery({
    queryKey: key("integrations"),
    queryFn: () => api.get<{ items: ReadonlyArray<Integration> }>("/integrations")
  })

  const save = useMutation({
    mutationFn: () =>
      editing
        ? api.patch<Schedule>(`/schedules/${editing}`, toBody(form))
        : api.post<Schedule>("/schedules", toBody(form)),
    onSuccess: async (saved) => {
      notify({ title: editing ? "Schedule changed" : "Schedule created", message: saved.name, color: "green" })
      setEditing(null)
      setForm(empty(form.timeZone))
      await refresh()
    }
  })
  const remove = useMutation({
    mutationFn: (id: string) => api.delete(`/schedules/${id}`),
    onSuccess: async () => {
      notify({ title: "Schedule deleted", message: "Its future occurrences will not run", color: "green" })
      await refresh()
    }
  })
  const rotate = useMutation({
    mutationFn: () => api.post<{ url: string; webcalUrl: string }>("/feed/rotate"),
    onSuccess: async (r) => {
      setFeedUrl(r)
      await refresh()
    }
  })
  const revoke = useMutation({
    mutationFn: () => api.delete("/feed"),
    onSuccess: async () => {
      setFeedUrl(null)
      await refresh()
    }
  })
  const connect = useMutation({
    mutationFn: (provider: string) => api.post<{ authUrl: string }>(`/connect/${provider}`),
    onSuccess: (r) => window.location.assign(r.authUrl)
  })
  const syncNow = useMutation({
    mutationFn: (provider: string) => api.post(`/integrations/${provider}/sync`),
    onSuccess: refresh
  })
  const disconnect = useMutation({
    mutationFn: (provider: string) => api.delete(`/integrations/${provider}`),
    onSuccess: refresh
  })

  const download = async () => {
    const res = await api.fetch("/calendar.ics")
    if (!res.ok) {
      notify({ title: "Download failed", message: `HTTP ${res.status}`, color: "red" })
      return
    }
    const href = URL.createObjectURL(await res.blob())
    const a = document.createElement("a")
    a.href = href
    a.download = "streamspace.ics"
    a.click()
    URL.revokeObjectURL(href)
  }

  const problem = save.error
  const errors = problem instanceof ApiError ? fieldErrors(problem.problem) : {}
  const err = (path: string) => errors[path]
  const names = new Map((schedules.data?.items ?? []).map((s) => [s.id, s.name]))

  if (schedules.isPending) return <Loader aria-label="Loading schedules" />
  if (schedules.isError)
    return (
      <Alert color="red" title="Schedules could not be loaded">
        {schedules.error.message}
      </Alert>
    )

  return (
    <Stack>
      {/* The console's page header already names the page (h2): sections are h3. */}
      {connected ? (
        <Text role="status" fw={500}>
          {connected === "microsoft" ? "Outlook" : "Google Calendar"} is connected; your schedules are copied there.
        </Text>
      ) : null}

      <DataTable
        caption="My schedules"
        rows={schedules.data.items}
        rowKey={(s) => s.id}
        empty="No scheduled sessions yet: create one below."
        columns={[
          { key: "name", title: "Name" },
          { key: "start", title: "Starts", render: (s) => `${s.start.replace("T", " ")} (${s.timeZone})` },
          { key: "durationMinutes", title: "Minutes", align: "right" },
          { key: "recurrence", title: "Repeats", render: (s) => describeRecurrence(s) },
          {
            key: "nextOccurrence",
            title: "Next",
            render: (s) => (s.nextOccurrence ? when(s.nextOccurrence.start) : "—")
          },
          {
            key: "enabled",
            title: "State",
            render: (s) => (
              <Badge variant="dot" color={s.enabled ? "green" : "gray"} styles={badgeStyles}>
                {s.enabled ? "enabled" : "paused"}
              </Badge>
            )
          },
          {
            key: "actions",
            title: "Actions",
            render: (s) =>
              canWrite ? (
                <Group gap="xs" wrap="nowrap">
                  <Button
                    size="compact-sm"
                    variant="default"
                    onClick={() => {
                      setEditing(s.id)
                      setForm(fromSchedule(s))
                      save.reset()
                    }}
                  >
                    Edit
                  </Button>
                  <Button
                    size="compact-sm"
                    color="red"
                    variant="light"
                    loading={remove.isPending && remove.variables === s.id}
                    onClick={() => remove.mutate(s.id)}
                  >
                    Delete
                  </Button>
                </Group>
              ) : null
          }
        ]}
      />

      {canWrite ? (
        <Card component="section" withBorder aria-label="Schedule form">
          <form
            onSubmit={(e) => {
              e.preventDefault()
              save.mutate()
            }}
          >
            <Stack>
              <Group justify="space-between">
                <Title order={3}>{editing ? "Change the schedule" : "New scheduled session"}</Title>
                {editing ? (
                  <Button
                    variant="default"
                    onClick={() => {
                      setEditing(null)
                      setForm(empty(form.timeZone))
                      save.reset()
                    }}
                  >
                    New instead
                  </Button>
                ) : null}
              </Group>
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <TextInput
                  label="Name"
                  required
                  value={form.name}
                  error={err("name")}
                  onChange={(e) => set("name", e.currentTarget.value)}
                />
                <TextInput
                  label="Template id"
                  description="The app to launch (its id in the catalog)"
                  required
                  value={form.templateId}
                  error={err("templateId")}
                  onChange={(e) => set("templateId", e.currentTarget.value)}
                />
                <TextInput
                  label="Starts (local time)"
                  type="datetime-local"
                  required
                  value={form.start}
                  error={err("start")}
                  onChange={(e) => set("start", e.currentTarget.value)}
                />
                <TextInput
                  label="Time zone"
                  description="IANA name, e.g. Europe/Paris"
                  required
                  value={form.timeZone}
                  error={err("timeZone")}
                  onChange={(e) => set("timeZone", e.currentTarget.value)}
                />
                <NumberInput
                  label="Duration (minutes)"
                  min={1}
                  value={form.durationMinutes}
                  error={err("durationMinutes")}
                  onChange={(v) => set("durationMinutes", Number(v) || 0)}
                />
                <Select
                  label="Repeats"
                  allowDeselect={false}
                  data={[
                    { value: "ONCE", label: "Once" },
                    { value: "DAILY", label: "Daily" },
                    { value: "WEEKLY", label: "Weekly" },
                    { value: "MONTHLY", label: "Monthly" }
                  ]}
                  value={form.frequency}
                  error={err("recurrence") ?? err("recurrence.freq")}
                  onChange={(v) => set("frequency", (v ?? "ONCE") as Frequency)}
                />
              </SimpleGrid>
              {form.frequency !== "ONCE" ? (
                <SimpleGrid cols={{ base: 1, sm: 2 }}>
                  <NumberInput
                    label="Every (interval)"
                    min={1}
                    value={form.interval}
                    error={err("recurrence.interval")}
                    onChange={(v) => set("interval", Number(v) || 1)}
                  />
                  {form.frequency === "WEEKLY" ? (
                    <Checkbox.Group
                      label="On"
                      value={[...form.byDay]}
                      error={err("recurrence.byDay")}
                      onChange={(v) => set("byDay", v as Array<Weekday>)}
                    >
                      <Group gap="xs" mt={4}>
                        {weekdays.map((d) => (
                          <Checkbox key={d} value={d} label={d} />
                        ))}
                      </Group>
                    </Checkbox.Group>
                  ) : form.frequency === "MONTHLY" ? (
                    <TextInput
                      label="Days of the month"
                      description="Comma-separated; -1 is the last day"
                      value={form.byMonthDay}
                      error={err("recurrence.byMonthDay")}
                      onChange={(e) => set("byMonthDay", e.currentTarget.value)}
                    />
                  ) : (
                    <div />
                  )}
                  <Select
                    label="Ends"
                    allowDeselect={false}
                    data={[
                      { value: "never", label: "Never" },
                      { value: "count", label: "After a number of times" },
                      { value: "until", label: "On a date" }
                    ]}
                    value={form.end}
                    onChange={(v) => set("end", (v ?? "never") as FormState["end"])}
                  />
                  {form.end === "count" ? (
                    <NumberInput
                      label="Times"
                      min={1}
                      value={form.count}
                      error={err("recurrence.count")}
                      onChange={(v) => set("count", Number(v) || 1)}
                    />
                  ) : form.end === "until" ? (
                    <TextInput
                      label="Last date"
                      type="date"
                      value={form.until}
                      error={err("recurrence.until")}
                      onChange={(e) => set("until", e.currentTarget.value)}
                    />
                  ) : (
                    <div />
                  )}
                  <TextInput
                    label="Except on"
                    description="Comma-separated dates (YYYY-MM-DD)"
                    value={form.exceptions}
                    error={err("exceptions")}
                    onChange={(e) => set("exceptions", e.currentTarget.value)}
                  />
                </SimpleGrid>
              ) : null}
              <SimpleGrid cols={{ base: 1, sm: 3 }}>
                <NumberInput
                  label="Start early (minutes)"
                  min={0}
                  max={240}
                  value={form.preWarmMinutes}
                  error={err("preWarmMinutes")}
                  onChange={(v) => set("preWarmMinutes", Number(v) || 0)}
                />
                <Select
                  label="At the end"
                  allowDeselect={false}
                  data={[
                    { value: "hibernate", label: "Hibernate the session" },
                    { value: "delete", label: "Delete the session" },
                    { value: "none", label: "Leave it running" }
                  ]}
                  value={form.autoStop}
                  onChange={(v) => set("autoStop", (v ?? "hibernate") as AutoStop)}
                />
                <Switch
                  label="Enabled"
                  mt="lg"
                  checked={form.enabled}
                  onChange={(e) => set("enabled", e.currentTarget.checked)}
                />
              </SimpleGrid>
              <Textarea
                label="Description"
                autosize
                minRows={2}
                value={form.description}
                error={err("description")}
                onChange={(e) => set("description", e.currentTarget.value)}
              />
              {problem && Object.keys(errors).length === 0 ? (
                <Alert color="red" title="The schedule was refused">
                  {problem.message}
                </Alert>
              ) : null}
              <Group>
                <Button type="submit" loading={save.isPending}>
                  {editing ? "Save changes" : "Create schedule"}
                </Button>
              </Group>
            </Stack>
          </form>
        </Card>
      ) : null}

      <DataTable
        caption="Occurrences"
        rows={occurrences.data?.items ?? []}
        rowKey={(o) => o.id}
        empty={occurrences.isPending ? "Loading…" : "No occurrence launched or planned yet."}
        columns={[
          { key: "scheduleId", title: "Schedule", render: (o) => names.get(o.scheduleId) ?? o.scheduleId },
          { key: "startsAt", title: "Starts", render: (o) => when(o.startsAt) },
          { key: "endsAt", title: "Ends", render: (o) => when(o.endsAt) },
          {
            key: "state",
            title: "State",
            render: (o) => (
              <Badge variant="dot" color={stateColor(o.state)} styles={badgeStyles}>
                {o.state}
              </Badge>
            )
          },
          { key: "sessionId", title: "Session" },
          { key: "error", title: "Error" }
        ]}
      />

      <Card component="section" withBorder aria-label="Calendar feed">
        <Stack>
          <Title order={3}>Subscribe from a calendar app</Title>
          <Text size="sm">
            {feed.data?.active
              ? `A subscribe URL is active since ${when(feed.data.createdAt ?? "")}. It is shown only when made: make a new one to see it again (the old one stops working).`
              : "No subscribe URL yet. Make one and add it to your calendar app; anyone holding it can read your schedule."}
          </Text>
          {feedUrl ? (
            // Plain text on the page's background: tinted alerts fail WCAG contrast for their title and links.
            <Stack gap={4} role="status" aria-label="Your subscribe URL">
              <Text fw={600}>Your subscribe URL (shown once)</Text>
              <Anchor href={feedUrl.webcalUrl}>Open in your calendar app</Anchor>
              <Code block>{feedUrl.url}</Code>
            </Stack>
          ) : null}
          <Group>
            {canWrite ? (
              <Button onClick={() => rotate.mutate()} loading={rotate.isPending}>
                {feed.data?.active ? "Rotate the URL" : "Make a subscribe URL"}
              </Button>
            ) : null}
            {canWrite && feed.data?.active ? (
              <Button color="red" variant="light" onClick={() => revoke.mutate()} loading={revoke.isPending}>
                Revoke
              </Button>
            ) : null}
            <Button variant="default" onClick={() => void download()}>
              Download .ics
            </Button>
          </Group>
        </Stack>
      </Card>

      <Card component="section" withBorder aria-label="Connected calendars">
        <Stack>
          <Title order={3}>Google Calendar and Outlook</Title>
          {connect.error ? (
            <Alert color="red" title="Could not start connecting">
              {connect.error.message}
            </Alert>
          ) : null}
          {providers.map((p) => {
            const i = integrations.data?.items.find((x) => x.provider === p.id)
            return (
              <Group key={p.id} justify="space-between">
                <Stack gap={0}>
                  <Text fw={500}>{p.label}</Text>
                  <Text size="sm" c="dimmed">
                    {i
                      ? `Connected ${when(i.connectedAt)}; ${i.lastSyncedAt ? `synced ${when(i.lastSyncedAt)}` : "not synced yet"}`
                      : "Not connected"}
                  </Text>
                  {i?.lastError ? (
                    <Text size="sm" c="red">
                      {i.lastError}
                    </Text>
                  ) : null}
                </Stack>
                {canWrite ? (
                  i ? (
                    <Group gap="xs">
                      <Button size="compact-sm" variant="default" onClick={() => syncNow.mutate(p.id)}>
                        Sync now
                      </Button>
                      <Button size="compact-sm" color="red" variant="light" onClick={() => disconnect.mutate(p.id)}>
                        Disconnect
                      </Button>
                    </Group>
                  ) : (
                    <Button size="compact-sm" onClick={() => connect.mutate(p.id)} loading={connect.isPending}>
                      Connect
                    </Button>
                  )
                ) : null}
              </Group>
            )
          })}
        </Stack>
      </Card>
    </Stack>
  )
}
