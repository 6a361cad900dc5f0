/** The catalog: templates to launch, searchable, by category; Launch starts a session and goes to "My sessions". */
import {
  Badge,
  Button,
  Card,
  Chip,
  Group,
  Image,
  Loader,
  SimpleGrid,
  Skeleton,
  Stack,
  Text,
  TextInput,
  ThemeIcon
} from "@mantine/core"
import { useDebouncedValue } from "@mantine/hooks"
import { IconSearch } from "@tabler/icons-react"
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { api, unwrap } from "../api/ApiClient.ts"
import type { ResponseOf } from "../api/Types.ts"
import { useSession } from "../auth/Session.tsx"
import { useNavigate } from "../Router.tsx"
import { categoriesOf, iconFor, usableIconUrl } from "./Catalog.ts"
import { EmptyState, ErrorAlert, LoadMore, notifyError, notifySuccess, PageHeader, useWholeCatalog } from "./Common.tsx"
import { formatCpu, formatMemory } from "./SessionState.ts"

type Page = ResponseOf<"/api/templates">
type Template = Page["items"][number]

const PAGE = 48

const TemplateIcon = ({ template }: { readonly template: Template }) => {
  const [broken, setBroken] = useState(false)
  const url = usableIconUrl(template.iconUrl)
  if (url && !broken) {
    return <Image src={url} alt="" w={40} h={40} fit="contain" onError={() => setBroken(true)} />
  }
  const Icon = iconFor(template)
  return (
    <ThemeIcon size={40} radius="md" variant="light" aria-hidden>
      <Icon size={24} />
    </ThemeIcon>
  )
}

const TemplateCard = ({ template }: { readonly template: Template }) => {
  const session = useSession()
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const [launching, setLaunching] = useState(false)
  const launch = async () => {
    setLaunching(true)
    try {
      unwrap(await api.POST("/api/sessions", { body: { templateId: template.id } }))
      await queryClient.invalidateQueries({ queryKey: ["sessions"] })
      notifySuccess(`${template.displayName} is starting`)
      navigate("/sessions")
    } catch (e) {
      notifyError(e, `Could not launch ${template.displayName}`)
    } finally {
      setLaunching(false)
    }
  }
  return (
    <Card withBorder padding="md" radius="md" component="article" aria-labelledby={`template-${template.id}`}>
      <Stack gap="sm" h="100%">
        <Group wrap="nowrap" align="flex-start">
          <TemplateIcon template={template} />
          <Stack gap={2} style={{ minWidth: 0 }}>
            <Text fw={600} id={`template-${template.id}`} component="h3" m={0} size="md">
              {template.displayName}
            </Text>
            <Text size="xs" c="dimmed">
              {template.category || "Uncategorised"} · {formatCpu(template.defaultCpu)} ·{" "}
              {formatMemory(template.defaultMemory)}
            </Text>
          </Stack>
        </Group>
        <Text size="sm" lineClamp={3} style={{ flex: 1 }}>
          {template.description || "No description."}
        </Text>
        {template.tags.length > 0 && (
          <Group gap={4}>
            {template.tags.slice(0, 5).map((tag) => (
              <Badge key={tag} variant="outline" size="sm" radius="sm">
                {tag}
              </Badge>
            ))}
          </Group>
        )}
        {!template.enabled && (
          <Badge color="gray" variant="default">
            Disabled
          </Badge>
        )}
        {session.can("sessions:write") && (
          <Button
            onClick={launch}
            loading={launching}
            disabled={!template.enabled}
            aria-label={`Launch ${template.displayName}`}
          >
            Launch
          </Button>
        )}
      </Stack>
    </Card>
  )
}

export const CatalogPage = () => {
  const [search, setSearch] = useState("")
  const [q] = useDebouncedValue(search.trim(), 250)
  const [category, setCategory] = useState<string>("")
  // The categories: from the whole catalog, so choosing one does not hide the others.
  const all = useWholeCatalog()
  const categories = categoriesOf(all.data?.items ?? [])
  const list = useInfiniteQuery({
    queryKey: ["templates", { q, category }],
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: Page) => last.nextCursor ?? undefined,
    queryFn: async ({ pageParam }): Promise<ResponseOf<"/api/templates">> =>
      unwrap(
        await api.GET("/api/templates", {
          params: {
            query: {
              limit: String(PAGE),
              ...(pageParam ? { cursor: pageParam } : {}),
              ...(q ? { q } : {}),
              ...(category ? { category } : {})
            }
          }
        })
      )
  })
  const items = list.data?.pages.flatMap((p) => p.items) ?? []
  return (
    <Stack>
      <PageHeader title="Catalog" description="Applications and desktops you can launch." />
      <Group align="flex-end" wrap="wrap">
        <TextInput
          label="Search the catalog"
          placeholder="Name, description or tag"
          leftSection={<IconSearch size={16} />}
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          w={{ base: "100%", sm: 320 }}
          type="search"
        />
        {list.isFetching && !list.isFetchingNextPage && <Loader size="sm" aria-label="Searching" />}
      </Group>
      {categories.length > 0 && (
        <Chip.Group multiple={false} value={category} onChange={(v) => setCategory(v)}>
          <Group gap="xs" role="group" aria-label="Categories">
            <Chip value="">All</Chip>
            {categories.map((c) => (
              <Chip key={c} value={c}>
                {c}
              </Chip>
            ))}
          </Group>
        </Chip.Group>
      )}
      {list.isError ? (
        <ErrorAlert error={list.error} />
      ) : list.isPending ? (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3, xl: 4 }}>
          {[0, 1, 2].map((i) => (
            <Skeleton key={i} h={200} radius="md" />
          ))}
        </SimpleGrid>
      ) : items.length === 0 ? (
        <EmptyState title={q || category ? "Nothing matches" : "The catalog is empty"}>
          {q || category
            ? "Try another search or category."
            : "An administrator adds applications under Administration → Templates."}
        </EmptyState>
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3, xl: 4 }}>
          {items.map((t) => (
            <TemplateCard key={t.id} template={t} />
          ))}
        </SimpleGrid>
      )}
      <LoadMore list={list} />
    </Stack>
  )
}

export default CatalogPage
