/**
 * "Monitor layouts": the caller's sessions with the layout each gets, and
 * buttons that open the session's desktop window (the one stream) and one
 * window per monitor; the presets, to save one as the caller's default; the
 * caller's saved layouts and the templates' layouts.
 */
import {
  Alert,
  ApiError,
  Badge,
  Box,
  Button,
  Card,
  Group,
  Loader,
  notify,
  SimpleGrid,
  Stack,
  Text,
  Title,
  usePluginApi
} from "@streamspace/web/sdk"
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import { type Layout, openDesktop, openMonitor, type SessionLayout } from "./lib/windows.ts"

/** The layout drawn to scale: one outlined box per monitor. */
const Preview = ({ layout }: { readonly layout: Layout }) => {
  const scale = 220 / Math.max(layout.width, layout.height)
  return (
    <Box
      aria-hidden
      style={{ position: "relative", width: layout.width * scale, height: layout.height * scale, margin: "4px 0" }}
    >
      {layout.monitors.map((m) => (
        <Box
          key={m.name}
          style={{
            position: "absolute",
            left: m.x * scale,
            top: m.y * scale,
            width: m.width * scale - 2,
            height: m.height * scale - 2,
            border: `1px solid ${m.primary ? "var(--mantine-color-blue-6)" : "var(--mantine-color-gray-6)"}`,
            fontSize: 11,
            padding: 2,
            overflow: "hidden"
          }}
        >
          {m.name}
        </Box>
      ))}
    </Box>
  )
}

export default function LayoutsPage() {
  const api = usePluginApi()
  const queryClient = useQueryClient()
  const key = (name: string) => ["plugin", api.plugin, name]
  const sessions = useQuery({
    queryKey: key("sessions"),
    queryFn: () => api.get<{ items: ReadonlyArray<SessionLayout> }>("/sessions")
  })
  const presets = useQuery({
    queryKey: key("presets"),
    queryFn: () => api.get<{ items: ReadonlyArray<Layout> }>("/presets")
  })
  const layouts = useQuery({
    queryKey: key("layouts"),
    queryFn: () => api.get<{ items: ReadonlyArray<Layout> }>("/layouts")
  })
  const refresh = async () => {
    for (const name of ["sessions", "layouts"]) await queryClient.invalidateQueries({ queryKey: key(name) })
  }
  const save = useMutation({
    mutationFn: (preset: Layout) =>
      api.post<Layout>("/layouts", { name: preset.name, monitors: preset.monitors, isDefault: true }),
    onSuccess: async (saved) => {
      notify({ title: "Layout saved", message: `${saved.name} is your default layout`, color: "green" })
      await refresh()
    },
    onError: (e) => notify({ title: "Not saved", message: e instanceof ApiError ? e.message : String(e), color: "red" })
  })
  const remove = useMutation({
    mutationFn: (layout: Layout) => api.delete(`/layouts/${encodeURIComponent(layout.id)}`),
    onSuccess: refresh
  })

  if (sessions.isPending || presets.isPending || layouts.isPending) return <Loader aria-label="Loading layouts" />
  if (sessions.isError || presets.isError || layouts.isError)
    return (
      <Alert color="red" title="Layouts could not be loaded">
        {(sessions.error ?? presets.error ?? layouts.error)?.message}
      </Alert>
    )

  return (
    <Stack>
      <Title order={3}>Open a session on several monitors</Title>
      <Text size="sm">
        Open the desktop first: it is the one connection every monitor window draws from. Then open each monitor window
        and move it to its screen.
      </Text>
      {sessions.data.items.length === 0 ? (
        <Text c="dimmed">You have no sessions.</Text>
      ) : (
        sessions.data.items.map((s) => (
          <Card withBorder key={s.sessionId} aria-label={`Session ${s.sessionId}`}>
            <Group justify="space-between" align="flex-start">
              <Stack gap={4}>
                <Group>
                  <Text fw={600}>Session {s.sessionId.slice(0, 8)}</Text>
                  <Badge>{s.state}</Badge>
                </Group>
                <Text size="sm">
                  {s.layout.name}: {s.layout.monitors.length} monitor(s), {s.layout.width}×{s.layout.height}
                </Text>
                <Preview layout={s.layout} />
              </Stack>
              <Group>
                <Button onClick={() => openDesktop(s.sessionId)}>Open desktop</Button>
                {s.layout.monitors.map((m, i) => (
                  <Button key={m.name} variant="light" onClick={() => openMonitor(s.sessionId, i, m)}>
                    Open monitor {i + 1} ({m.name})
                  </Button>
                ))}
              </Group>
            </Group>
          </Card>
        ))
      )}
      <Title order={3}>Your layouts and the templates' layouts</Title>
      {layouts.data.items.length === 0 ? (
        <Text c="dimmed">None saved: sessions get their template's layout or the default preset.</Text>
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
          {layouts.data.items.map((l) => (
            <Card withBorder key={l.id}>
              <Group justify="space-between">
                <Text fw={600}>{l.name}</Text>
                <Group gap={4}>
                  <Badge variant="light">{l.scope}</Badge>
                  {l.isDefault && <Badge>default</Badge>}
                </Group>
              </Group>
              <Preview layout={l} />
              {l.scope === "user" && (
                <Button size="xs" variant="default" color="red" onClick={() => remove.mutate(l)}>
                  Delete {l.name}
                </Button>
              )}
            </Card>
          ))}
        </SimpleGrid>
      )}
      <Title order={3}>Presets</Title>
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        {presets.data.items.map((p) => (
          <Card withBorder key={p.id}>
            <Text fw={600}>{p.name}</Text>
            <Preview layout={p} />
            <Button size="xs" onClick={() => save.mutate(p)} loading={save.isPending && save.variables?.id === p.id}>
              Use {p.id.replace("preset:", "")} as my default
            </Button>
          </Card>
        ))}
      </SimpleGrid>
    </Stack>
  )
}
