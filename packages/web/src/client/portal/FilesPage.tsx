/** A session's files: upload (with progress), download, delete. */
import { Button, FileButton, Group, Paper, Progress, Skeleton, Stack, Table, Text } from "@mantine/core"
import { IconDownload, IconTrash, IconUpload, IconX } from "@tabler/icons-react"
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { useRef, useState } from "react"
import { api, authorizedFetch, unwrap } from "../api/ApiClient.ts"
import { ApiError, problemOf } from "../api/Problem.ts"
import type { ResponseOf } from "../api/Types.ts"
import type { PageProps } from "../routes.ts"
import {
  ConfirmDialog,
  EmptyState,
  ErrorAlert,
  IconAction,
  InAppLink,
  ListTable,
  notifyError,
  notifySuccess,
  PageHeader,
  QueryStates,
  useTemplateNames
} from "./Common.tsx"
import { saveBlob } from "../ui/SaveBlob.ts"
import { formatBytes, percent, type UploadProgress } from "./SessionState.ts"
import { uploadFile } from "./Upload.ts"

type StoredFile = ResponseOf<"/api/sessions/{id}/files">["items"][number]

interface Uploading {
  readonly name: string
  readonly progress: UploadProgress
  readonly abort: AbortController
}

export const FilesPage = ({ params }: PageProps) => {
  const sessionId = params["id"] ?? ""
  const queryClient = useQueryClient()
  const [uploading, setUploading] = useState<Uploading>()
  const [uploadError, setUploadError] = useState<unknown>()
  const [deleting, setDeleting] = useState<StoredFile>()
  const resetRef = useRef<() => void>(null)
  const key = ["session", sessionId, "files"]
  const session = useQuery({
    queryKey: ["session", sessionId],
    queryFn: async () => unwrap(await api.GET("/api/sessions/{id}", { params: { path: { id: sessionId } } }))
  })
  const files = useQuery({
    queryKey: key,
    queryFn: async () => unwrap(await api.GET("/api/sessions/{id}/files", { params: { path: { id: sessionId } } }))
  })
  const upload = async (file: File | null) => {
    resetRef.current?.()
    if (!file) return
    const abort = new AbortController()
    setUploadError(undefined)
    setUploading({ name: file.name, progress: { loaded: 0, total: file.size }, abort })
    try {
      await uploadFile(sessionId, file, (progress) => setUploading({ name: file.name, progress, abort }), abort.signal)
      notifySuccess(`Uploaded ${file.name}`)
      await queryClient.invalidateQueries({ queryKey: key })
    } catch (e) {
      setUploadError(e)
    } finally {
      setUploading(undefined)
    }
  }
  const download = async (f: StoredFile) => {
    try {
      const res = await authorizedFetch(
        `/api/sessions/${encodeURIComponent(sessionId)}/files/${encodeURIComponent(f.id)}`
      )
      if (!res.ok) throw new ApiError(problemOf(res.status, await res.json().catch(() => undefined)))
      saveBlob(await res.blob(), f.name)
    } catch (e) {
      notifyError(e, `Could not download ${f.name}`)
    }
  }
  const remove = async (f: StoredFile) => {
    unwrap(await api.DELETE("/api/sessions/{id}/files/{fileId}", { params: { path: { id: sessionId, fileId: f.id } } }))
    notifySuccess(`Deleted ${f.name}`)
    await queryClient.invalidateQueries({ queryKey: key })
  }
  const names = useTemplateNames()
  const title = session.data ? `Files of ${names.get(session.data.templateId) ?? session.data.templateName}` : "Files"
  return (
    <Stack>
      <InAppLink to="/sessions">← My sessions</InAppLink>
      <PageHeader
        title={title}
        description="Files you upload here are kept in your storage for this session."
        actions={
          <FileButton onChange={(f) => void upload(f)} resetRef={resetRef}>
            {(props) => (
              <Button {...props} leftSection={<IconUpload size={16} />} disabled={uploading !== undefined}>
                Upload a file
              </Button>
            )}
          </FileButton>
        }
      />
      {uploading && (
        <Paper withBorder p="sm" radius="md">
          <Group justify="space-between" mb={6}>
            <Text size="sm">
              Uploading {uploading.name} — {formatBytes(uploading.progress.loaded)} of{" "}
              {formatBytes(uploading.progress.total)}
            </Text>
            <IconAction tooltip="Cancel upload" label="Cancel upload" onClick={() => uploading.abort.abort()}>
              <IconX size={16} />
            </IconAction>
          </Group>
          <Progress
            value={percent(uploading.progress)}
            aria-label={`Upload progress of ${uploading.name}`}
            animated
            size="lg"
          />
        </Paper>
      )}
      {uploadError !== undefined && <ErrorAlert error={uploadError} title="Upload failed" />}
      <QueryStates
        query={files}
        loading={<Skeleton h={120} />}
        isEmpty={(data) => data.items.length === 0}
        empty={<EmptyState title="No files yet">Upload a file to make it available to this session.</EmptyState>}
      >
        {(data) => (
          <ListTable label="Files" columns={["Name", "Size", "Uploaded"]} striped highlightOnHover>
            {data.items.map((f) => (
              <Table.Tr key={f.id}>
                <Table.Td>{f.name}</Table.Td>
                <Table.Td>{formatBytes(f.size)}</Table.Td>
                <Table.Td>{new Date(f.createdAt).toLocaleString()}</Table.Td>
                <Table.Td>
                  <Group gap={4} justify="flex-end" wrap="nowrap">
                    <IconAction tooltip="Download" label={`Download ${f.name}`} onClick={() => void download(f)}>
                      <IconDownload size={16} />
                    </IconAction>
                    <IconAction tooltip="Delete" label={`Delete ${f.name}`} color="red" onClick={() => setDeleting(f)}>
                      <IconTrash size={16} />
                    </IconAction>
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </ListTable>
        )}
      </QueryStates>
      <ConfirmDialog
        opened={deleting !== undefined}
        title={`Delete ${deleting?.name ?? "file"}?`}
        confirmLabel="Delete file"
        onConfirm={() => (deleting ? remove(deleting) : Promise.resolve())}
        onClose={() => setDeleting(undefined)}
      >
        The file is removed from your storage. This cannot be undone.
      </ConfirmDialog>
    </Stack>
  )
}

export default FilesPage
