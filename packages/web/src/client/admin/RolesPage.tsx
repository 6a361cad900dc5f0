/** Roles and the permissions they grant (read-only: roles are fixed, plugins add permissions). */
import { Badge, Card, Group, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core"
import { useQuery } from "@tanstack/react-query"
import { api, unwrap } from "../api/ApiClient.ts"
import { ErrorAlert, Loading, PageHeader } from "./AdminUi.tsx"

export const RolesPage = () => {
  const roles = useQuery({ queryKey: ["roles"], queryFn: async () => unwrap(await api.GET("/api/roles")) })
  if (roles.isPending) return <Loading />
  if (roles.error) return <ErrorAlert error={roles.error} title="Roles could not be read" />
  const descriptions = new Map(roles.data.permissions.map((p) => [p.name, p.description]))
  return (
    <Stack>
      <PageHeader
        title="Roles"
        description="What each role may do. Assign roles on the Users page; plugins add their own permissions."
      />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        {roles.data.items.map((r) => (
          <Card withBorder key={r.name}>
            <Title order={3} size="h4">
              {r.name}
            </Title>
            <Text size="sm" c="dimmed" mb="xs">
              {r.description}
            </Text>
            <Group gap={6}>
              {r.permissions.map((p) => (
                <Badge key={p} variant="default" title={descriptions.get(p)} tt="none">
                  {p}
                </Badge>
              ))}
            </Group>
          </Card>
        ))}
      </SimpleGrid>
      <Title order={3} size="h4">
        Permissions
      </Title>
      <Table.ScrollContainer minWidth={600}>
        <Table striped aria-label="Permissions">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Permission</Table.Th>
              <Table.Th>Meaning</Table.Th>
              <Table.Th>From</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {roles.data.permissions.map((p) => (
              <Table.Tr key={p.name}>
                <Table.Td>
                  <Text size="sm" ff="monospace">
                    {p.name}
                  </Text>
                </Table.Td>
                <Table.Td>{p.description}</Table.Td>
                <Table.Td>{p.owner}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  )
}

export default RolesPage
