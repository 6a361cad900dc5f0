/**
 * The recording player: loads the recording's timeline (`GET
 * /recordings/:id`) and its decrypted records (`GET /recordings/:id/stream`,
 * logged as a playback), and plays them through noVNC (Replayer.ts) with
 * play/pause, speed 0.5–8×, and a timeline showing input activity that
 * seeks on change.
 */
import { Alert, Badge, Button, Group, Loader, Paper, Stack, Text, usePluginApi } from "@streamspace/web/sdk"
import { useQuery } from "@tanstack/react-query"
import { useEffect, useRef, useState } from "react"
import { type Connection, connections, decodableFormat, decode } from "./Records.ts"
import { Replayer, type ReplayerState, speeds } from "./Replayer.ts"

interface Detail {
  readonly recording: { readonly id: string; readonly sessionId: string; readonly durationMs: number }
  readonly keyframes: ReadonlyArray<number>
  readonly input: ReadonlyArray<readonly [number, string]>
}

const clock = (ms: number) => {
  const s = Math.floor(ms / 1000)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`
}

const markColour: Record<string, string> = {
  key: "var(--mantine-color-blue-7)",
  pointer: "var(--mantine-color-orange-8)",
  clipboard: "var(--mantine-color-grape-7)"
}

export function Player({ id }: { readonly id: string }) {
  const api = usePluginApi()
  const loaded = useQuery({
    queryKey: ["plugin", api.plugin, "recording", id, "playback"],
    // Played once per opening: a playback is logged, and the bytes are not cached.
    gcTime: 0,
    staleTime: Number.POSITIVE_INFINITY,
    queryFn: async () => {
      const detail = await api.get<Detail>(`/recordings/${encodeURIComponent(id)}`)
      const res = await api.fetch(`/recordings/${encodeURIComponent(id)}/stream`)
      if (!res.ok) {
        const problem = (await res.json().catch(() => ({}))) as { detail?: string; title?: string }
        throw new Error(problem.detail ?? problem.title ?? `the recording could not be loaded (${res.status})`)
      }
      const records = decode(new Uint8Array(await res.arrayBuffer()))
      const lastT = records.reduce((t, r) => Math.max(t, r.t), 0)
      return { detail, connections: connections(records), duration: Math.max(detail.recording.durationMs, lastT) }
    }
  })
  if (loaded.isPending) return <Loader aria-label="Loading the recording" />
  if (loaded.isError)
    return (
      <Alert color="red" title="The recording cannot be played">
        {loaded.error.message}
      </Alert>
    )
  const { detail, duration } = loaded.data
  if (loaded.data.connections.length === 0)
    return (
      <Alert color="yellow" title="Nothing to play">
        No desktop connection was recorded (nobody connected while recording).
      </Alert>
    )
  return <Stage connections={loaded.data.connections} duration={duration} input={detail.input} />
}

function Stage({
  connections: recorded,
  duration,
  input
}: {
  readonly connections: ReadonlyArray<Connection>
  readonly duration: number
  readonly input: ReadonlyArray<readonly [number, string]>
}) {
  const screen = useRef<HTMLDivElement>(null)
  const replayer = useRef<Replayer | undefined>(undefined)
  const [state, setState] = useState<ReplayerState>({
    position: 0,
    playing: false,
    speed: 1,
    connection: undefined,
    lastSeek: undefined
  })
  useEffect(() => {
    if (!screen.current) return
    const r = new Replayer(screen.current, recorded, duration, setState)
    replayer.current = r
    return () => {
      r.destroy()
      replayer.current = undefined
    }
  }, [recorded, duration])

  const wrongColours = recorded.some((c) => !decodableFormat(c))
  const counts = input.reduce<Record<string, number>>((n, [, k]) => ({ ...n, [k]: (n[k] ?? 0) + 1 }), {})
  const summary = Object.entries(counts)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ")
  return (
    <Stack gap="sm">
      {wrongColours && (
        <Alert color="yellow" title="Colours may be wrong">
          A recorded client asked for a pixel format other than the player's (noVNC's 32-bit true colour).
        </Alert>
      )}
      <Paper
        withBorder
        ref={screen}
        role="img"
        aria-label="Recorded desktop"
        style={{ height: 480, overflow: "hidden", background: "#1a1b1e" }}
      />
      <Group gap="xs" wrap="nowrap">
        <Button
          onClick={() => (state.playing ? replayer.current?.pause() : replayer.current?.play())}
          aria-label={state.playing ? "Pause" : "Play"}
          w={90}
        >
          {state.playing ? "Pause" : "Play"}
        </Button>
        <Text size="sm" aria-live="off" data-playback-position={Math.round(state.position)} style={{ minWidth: 90 }}>
          {clock(state.position)} / {clock(duration)}
        </Text>
        <div style={{ position: "relative", flex: 1 }}>
          <div
            role="img"
            aria-label={summary ? `Input activity: ${summary}` : "No input recorded"}
            style={{ position: "relative", height: 10 }}
          >
            {input.map(([t, kind], i) => (
              <span
                key={i}
                data-input-mark={kind}
                title={`${kind} at ${clock(t)}`}
                style={{
                  position: "absolute",
                  left: `${duration > 0 ? (100 * t) / duration : 0}%`,
                  width: 2,
                  height: 10,
                  background: markColour[kind] ?? "gray"
                }}
              />
            ))}
          </div>
          <input
            type="range"
            aria-label="Position"
            aria-valuetext={`${clock(state.position)} of ${clock(duration)}`}
            min={0}
            max={Math.max(1, Math.round(duration))}
            step={100}
            value={Math.round(state.position)}
            onChange={(e) => replayer.current?.seek(Number(e.currentTarget.value))}
            style={{ width: "100%" }}
          />
        </div>
      </Group>
      <Group gap="xs" role="group" aria-label="Speed">
        {speeds.map((s) => (
          <Button
            key={s}
            size="xs"
            variant={state.speed === s ? "filled" : "default"}
            aria-pressed={state.speed === s}
            onClick={() => replayer.current?.setSpeed(s)}
          >
            {s}×
          </Button>
        ))}
        {recorded.length > 1 && <Badge variant="light">{recorded.length} connections</Badge>}
      </Group>
      <Text
        size="xs"
        c="dimmed"
        data-seek-drawn-from={state.lastSeek ? Math.round(state.lastSeek.drawnFrom) : undefined}
        data-seek-keyframe={state.lastSeek ? String(state.lastSeek.keyframe) : undefined}
        data-seek-undrawn={state.lastSeek?.undrawnRecords}
      >
        {state.lastSeek?.keyframe
          ? `Seek: drawn from the keyframe at ${clock(state.lastSeek.drawnFrom)}, fast-forwarded to ${clock(state.lastSeek.target)}.`
          : "Seeking draws from the nearest keyframe before the chosen moment (a full picture the recorder asks for every few seconds) and fast-forwards from there."}
      </Text>
    </Stack>
  )
}
