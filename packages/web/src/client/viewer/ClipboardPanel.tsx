/**
 * The clipboard between this computer and the remote desktop: what the
 * desktop last copied (noVNC's `clipboard` event) and text to paste into it.
 * The core has no clipboard policy; a view share's clipboard messages are
 * dropped by the VNC proxy, so sending is offered only to those who control.
 */
import { ActionIcon, Button, Group, Popover, Stack, Text, Textarea } from "@mantine/core"
import { notifications } from "@mantine/notifications"
import { IconClipboard, IconCopy, IconSend } from "@tabler/icons-react"
import { useRef, useState } from "react"

export const ClipboardPanel = ({
  remoteText,
  canSend,
  viewOnly,
  onSend,
  onDone
}: {
  readonly remoteText: string
  readonly canSend: boolean
  readonly viewOnly: boolean
  readonly onSend: (text: string) => void
  /** Gives the keyboard back to the remote desktop. */
  readonly onDone: () => void
}) => {
  const [opened, setOpened] = useState(false)
  const [text, setText] = useState("")
  /** Set by "Send": the desktop takes the keyboard back once the dropdown is gone (closing moves focus). */
  const sent = useRef(false)
  const copyLocally = () =>
    navigator.clipboard.writeText(remoteText).then(
      () => notifications.show({ message: "Copied to this computer's clipboard" }),
      (e: unknown) =>
        notifications.show({
          color: "red",
          title: "The browser refused the clipboard",
          message: e instanceof Error ? e.message : String(e)
        })
    )
  return (
    <Popover
      opened={opened}
      onChange={setOpened}
      position="bottom-end"
      width={360}
      trapFocus
      shadow="md"
      onExitTransitionEnd={() => {
        if (!sent.current) return
        sent.current = false
        onDone()
      }}
    >
      <Popover.Target>
        <ActionIcon
          variant={opened ? "filled" : "default"}
          size="lg"
          aria-label="Clipboard"
          title="Clipboard"
          aria-expanded={opened}
          onClick={() => setOpened((o) => !o)}
        >
          <IconClipboard size={18} />
        </ActionIcon>
      </Popover.Target>
      <Popover.Dropdown>
        <Stack gap="sm">
          <Textarea
            label="Copied on the remote desktop"
            description={remoteText ? undefined : "Nothing copied on the remote desktop yet."}
            value={remoteText}
            readOnly
            autosize
            minRows={2}
            maxRows={6}
          />
          <Group justify="flex-end">
            <Button
              size="xs"
              variant="default"
              leftSection={<IconCopy size={14} />}
              disabled={!remoteText}
              onClick={() => void copyLocally()}
            >
              Copy to this computer
            </Button>
          </Group>
          <Textarea
            label="Paste to the remote desktop"
            description={
              viewOnly ? "You have view access: nothing is sent." : "Sent as the remote clipboard; paste it there."
            }
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            disabled={viewOnly}
            autosize
            minRows={2}
            maxRows={6}
          />
          <Group justify="flex-end">
            <Button
              size="xs"
              leftSection={<IconSend size={14} />}
              disabled={!canSend || text.length === 0}
              onClick={() => {
                onSend(text)
                sent.current = true
                setOpened(false)
              }}
            >
              Send to the remote clipboard
            </Button>
          </Group>
          {!canSend && !viewOnly && (
            <Text size="xs" c="dimmed">
              Available once the desktop is connected.
            </Text>
          )}
        </Stack>
      </Popover.Dropdown>
    </Popover>
  )
}
