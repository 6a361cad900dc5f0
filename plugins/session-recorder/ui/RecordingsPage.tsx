/**
 * The recorder's portal page: the caller's recordings (all of them for
 * recording admins) with status, size and length, and the player
 * (`?recording=<id>`, ui/player/): noVNC fed from `GET
 * /recordings/:id/stream` in the browser, no live desktop involved.
 */
import {
  Alert,
  Button,
  Group,
  Loader,
  Stack,
  Text,
  Title,
  useLocation,
  useNavigate,
  usePluginApi
} from "@streamspace/web/sdk"
import { DataTable } from "@streamspace/web/sdk"
import { useQuery } from "@tanstack/react-query"
import { Player } from "./player/Player.tsx"

interface Recording {
  readonly id: string
  readonly sessionId: string
  readonly status: string
  readonly reason: string | null
  readonly sizeBytes: number
  readonly durationMs: number
  readonly startedAt: string
  readonly error: string | null
}

export default function RecordingsPage() {
  const api = usePluginApi()
  const location = useLocation()
  const navigate = useNavigate()
  const playing = location.search.get("recording")
  const recordings = useQuery({
    queryKey: ["plugin", api.plugin, "recordings"],
    queryFn: () => api.get<{ items: ReadonlyArray<Recording> }>("/recordings")
  })
  if (playing)
    return (
      <Stack>
        <Group justify="space-between">
          <Title order={2} size="h4">
            Recording {playing.slice(0, 8)}
          </Title>
          <Button variant="default" onClick={() => navigate(location.pathname)}>
            Back to recordings
          </Button>
        </Group>
        <Player key={playing} id={playing} />
      </Stack>
    )
  if (recordings.isPending) return <Loader aria-label="Loading recordings" />
  if (recordings.isError)
    return (
      <Alert color="red" title="The recordings could not be loaded">
        {recordings.error.message}
      </Alert>
    )
  const rows = recordings.data.items.map((r) => ({
    ...r,
    length: `${Math.round(r.durationMs / 1000)} s`,
    size: `${Math.round(r.sizeBytes / 1024)} KiB`,
    note: r.error ?? r.reason ?? ""
  }))
  return (
    <Stack>
      <Text>Sessions recorded at the VNC proxy, encrypted at rest.</Text>
      <DataTable
        caption="Recordings"
        rows={rows}
        pageSize={20}
        rowKey={(r) => r.id}
        columns={[
          { key: "startedAt", title: "Started" },
          { key: "sessionId", title: "Session" },
          { key: "status", title: "Status" },
          { key: "length", title: "Length", align: "right" },
          { key: "size", title: "Size", align: "right" },
          { key: "note", title: "Reason / error" },
          {
            key: "play",
            title: "Playback",
            render: (r) =>
              r.status === "recording" ? (
                "—"
              ) : (
                <Button
                  size="xs"
                  variant="light"
                  aria-label={`Play recording of ${r.startedAt}`}
                  onClick={() => navigate(`${location.pathname}?recording=${encodeURIComponent(r.id)}`)}
                >
                  Play
                </Button>
              )
          }
        ]}
      />
    </Stack>
  )
}
