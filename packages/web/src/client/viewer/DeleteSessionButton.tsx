/** "Delete" in the viewer's bar: ends the session after a confirmation. */
import { Button, Group, Modal, Stack, Text } from "@mantine/core"
import { notifications } from "@mantine/notifications"
import { IconTrash } from "@tabler/icons-react"
import { useMutation, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"

export const DeleteSessionButton = ({
  sessionId,
  name,
  disabled,
  onDeleted
}: {
  readonly sessionId: string
  readonly name: string
  readonly disabled: boolean
  readonly onDeleted: () => void
}) => {
  const [confirming, setConfirming] = useState(false)
  const queryClient = useQueryClient()
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/api/sessions/{id}", { params: { path: { id: sessionId } } })),
    onSuccess: (session) => {
      queryClient.setQueryData(["session", sessionId], session)
      void queryClient.invalidateQueries({ queryKey: ["sessions"] })
      notifications.show({ message: `Session ${name} is being deleted` })
      setConfirming(false)
      onDeleted()
    }
  })
  return (
    <>
      <Button
        variant="light"
        color="red"
        leftSection={<IconTrash size={16} />}
        disabled={disabled}
        onClick={() => setConfirming(true)}
      >
        Delete
      </Button>
      <Modal opened={confirming} onClose={() => setConfirming(false)} title="Delete this session?" centered>
        <Stack>
          <Text>
            The desktop of <b>{name}</b> stops and cannot be woken again.
          </Text>
          {remove.error && (
            <Text c="red" role="alert">
              {remove.error.message}
            </Text>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
            <Button color="red" loading={remove.isPending} onClick={() => remove.mutate()}>
              Delete session
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  )
}
