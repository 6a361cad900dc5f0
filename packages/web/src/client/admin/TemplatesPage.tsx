/** The app catalog: search, cursor pages, create, edit, enable/disable, delete (409 while sessions of it live). */
import {
  Button,
  NumberInput,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  TagsInput,
  Text,
  Textarea,
  TextInput
} from "@mantine/core"
import { useDebouncedValue } from "@mantine/hooks"
import { useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import type { ResponseOf } from "../api/Types.ts"
import { ProblemAlert, useSubmit } from "../ui/Problems.tsx"
import {
  DataTable,
  type Editing,
  EditorModal,
  FormActions,
  notifyDone,
  PageHeader,
  Pager,
  RowActions,
  StateBadge,
  useCursorPages
} from "./AdminUi.tsx"

type Template = ResponseOf<"/api/templates">["items"][number]

const numberOr = (v: string | number) => (typeof v === "number" ? v : undefined)

const TemplateForm = ({ template, onDone }: { readonly template?: Template; readonly onDone: () => void }) => {
  const queryClient = useQueryClient()
  const [name, setName] = useState(template?.name ?? "")
  const [displayName, setDisplayName] = useState(template?.displayName ?? "")
  const [description, setDescription] = useState(template?.description ?? "")
  const [image, setImage] = useState(template?.image ?? "")
  const [category, setCategory] = useState(template?.category ?? "general")
  const [tags, setTags] = useState<Array<string>>([...(template?.tags ?? [])])
  const [iconUrl, setIconUrl] = useState(template?.iconUrl ?? "")
  const [defaultCpu, setDefaultCpu] = useState<string | number>(template?.defaultCpu ?? "")
  const [defaultMemory, setDefaultMemory] = useState<string | number>(template?.defaultMemory ?? "")
  const [maxCpu, setMaxCpu] = useState<string | number>(template?.maxCpu ?? "")
  const [maxMemory, setMaxMemory] = useState<string | number>(template?.maxMemory ?? "")
  const [enabled, setEnabled] = useState(template?.enabled ?? true)
  const { submit, busy, error, fields } = useSubmit(async () => {
    const numbers = Object.fromEntries(
      Object.entries({
        defaultCpu: numberOr(defaultCpu),
        defaultMemory: numberOr(defaultMemory),
        maxCpu: numberOr(maxCpu),
        maxMemory: numberOr(maxMemory)
      }).filter(([, v]) => v !== undefined)
    )
    const common = {
      displayName,
      description,
      image,
      category,
      tags,
      iconUrl: iconUrl === "" ? null : iconUrl,
      enabled,
      ...numbers
    }
    if (template)
      unwrap(await api.PATCH("/api/templates/{id}", { params: { path: { id: template.id } }, body: common }))
    else unwrap(await api.POST("/api/templates", { body: { name, ...common } }))
    notifyDone(template ? `Saved ${displayName}` : `Created ${displayName}`)
    await queryClient.invalidateQueries({ queryKey: ["templates"] })
    onDone()
  })
  const placed = [
    "name",
    "displayName",
    "description",
    "image",
    "category",
    "tags",
    "iconUrl",
    "defaultCpu",
    "defaultMemory",
    "maxCpu",
    "maxMemory"
  ]
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <SimpleGrid cols={2}>
          <TextInput
            label="Name (id in URLs)"
            required
            disabled={template !== undefined}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={fields["name"]}
          />
          <TextInput
            label="Display name"
            required
            value={displayName}
            onChange={(e) => setDisplayName(e.currentTarget.value)}
            error={fields["displayName"]}
          />
        </SimpleGrid>
        <Textarea
          label="Description"
          value={description}
          onChange={(e) => setDescription(e.currentTarget.value)}
          error={fields["description"]}
        />
        <TextInput
          label="Container image"
          required
          placeholder="kasmweb/firefox:1.15.0"
          value={image}
          onChange={(e) => setImage(e.currentTarget.value)}
          error={fields["image"]}
        />
        <SimpleGrid cols={2}>
          <TextInput
            label="Category"
            value={category}
            onChange={(e) => setCategory(e.currentTarget.value)}
            error={fields["category"]}
          />
          <TagsInput label="Tags" value={tags} onChange={setTags} error={fields["tags"]} />
        </SimpleGrid>
        <TextInput
          label="Icon URL"
          value={iconUrl}
          onChange={(e) => setIconUrl(e.currentTarget.value)}
          error={fields["iconUrl"]}
        />
        <SimpleGrid cols={2}>
          <NumberInput
            label="Default CPU (millicores)"
            allowDecimal={false}
            value={defaultCpu}
            onChange={setDefaultCpu}
            error={fields["defaultCpu"]}
          />
          <NumberInput
            label="Default memory (MiB)"
            allowDecimal={false}
            value={defaultMemory}
            onChange={setDefaultMemory}
            error={fields["defaultMemory"]}
          />
          <NumberInput
            label="Max CPU (millicores)"
            allowDecimal={false}
            value={maxCpu}
            onChange={setMaxCpu}
            error={fields["maxCpu"]}
          />
          <NumberInput
            label="Max memory (MiB)"
            allowDecimal={false}
            value={maxMemory}
            onChange={setMaxMemory}
            error={fields["maxMemory"]}
          />
        </SimpleGrid>
        <Switch
          label="Enabled (shown in the catalog)"
          checked={enabled}
          onChange={(e) => setEnabled(e.currentTarget.checked)}
        />
        <ProblemAlert error={error} placed={placed} title="Not saved" />
        <FormActions busy={busy} submitLabel={template ? "Save" : "Create template"} onCancel={onDone} />
      </Stack>
    </form>
  )
}

export const TemplatesPage = () => {
  const queryClient = useQueryClient()
  const [search, setSearch] = useState("")
  const [q] = useDebouncedValue(search.trim(), 250)
  const [editing, setEditing] = useState<Editing<Template>>()
  const pages = useCursorPages(["templates", { q, admin: true }], async (cursor) =>
    unwrap(
      await api.GET("/api/templates", {
        params: { query: { limit: "25", ...(cursor ? { cursor } : {}), ...(q ? { q } : {}) } }
      })
    )
  )
  const remove = async (t: Template) => {
    unwrap(await api.DELETE("/api/templates/{id}", { params: { path: { id: t.id } } }))
    notifyDone(`Deleted ${t.displayName}`)
    await queryClient.invalidateQueries({ queryKey: ["templates"] })
  }
  return (
    <Stack gap="sm">
      <PageHeader
        title="Templates"
        description="The app catalog users launch sessions from."
        actions={<Button onClick={() => setEditing("new")}>New template</Button>}
      />
      <TextInput label="Search templates" value={search} onChange={(e) => setSearch(e.currentTarget.value)} maw={360} />
      <DataTable
        label="Templates"
        columns={["App", "Image", "Category", "Resources", "State", "Actions"]}
        rows={pages.items}
        rowKey={(t) => t.id}
        row={(t) => (
          <>
            <Table.Td>
              <Text size="sm" fw={600}>
                {t.displayName}
              </Text>
              <Text size="xs" c="dimmed">
                {t.name}
              </Text>
            </Table.Td>
            <Table.Td>
              <Text size="sm" ff="monospace">
                {t.image}
              </Text>
            </Table.Td>
            <Table.Td>{t.category}</Table.Td>
            <Table.Td>
              {t.defaultCpu}m / {t.defaultMemory} MiB (max {t.maxCpu}m / {t.maxMemory} MiB)
            </Table.Td>
            <Table.Td>
              <StateBadge state={t.enabled ? "enabled" : "disabled"} />
            </Table.Td>
            <Table.Td>
              <RowActions
                name={t.displayName}
                onEdit={() => setEditing(t)}
                deleteConfirmLabel="Delete template"
                consequence="The app leaves the catalog. This is refused while sessions of it are live."
                onDelete={() => remove(t)}
              />
            </Table.Td>
          </>
        )}
        minWidth={800}
        striped
        error={pages.query.error}
        errorTitle="Templates could not be read"
        pending={pages.query.isPending}
        empty={q ? `No template matches “${q}”.` : "The catalog is empty."}
      />
      <Pager pages={pages} />
      <EditorModal
        editing={editing}
        onClose={() => setEditing(undefined)}
        newTitle="New template"
        editTitle={(t) => `Edit ${t.displayName}`}
        size="lg"
        form={(t, done) => <TemplateForm template={t} onDone={done} />}
      />
    </Stack>
  )
}

export default TemplatesPage
