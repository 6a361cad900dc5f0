/**
 * Whether the session on screen is being recorded (the session-recorder
 * plugin's `GET /api/plugins/session-recorder/sessions/:id/recording`,
 * read every 10 s and when the connection comes up), shown as a red
 * "Recording" badge in the viewer's bar, and — where the recording's policy
 * asks for it — a consent notice the user acknowledges once per recording
 * (kept in sessionStorage). Without the plugin (404: not installed, disabled,
 * or not the owner) nothing shows.
 */
import { Alert, Badge, Button, Group, Text } from "@mantine/core"
import { IconPlayerRecordFilled } from "@tabler/icons-react"
import { useQuery } from "@tanstack/react-query"
import { useState } from "react"
import { fetchJson } from "../api/ApiClient.ts"
import { ApiError } from "../api/Problem.ts"

export interface RecordingState {
  readonly recording: boolean
  readonly recordingId: string | null
  readonly startedAt: string | null
  readonly reason: string | null
  readonly isAutomatic: boolean
  readonly consentNotice: boolean
}

const notRecorded: RecordingState = {
  recording: false,
  recordingId: null,
  startedAt: null,
  reason: null,
  isAutomatic: false,
  consentNotice: false
}

export const recordingQueryKey = (sessionId: string) => ["session", sessionId, "recording"] as const

/** The answer when the recorder's route is not there (plugin absent or disabled): nothing to poll for. */
const noRecorder: RecordingState = { ...notRecorded }

export const useRecordingState = (sessionId: string, connected: boolean) =>
  useQuery({
    // `connected` in the key: a (re)connect reads it again at once (and finds a recorder enabled since).
    queryKey: [...recordingQueryKey(sessionId), connected],
    refetchInterval: (query) => (query.state.data === noRecorder ? false : 10_000),
    retry: false,
    queryFn: async (): Promise<RecordingState> => {
      try {
        const state = await fetchJson<Partial<RecordingState>>(
          `/api/plugins/session-recorder/sessions/${encodeURIComponent(sessionId)}/recording`
        )
        return { ...notRecorded, ...state }
      } catch (e) {
        if (e instanceof ApiError && (e.problem.status === 404 || e.problem.status === 403)) return noRecorder
        throw e
      }
    }
  })

const since = (iso: string | null) => (iso ? new Date(iso).toLocaleTimeString() : "")

export const RecordingBadge = ({ state }: { readonly state: RecordingState | undefined }) =>
  state?.recording ? (
    <Badge
      color="red"
      variant="filled"
      leftSection={<IconPlayerRecordFilled size={12} aria-hidden />}
      data-testid="recording-indicator"
      title={`Recorded since ${since(state.startedAt)}${state.reason ? ` (${state.reason})` : ""}`}
      role="status"
      aria-label="This session is being recorded"
    >
      Recording
    </Badge>
  ) : null

const ackKey = (recordingId: string) => `streamspace.recording.acknowledged.${recordingId}`

export const ConsentNotice = ({ state }: { readonly state: RecordingState | undefined }) => {
  const id = state?.recording && state.consentNotice ? state.recordingId : null
  const [acknowledged, setAcknowledged] = useState<ReadonlySet<string>>(() => new Set())
  if (!id || acknowledged.has(id) || sessionStorage.getItem(ackKey(id)) === "yes") return null
  return (
    <Alert color="red" title="This session is recorded" data-testid="recording-consent">
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Text size="sm">
          Everything shown on this desktop and everything you type (passwords included) is recorded
          {state?.reason ? ` (${state.reason})` : ""}. Recordings are encrypted and kept for the time your
          organisation&apos;s policy sets; every playback is logged.
        </Text>
        <Button
          size="xs"
          onClick={() => {
            sessionStorage.setItem(ackKey(id), "yes")
            setAcknowledged((s) => new Set([...s, id]))
          }}
        >
          I understand
        </Button>
      </Group>
    </Alert>
  )
}
