/** The frame around every page: header (edition, theme, account menu) and the navigation by area. */
import {
  ActionIcon,
  AppShell,
  Burger,
  Group,
  Menu,
  NavLink,
  ScrollArea,
  Text,
  Title,
  useComputedColorScheme,
  useMantineColorScheme
} from "@mantine/core"
import { useDisclosure } from "@mantine/hooks"
import { IconLogout, IconMoon, IconSun, IconUserCircle } from "@tabler/icons-react"
import type { ReactNode } from "react"
import { useSession } from "../auth/Session.tsx"
import type { ConsoleRoute } from "../routes.ts"
import { matchPath, useLocation, useNavigate } from "../Router.tsx"

const NavSection = ({ label, routes }: { readonly label: string; readonly routes: ReadonlyArray<ConsoleRoute> }) => {
  const location = useLocation()
  const navigate = useNavigate()
  if (routes.length === 0) return null
  return (
    <nav aria-label={label}>
      <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" pt="md" pb={4}>
        {label}
      </Text>
      {routes.map((r) => {
        const Icon = r.icon
        return (
          <NavLink
            key={r.path}
            href={r.path}
            label={r.title}
            leftSection={Icon ? <Icon size={18} /> : undefined}
            active={matchPath(r.path, location.pathname) !== undefined}
            onClick={(e) => {
              e.preventDefault()
              navigate(r.path)
            }}
          />
        )
      })}
    </nav>
  )
}

export const Shell = ({
  routes,
  edition,
  children
}: {
  readonly routes: ReadonlyArray<ConsoleRoute>
  readonly edition?: string
  readonly children: ReactNode
}) => {
  const [opened, { toggle }] = useDisclosure()
  const { setColorScheme } = useMantineColorScheme()
  const scheme = useComputedColorScheme("light")
  const session = useSession()
  const navigate = useNavigate()
  const visible = routes.filter((r) => r.nav && (!r.permission || session.can(r.permission)))
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 240, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="sm">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={1} size="h4">
              StreamSpace
            </Title>
            {edition && (
              <Text size="sm" c="dimmed" data-testid="edition">
                {edition}
              </Text>
            )}
          </Group>
          <Group gap="xs">
            <ActionIcon
              variant="default"
              size="lg"
              aria-label={scheme === "dark" ? "Switch to light theme" : "Switch to dark theme"}
              onClick={() => setColorScheme(scheme === "dark" ? "light" : "dark")}
            >
              {scheme === "dark" ? <IconSun size={18} /> : <IconMoon size={18} />}
            </ActionIcon>
            <Menu position="bottom-end">
              <Menu.Target>
                <ActionIcon variant="default" size="lg" aria-label="Account menu">
                  <IconUserCircle size={18} />
                </ActionIcon>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>{session.me?.displayName || session.me?.username}</Menu.Label>
                <Menu.Item leftSection={<IconUserCircle size={16} />} onClick={() => navigate("/account")}>
                  Account
                </Menu.Item>
                <Menu.Item leftSection={<IconLogout size={16} />} onClick={() => void session.logout()}>
                  Log out
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        <ScrollArea>
          <NavSection label="Workspace" routes={visible.filter((r) => r.nav === "portal")} />
          <NavSection label="Administration" routes={visible.filter((r) => r.nav === "admin")} />
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
    </AppShell>
  )
}
