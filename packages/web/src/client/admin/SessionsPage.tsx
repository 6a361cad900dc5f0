/**
 * Every session (`GET /api/sessions` lists all of them for sessions:admin),
 * filtered by state, with its owner, and hibernate / end actions.
 */
import { Button, Group, Select, Stack, Table, Text } from "@mantine/core"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import type { ResponseOf } from "../api/Types.ts"
import { useSession } from "../auth/Session.tsx"
import {
  ConfirmButton,
  DataTable,
  formatDate,
  notifyDone,
  PageHeader,
  Pager,
  StateBadge,
  useCursorPages,
  useRowAction
} from "./AdminUi.tsx"

type Session = ResponseOf<"/api/sessions">["items"][number]
type State = Session["state"]

/** The owner's username (one cached lookup per user; the id when users may not be read). */
const Owner = ({ userId }: { readonly userId: string }) => {
  const session = useSession()
  const user = useQuery({
    queryKey: ["users", "by-id", userId],
    enabled: session.can("users:read"),
    staleTime: 5 * 60_000,
    queryFn: async () => unwrap(await api.GET("/api/users/{id}", { params: { path: { id: userId } } }))
  })
  return <Text size="sm">{user.data?.username ?? userId}</Text>
}

export const SessionsPage = () => {
  const queryClient = useQueryClient()
  const [state, setState] = useState<State | null>(null)
  const { busy, run } = useRowAction()
  const pages = useCursorPages(["admin-sessions", state], async (cursor) =>
    unwrap(
      await api.GET("/api/sessions", {
        params: { query: { limit: "25", ...(cursor ? { cursor } : {}), ...(state ? { state } : {}) } }
      })
    )
  )
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: ["admin-sessions"] })
    await queryClient.invalidateQueries({ queryKey: ["admin-stats"] })
  }
  const hibernate = (s: Session) =>
    run(s.id, "Could not hibernate", async () => {
      unwrap(await api.POST("/api/sessions/{id}/hibernate", { params: { path: { id: s.id } } }))
      notifyDone(`Hibernating ${s.templateName}`)
      await refresh()
    })
  const end = async (s: Session) => {
    unwrap(await api.DELETE("/api/sessions/{id}", { params: { path: { id: s.id } } }))
    notifyDone(`Ending ${s.templateName}`)
    await refresh()
  }
  return (
    <Stack gap="sm">
      <PageHeader
        title="All sessions"
        description="Every user's sessions, newest first."
        actions={
          <Button variant="default" onClick={refresh}>
            Refresh
          </Button>
        }
      />
      <Select
        label="State"
        placeholder="Any state"
        clearable
        data={["pending", "running", "hibernated", "terminated", "failed"]}
        value={state}
        onChange={(v) => setState(v as State | null)}
        maw={220}
      />
      <DataTable
        label="Sessions"
        columns={["App", "Owner", "State", "Runtime", "Resources", "Last activity", "Created", "Actions"]}
        rows={pages.items}
        rowKey={(s) => s.id}
        row={(s) => (
          <>
            <Table.Td>{s.templateName}</Table.Td>
            <Table.Td>
              <Owner userId={s.userId} />
            </Table.Td>
            <Table.Td>
              <StateBadge state={s.state} />
              {s.desired !== s.state && (
                <Text span size="xs" c="dimmed" ml={4}>
                  → {s.desired}
                </Text>
              )}
              {s.reason && (
                <Text size="xs" c="dimmed">
                  {s.reason}
                </Text>
              )}
            </Table.Td>
            <Table.Td>{s.runtime}</Table.Td>
            <Table.Td>
              {s.cpu}m CPU · {s.memory} MiB
            </Table.Td>
            <Table.Td>{formatDate(s.lastActivityAt)}</Table.Td>
            <Table.Td>{formatDate(s.createdAt)}</Table.Td>
            <Table.Td>
              <Group gap="xs" wrap="nowrap">
                {s.state === "running" && s.desired === "running" && (
                  <Button size="xs" variant="default" loading={busy === s.id} onClick={() => hibernate(s)}>
                    Hibernate
                  </Button>
                )}
                {s.state !== "terminated" && s.desired !== "terminated" && (
                  <ConfirmButton
                    label="End"
                    ariaLabel={`End session ${s.id}`}
                    title="End this session?"
                    confirmLabel="End session"
                    onConfirm={() => end(s)}
                  >
                    <Text size="sm">
                      The desktop stops for its owner and everyone it is shared with. Unsaved work in it is lost; the
                      record stays as history.
                    </Text>
                  </ConfirmButton>
                )}
              </Group>
            </Table.Td>
          </>
        )}
        minWidth={900}
        striped
        error={pages.query.error}
        errorTitle="Sessions could not be read"
        pending={pages.query.isPending}
        empty={`No sessions${state ? ` in state ${state}` : ""}.`}
      />
      <Pager pages={pages} />
    </Stack>
  )
}

export default SessionsPage
